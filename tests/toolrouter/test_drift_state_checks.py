"""A detector's saved state is checked as a whole: what loads can be updated, judged and saved again."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolrouter.drift import DetectorConfig, PageHinkley, detection_delay, detector_from_state
from toolrouter.errors import CorruptStateError


def fed_state() -> dict:
    detector = DetectorConfig(min_samples=2).make()
    for ok in np.random.default_rng(0).random(40) >= 0.3:
        detector.update(float(ok), bool(ok))
    return json.loads(json.dumps(detector.state_dict()))


@pytest.mark.parametrize(
    "runs",
    [
        {"n": 10, "failures": 10, "length": 3, "success": True},  # a run of successes, none counted
        {"n": 10, "failures": 0, "length": 3, "success": False},  # a run of failures, none counted
        {"n": 10, "failures": 4, "length": 2, "success": None},  # a run of no kind
    ],
)
def test_a_run_its_record_does_not_hold_is_refused_naming_the_runs(runs: dict) -> None:
    state = fed_state()
    state["runs"] = {**runs, "moments": {"n": runs["length"], "mean": 1.0, "m2": 0.0}, "gain": 0.0}
    detector = PageHinkley(min_samples=2)
    before = detector.state_dict()
    # it loaded, and then every update, rise_evidence and recheck failed with 'math domain error'
    with pytest.raises(CorruptStateError, match="state.runs"):
        detector.load_state_dict(state)
    assert detector.state_dict() == before
    with pytest.raises(CorruptStateError, match="state.runs"):
        detector_from_state(state)



@pytest.mark.parametrize("bad", [3.0, "3", np.float64(3.0)])
def test_recheck_grace_given_as_a_float_or_a_text_is_refused_by_the_configuration_as_by_the_detector(bad: object) -> None:
    with pytest.raises(ValueError, match="recheck_grace"):
        PageHinkley(recheck_grace=bad)  # type: ignore[arg-type]
    # the configuration took 3.0 or "3" for 3 (the other counts it refused), and made a detector of it
    with pytest.raises(ValueError, match="recheck_grace"):
        DetectorConfig(recheck_grace=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="recheck_grace"):
        DetectorConfig.parse({"recheck_grace": bad})


def test_detection_delay_refuses_a_factory_that_makes_no_detector_or_one_already_used() -> None:
    # DetectorConfig is callable, but makes a configuration: it failed with an AttributeError on 'update'
    with pytest.raises(TypeError, match=r"^detector_factory: .* it made DetectorConfig"):
        detection_delay(DetectorConfig, 0.5, 0.3, seeds=1, change_at=10, horizon=5)
    # one detector for every seed measured each seed from where the one before left it
    shared = PageHinkley()
    with pytest.raises(ValueError, match=r"^detector_factory must make a fresh detector"):
        detection_delay(lambda: shared, 0.5, 0.3, seeds=2, change_at=10, horizon=5)
    fresh = detection_delay(PageHinkley, 0.5, 0.3, seeds=2, change_at=10, horizon=5)
    assert fresh.seeds == 2


@pytest.mark.parametrize(
    "field, value",
    [
        (("moments", "mean"), 1e300),  # a mean no residual within +-MAX_ABS_REWARD gives
        (("post_change", "up", "mean"), -1e300),
        (("runs", "moments", "mean"), 1e300),
        (("runs", "n"), 2**62),  # a rate the run test's floats round to 1
    ],
)
def test_a_state_whose_next_update_would_overflow_is_refused_naming_the_field(field: tuple, value: float) -> None:
    state = fed_state()
    part = state
    for key in field[:-1]:
        part = part[key]
    part[field[-1]] = value
    detector = PageHinkley(min_samples=2)
    before = detector.state_dict()
    # it loaded; the next update made the moments infinite (the router then saved a state that never
    # loaded again) or divided by zero
    with pytest.raises(CorruptStateError, match=r"state\." + r"\.".join(field[:-1])):
        detector.load_state_dict(state)
    assert detector.state_dict() == before
