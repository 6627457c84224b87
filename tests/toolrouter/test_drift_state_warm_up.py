"""A saved detector still warming up (fewer than ``min_samples`` samples since its reset) has only
counted its samples: test statistics, samples since a change began or a last gain that it could not
have are refused, naming the field and the value, and change nothing."""

from __future__ import annotations

import pytest

from toolrouter.drift import Cusum, PageHinkley, detector_from_state
from toolrouter.errors import CorruptStateError


def _warming_up(make):
    detector = make()
    for x in (0.1, -0.1):
        detector.update(x)
    assert detector.n < detector.min_samples
    return detector.state_dict()


MAKERS = {"page_hinkley": lambda: PageHinkley(min_samples=25), "cusum": lambda: Cusum(min_samples=30)}
DAMAGE = {
    "page_hinkley": [("statistics", {"up": 40.0, "up_min": 0.0, "down": 0.0, "down_max": 0.0}, "'up': 40.0")],
    "cusum": [
        ("statistics", {"high": 19.0, "low": 0.0, "reference": 0.0, "scale": 1.0}, "'high': 19.0"),
        ("statistics", {"high": 0.0, "low": 0.0, "reference": 3.0, "scale": 0.2}, "'reference': 3.0"),
    ],
}
COMMON = [
    ("post_change", {"up": {"n": 7, "mean": 1.0, "m2": 0.5}, "down": {"n": 0, "mean": 0.0, "m2": 0.0}}, "'n': 7"),
    ("gain", 12.0, "12.0"),
]


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_a_warming_up_state_with_statistics_it_could_not_have_is_refused(kind: str) -> None:
    make = MAKERS[kind]
    for field, value, shown in DAMAGE[kind] + COMMON:
        state = _warming_up(make)
        state[field] = value
        detector = make()
        before = detector.state_dict()
        # it loaded: a page_hinkley up of 40 read as a rise found (rechecks at every call), and the
        # test fired at the first sample after the warm-up
        with pytest.raises(CorruptStateError, match=rf"^state\.{field}: .*min_samples=\d+.*got .*{shown}"):
            detector.load_state_dict(state)
        assert detector.state_dict() == before
        with pytest.raises(CorruptStateError, match=rf"^state\.{field}"):
            detector_from_state(state)


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_states_updates_produce_still_load(kind: str) -> None:
    make = MAKERS[kind]
    detector = make()
    warming = []
    # through the warm-up, then a run of failures: its samples warm the new regime up
    for ok in (True, False) * 15 + (False,) * 25:
        detector.update(float(ok), ok)
        state = detector.state_dict()
        again = make()
        again.load_state_dict(state)
        assert again.state_dict() == state
        warming.append(detector.detections > 0 and detector.n < detector.min_samples)
    assert any(warming)


@pytest.mark.parametrize("field", ["moments", "runs.moments", "post_change.up"])
@pytest.mark.parametrize("moments", [{"n": 1, "mean": 0.5, "m2": 100.0}, {"n": 0, "mean": 0.0, "m2": 4.0}, {"n": 0, "mean": 3.0, "m2": 0.0}])
def test_moments_of_fewer_samples_than_they_need_are_refused(field: str, moments: dict) -> None:
    state = _warming_up(MAKERS["page_hinkley"])
    k = moments["n"]
    if field == "runs.moments":  # a run of k successes, as its counts have it
        state["runs"] = {"n": k, "failures": 0, "length": k, "success": True if k else None, "moments": moments, "gain": 0.0}
    elif field == "post_change.up":
        state["post_change"]["up"] = moments
    else:
        state["moments"] = moments
    detector = MAKERS["page_hinkley"]()
    before = detector.state_dict()
    # an m2 of 100 from no samples stayed through the next ones: a scale of 10 that hid any change
    with pytest.raises(CorruptStateError, match=rf"^state\.{field}: .*n < 2.*'n': {moments['n']}"):
        detector.load_state_dict(state)
    assert detector.state_dict() == before


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_more_samples_since_a_change_began_than_after_the_warm_up_are_refused(kind: str) -> None:
    detector = MAKERS[kind]()
    for x in (0.1, -0.1) * 20:
        detector.update(x)
    state = detector.state_dict()
    after_warm_up = detector.n - detector.min_samples
    state["post_change"]["down"] = {"n": after_warm_up + 1, "mean": 0.0, "m2": 0.01 * (after_warm_up + 1)}
    fresh = MAKERS[kind]()
    before = fresh.state_dict()
    # it loaded, and a detection made them the new regime's record: samples it never saw
    with pytest.raises(CorruptStateError, match=rf"^state\.post_change\.down\.n: .*got {after_warm_up + 1}$"):
        fresh.load_state_dict(state)
    assert fresh.state_dict() == before
    state["post_change"]["down"]["n"] = after_warm_up  # as many as that loads
    fresh.load_state_dict(state)
