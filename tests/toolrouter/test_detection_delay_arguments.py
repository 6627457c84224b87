"""detection_delay refuses every argument that is not what it says, naming it, before measuring."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.drift import PageHinkley, detection_delay


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"seeds": True}, r"^seeds: expected an integer >= 1, got True"),
        ({"seeds": -1}, r"^seeds: expected an integer >= 1, got -1"),
        ({"seeds": [0, 1.5]}, r"^seeds\[1\]: expected an integer >= 0, got 1.5"),
        ({"seeds": 2.0}, r"^seeds: expected a count or a sequence of seeds, got 2.0"),
        ({"shift": "1"}, r"^shift: expected a finite number, got '1'"),
        ({"change_at": 10.5}, r"^change_at: expected an integer >= 0, got 10.5"),
        ({"horizon": True}, r"^horizon: expected an integer >= 1, got True"),
    ],
)
def test_a_bad_argument_is_refused_naming_it(kwargs: dict, message: str) -> None:
    args = {"shift": 0.5, "noise": 0.3, "seeds": 1, "change_at": 10, "horizon": 5, **kwargs}
    with pytest.raises((TypeError, ValueError), match=message):
        detection_delay(PageHinkley, **args)


def test_a_factory_that_is_not_callable_is_refused_naming_it() -> None:
    with pytest.raises(TypeError, match=r"^detector_factory: expected a callable"):
        detection_delay(5, 0.5, 0.3, seeds=1)  # type: ignore[arg-type]


def test_numpy_integers_are_taken_as_counts_and_seeds() -> None:
    plain = detection_delay(PageHinkley, 1.0, 0.1, seeds=[3, 4], change_at=20, horizon=30)
    numpy = detection_delay(PageHinkley, np.float64(1.0), 0.1, seeds=[np.int64(3), np.uint8(4)], change_at=np.int32(20), horizon=np.int64(30))
    assert numpy == plain and plain.seeds == 2 and plain.missed == 0
