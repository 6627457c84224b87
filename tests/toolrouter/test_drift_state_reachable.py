"""A detector's saved test statistics that no updates could produce are refused, naming them, and
change nothing."""

from __future__ import annotations

import pytest

from toolrouter.drift import Cusum, PageHinkley
from toolrouter.errors import CorruptStateError


def _fed(detector, samples=(0.1, -0.1) * 20):
    for x in samples:
        detector.update(x)
    return detector.state_dict()


@pytest.mark.parametrize(
    "stats, error",
    [({"up": 5.0, "up_min": 5.0}, r"up_min must be <= 0, got 5.0"), ({"down": -5.0, "down_max": -5.0}, r"down_max must be >= 0, got -5.0")],
)
def test_page_hinkley_refuses_extremes_on_the_wrong_side_of_zero(stats: dict, error: str) -> None:
    state = _fed(PageHinkley(min_samples=3))
    state["statistics"] = {**state["statistics"], **stats}
    detector = PageHinkley(min_samples=3)
    before = detector.state_dict()
    # up_min = 5 hid five units of a rise: the test fired that much later
    with pytest.raises(CorruptStateError, match=r"^state.statistics." + error):
        detector.load_state_dict(state)
    assert detector.state_dict() == before


def test_cusum_refuses_a_scale_below_min_scale_naming_it() -> None:
    state = _fed(Cusum(min_samples=10, min_scale=0.05))
    state["statistics"]["scale"] = 1e-4
    detector = Cusum(min_samples=10, min_scale=0.05)
    before = detector.state_dict()
    with pytest.raises(CorruptStateError, match=r"state.statistics.scale .* min_scale=0.05, got 0.0001"):
        detector.load_state_dict(state)
    assert detector.state_dict() == before
    unstandardized = _fed(Cusum(min_samples=10, standardize=False))
    unstandardized["statistics"]["scale"] = 2.0
    with pytest.raises(CorruptStateError, match=r"state.statistics.scale .* 1 without standardize, got 2.0"):
        Cusum(min_samples=10, standardize=False).load_state_dict(unstandardized)


@pytest.mark.parametrize("min_scale", [0.05, 3.0])
def test_the_states_updates_produce_load(min_scale: float) -> None:
    # before its warm-up a detector's scale is 1, whatever min_scale
    for samples in ((0.1, -0.1), (0.1, -0.1) * 20, (5.0, -5.0) * 20):
        for make in (lambda: Cusum(min_samples=10, min_scale=min_scale), lambda: PageHinkley(min_scale=min_scale)):
            state = _fed(make(), samples)
            detector = make()
            detector.load_state_dict(state)
            assert detector.state_dict() == state
