"""What a change detector tells the router: how close it is to firing, when to recheck a tool, and
that a detection leaves the new regime judged from its first samples."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.drift import DETECTORS, MAX_RECHECK_AFTER, Cusum, DetectorConfig, PageHinkley, detector_from_state


@pytest.mark.parametrize("cls", [PageHinkley, Cusum])
def test_evidence_of_a_rise_brings_the_recheck_forward_and_a_drop_does_not(cls: type) -> None:
    rng = np.random.default_rng(0)
    calm = rng.normal(0.0, 0.3, 60)
    for shift, direction in ((1.0, "up"), (-1.0, "down")):
        detector = cls(min_samples=10, threshold=10, recheck_after=100)
        for x in calm:
            assert not detector.update(x)
        assert 0.0 <= detector.evidence < 0.5 and detector.recheck_interval() >= 40
        evidence, intervals = [], []
        for x in [shift] * 10:  # a shift of more than 3 standard deviations: each sample counts fully
            if detector.update(x):
                break
            evidence.append(detector.evidence)
            intervals.append(detector.recheck_interval())
        assert evidence == sorted(evidence) and evidence[-1] > 0.5
        assert detector.detections == 1 and detector.last_direction == direction
        if direction == "up":  # a repair or an improvement: confirmed within a few outcomes
            assert intervals == sorted(intervals, reverse=True) and intervals[-1] < 10
        else:  # the policy leaves a worse tool by itself: no call is spent confirming it
            assert intervals == [100] * len(intervals)


def test_rechecks_that_miss_back_off_geometrically_up_to_a_bound() -> None:
    detector = PageHinkley(recheck_after=50)
    # three rechecks at the full rate (a repair soon after a break is seen soon), then doubling
    assert [detector.recheck_interval(m) for m in range(7)] == [50, 50, 50, 100, 200, 200, 200]
    assert PageHinkley().recheck_interval(3) is None


def test_a_dropped_tool_is_rechecked_sooner_than_one_never_reset() -> None:
    detector = PageHinkley(min_samples=5, recheck_after=100)
    for x in [1.0, 1.2] * 20 + [-3.0] * 10:
        if detector.update(x):
            break
    assert detector.last_direction == "down"
    assert [detector.recheck_interval(m) for m in (0, 3, 9)] == [50, 100, 200]


def test_no_rechecks_without_recheck_after_and_bad_values_are_refused() -> None:
    assert PageHinkley().recheck_interval() is None
    assert DetectorConfig().make().recheck_interval() == 300
    assert DetectorConfig(recheck_after=None).make().recheck_interval() is None
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="recheck_after"):
            PageHinkley(recheck_after=bad)
    with pytest.raises(ValidationError, match="recheck_after"):
        DetectorConfig(recheck_after=0)


def test_recheck_after_is_bounded_so_that_a_saved_router_loads_again(tmp_path) -> None:
    """A recheck falls due at a route outcome that a saved state keeps in a 64-bit counter: a
    larger recheck_after used to be accepted and made snapshots that no router could load."""
    with pytest.raises(ValidationError, match="recheck_after"):
        DetectorConfig(recheck_after=MAX_RECHECK_AFTER + 1)
    with pytest.raises(ValueError, match=r"recheck_after: expected an integer in \[1, 9007199254740992\], got 9223372036854775808"):
        PageHinkley(recheck_after=2**63)
    tools = [ToolProfile(tool_id=t, capabilities=["s"]) for t in "ab"]
    router = ToolMetaLearner(tools, seed=0, drift_detection={"recheck_after": MAX_RECHECK_AFTER})
    for i in range(20):
        tool = router.rank_tool_ids("s")[0]
        router.record_attempt(ExecutionResult(tool_id=tool, success=i % 3 == 0), capability="s")
    router.save(tmp_path / "router.safetensors")
    again = ToolMetaLearner.load(tmp_path / "router.safetensors")
    assert again.tool_statistics() == router.tool_statistics()
    assert list(again.rank_tool_ids("s")) == list(router.rank_tool_ids("s"))


def test_a_change_absorbed_a_little_at_a_time_does_not_bring_rechecks_forward() -> None:
    # samples that each move the test only a little (here, below half a standard deviation of
    # evidence) leave the recheck at its full interval, even when the evidence is already high
    detector = PageHinkley(min_samples=5, threshold=10, recheck_after=100)
    for x in [0.0, 1.0] * 10:
        detector.update(x)
    for _ in range(6):
        detector.update(1.4)  # a rise: evidence builds up
    assert detector.rise_evidence > 0.3 and detector.recheck_interval() < 100
    detector.update(0.5)  # an ordinary sample: the evidence does not grow
    assert detector.rise_evidence > 0.3 and detector.recheck_interval() == 100


@pytest.mark.parametrize("cls", [PageHinkley, Cusum])
def test_after_a_detection_the_new_regime_is_judged_from_its_first_samples(cls: type) -> None:
    # a tool fails for good, then works again: the samples of the failure that set off the detection
    # are the new regime's first, so the repair is found sooner than by a detector started afresh
    detector = cls(min_samples=5, threshold=10)
    rng = np.random.default_rng(1)
    for x in 2.0 * (rng.random(200) < 0.8):
        detector.update(x)
    fired_at = next(i for i in range(40) if detector.update(0.0))
    assert detector.last_direction == "down" and 1 <= detector.n <= fired_at + 5
    assert detector.state_dict()["moments"]["mean"] == pytest.approx(0.0, abs=0.5)
    fresh = cls(min_samples=5, threshold=10)
    after = [0.0, 0.0] + [2.0] * 12
    seeded_fires = [detector.update(x) for x in after]
    fresh_fires = [fresh.update(x) for x in after]
    assert any(seeded_fires) and detector.last_direction == "up"
    assert seeded_fires.index(True) < (fresh_fires.index(True) if any(fresh_fires) else len(after))


def test_a_state_saved_before_post_change_moments_existed_still_loads() -> None:
    detector = PageHinkley(min_samples=5)
    for x in np.random.default_rng(2).normal(0.0, 0.3, 50):
        detector.update(x)
    state = json.loads(json.dumps(detector.state_dict()))
    del state["post_change"], state["gain"]
    again = detector_from_state(state)
    assert again.n == detector.n and again.evidence == pytest.approx(detector.evidence)
    bad = json.loads(json.dumps(detector.state_dict()))
    bad["post_change"]["up"]["n"] = -1
    with pytest.raises(ValueError, match="post_change.up"):
        detector_from_state(bad)
    bad = json.loads(json.dumps(detector.state_dict()))
    bad["gain"] = float("nan")
    with pytest.raises(ValueError, match="gain"):
        detector_from_state(bad)


def test_every_kind_has_its_own_defaults() -> None:
    for name, cls in DETECTORS.items():
        d = DetectorConfig(kind=name).make()
        assert (d.threshold, d.min_samples, d.recheck_after) == (cls.default_threshold, cls.default_min_samples, 300)
