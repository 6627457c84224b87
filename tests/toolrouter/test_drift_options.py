"""A detector built directly takes what its configuration takes: numpy numbers as Python floats
(``DetectorConfig`` took ``threshold=np.float32(8)``, ``PageHinkley`` refused it), and refuses the
same values, naming the field."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolrouter.drift import Cusum, DetectorConfig, PageHinkley, detection_delay, detector_from_state


@pytest.mark.parametrize("field, value", [("threshold", np.float32(8.0)), ("clip", np.float32(2.5)), ("delta", np.int64(0)),
                                          ("min_scale", np.float32(0.25))])
def test_numpy_numbers_are_taken_as_the_configuration_takes_them(field, value) -> None:
    detector = PageHinkley(**{field: value})
    assert getattr(detector, field) == float(value) and type(getattr(detector, field)) is float
    assert getattr(DetectorConfig(**{field: value}).make(), field) == getattr(detector, field)
    state = json.loads(json.dumps(detector.state_dict()))
    assert detector_from_state(state).state_dict() == detector.state_dict()


@pytest.mark.parametrize("field, value", [("threshold", "16"), ("clip", True), ("delta", -0.1), ("min_scale", 0.0),
                                          ("threshold", float("inf"))])
def test_a_value_that_is_no_positive_finite_number_is_refused_naming_it(field, value) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: expected a finite number"):
        Cusum(**{field: value})


def test_detection_delay_takes_a_numpy_noise() -> None:
    result = detection_delay(PageHinkley, shift=1.0, noise=np.float32(0.1), seeds=1, change_at=20, horizon=50)
    assert result.missed == 0


def _state(detector) -> str:
    return json.dumps(detector.state_dict(), sort_keys=True)


@pytest.mark.parametrize(
    "call, message",
    [(lambda d: d.update(0.1, True, rise_run="no"), r"^rise_run must be a bool, got 'no'"),
     (lambda d: d.update(0.1, None, request=object()), r"^request: expected real numbers"),
     (lambda d: d.update(0.1, None, request=[float("nan")]), r"^request must be a 1-d vector of finite numbers")],
)
def test_update_refuses_a_bad_argument_and_changes_nothing(call, message) -> None:
    # rise_run="no" was taken as true (a run of successes could fire); a bad request passed
    # unchecked when the outcome had no success to judge
    detector = PageHinkley(recheck_after=50)
    for i in range(20):
        detector.update(float(i % 3), i % 3 > 0, request=[float(i % 4), 1.0])
    before = _state(detector)
    with pytest.raises(ValueError, match=message):
        call(detector)
    assert _state(detector) == before


@pytest.mark.parametrize("misses", [-1, True, 1.5, "2"])
def test_recheck_interval_refuses_misses_that_are_no_count(misses) -> None:
    detector = PageHinkley(recheck_after=100)
    with pytest.raises(ValueError, match=r"^misses: expected an integer >= 0"):
        detector.recheck_interval(misses)
    assert [detector.recheck_interval(m) for m in (0, np.int64(3), 9)] == [100, 200, 400]
