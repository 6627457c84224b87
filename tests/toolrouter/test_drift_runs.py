"""The run test: a run of failures (or successes) too unlikely under a tool's own record is a change,
found from few outcomes; a stationary tool rarely trips it; its state is saved and checked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.drift import DetectorConfig, PageHinkley, detector_from_state
from toolrouter.errors import InvalidOutcomeError


def feed(detector: PageHinkley, outcomes: np.ndarray) -> list[bool]:
    """Each outcome as the router gives it: utility 2 on a success, 0 on a failure."""
    return [detector.update(2.0 if ok else 0.0, bool(ok)) for ok in outcomes]


def test_a_confident_tool_that_breaks_is_found_after_a_few_failures() -> None:
    rng = np.random.default_rng(0)
    for fail in (0.05, 0.15, 0.3):
        detector = DetectorConfig().make()
        feed(detector, rng.random(300) >= fail)
        before = detector.detections
        fired = feed(detector, np.zeros(30, dtype=bool))
        # the run's probability under the record falls below 3e-5 after log(3e-5) / log(fail) failures
        # (4, 6, 9 here), where the mean test alone needs a dozen or more
        bound = int(np.ceil(np.log(3e-5) / np.log(fail))) + 1
        assert fired.index(True) + 1 <= bound, (fail, fired.index(True))
        assert detector.detections == before + 1 and detector.last_direction == "down"
        # the run is the new regime's record: more failures do not fire again
        assert fired.count(True) == 1 and detector.n == 30


def test_without_success_flags_or_with_run_alpha_none_only_the_mean_test_judges() -> None:
    rng = np.random.default_rng(1)
    record = rng.random(300) >= 0.05
    delays = {}
    for label, config, with_success in (("runs", {}, True), ("no flags", {}, False), ("off", {"run_alpha": None}, True)):
        detector = DetectorConfig(**config).make()
        for ok in record:
            detector.update(2.0 if ok else 0.0, bool(ok) if with_success else None)
        fired = [detector.update(0.0, False if with_success else None) for _ in range(40)]
        delays[label] = fired.index(True) + 1
    assert delays["runs"] < delays["no flags"] == delays["off"], delays


def test_a_weak_tool_that_improves_fires_a_rise_and_brings_its_recheck_forward() -> None:
    rng = np.random.default_rng(2)
    detector = DetectorConfig().make()
    feed(detector, rng.random(60) < 0.3)
    while detector._runs[3] is not False:  # end on a failure, so the successes below start a run
        feed(detector, np.array([False]))
    full = detector.recheck_interval()
    intervals, fired = [], []
    for _ in range(20):
        fired.append(detector.update(2.0, True))
        if fired[-1]:
            break
        intervals.append(detector.recheck_interval())
    assert fired[-1] and detector.last_direction == "up" and len(fired) <= 12, fired
    # each success of the run shortens the wait for the next recheck
    assert intervals == sorted(intervals, reverse=True) and intervals[0] < full and intervals[-1] < 10, intervals


def test_a_rarely_chosen_tool_is_judged_on_a_short_record() -> None:
    # a weak tool the policy leaves alone is seen only by its rechecks: a handful of outcomes in a
    # long stream. Its run of successes after it improves is judged against those few (a short
    # record counts for less: 20 successes after 1 in 6, where a record of 300 at that rate needs 6),
    # not ignored until 10 outcomes came in before the run, which may never happen
    record = np.array([False, True, False, False, False, False])
    fired, detectors = {}, {}
    for history in (5, 10):
        detectors[history] = PageHinkley(threshold=1e6, run_history=history)  # only the run test can fire
        feed(detectors[history], record)
        fired[history] = feed(detectors[history], np.ones(60, dtype=bool))
    assert fired[5].index(True) + 1 == 20 and detectors[5].last_direction == "up"
    assert not any(fired[10]) and detectors[10].last_direction is None
    assert DetectorConfig().run_history == 5


def test_a_run_of_successes_fires_only_on_an_outcome_allowed_to() -> None:
    # the router lets a run of successes fire only on a recheck's outcome: a favourite's long runs of
    # successes, or a tool whose successes rise as the policy learns where to use it, are no news
    detector = DetectorConfig().make()
    feed(detector, np.random.default_rng(4).random(60) < 0.5)
    feed(detector, np.array([False]))
    fired = [detector.update(2.0, True, rise_run=False) for _ in range(40)]
    assert not any(fired) and detector.rise_evidence == 1.0  # evidence enough, but not allowed to fire
    assert detector.update(2.0, True) and detector.last_direction == "up"
    # a run of failures fires on any outcome: the new regime's record is the 41 successes
    fired = [detector.update(0.0, False, rise_run=False) for _ in range(6)]
    assert fired.index(True) <= 4 and detector.last_direction == "down", fired


@pytest.mark.parametrize("fail", [0.1, 0.4, 0.7])
def test_a_stationary_tool_rarely_trips_the_run_test(fail: float) -> None:
    # at most run_alpha (3e-5) per outcome by construction; over 5 seeds of 20,000 outcomes about
    # 3 at the most, and in practice fewer (runs end in the other outcome)
    alarms = 0
    for seed in range(5):
        detector = PageHinkley(threshold=1e6)  # only the run test can fire
        alarms += sum(feed(detector, np.random.default_rng(seed).random(20_000) >= fail))
    assert alarms <= 3, (fail, alarms)


def test_run_state_round_trips_and_bad_input_changes_nothing() -> None:
    detector = DetectorConfig().make()
    feed(detector, np.random.default_rng(3).random(50) >= 0.2)
    state = json.loads(json.dumps(detector.state_dict()))
    twin = detector_from_state(state)
    for ok in [False] * 12:
        assert detector.update(0.0, ok) == twin.update(0.0, ok)
    assert detector.state_dict() == twin.state_dict()
    before = detector.state_dict()
    for bad in ("yes", 1, 0.5):
        with pytest.raises(InvalidOutcomeError, match="success"):
            detector.update(1.0, bad)  # type: ignore[arg-type]
    assert detector.state_dict() == before
    for field, value in (("failures", 10**6), ("length", -1), ("success", "maybe")):
        broken = json.loads(json.dumps(before))
        broken["runs"][field] = value
        with pytest.raises(ValueError, match="runs"):
            detector_from_state(broken)
    for bad_config in ({"run_alpha": 1.5}, {"run_alpha": 0.0}, {"run_history": 0}):
        with pytest.raises(ValueError, match=next(iter(bad_config))):
            DetectorConfig(**bad_config)
    old = {k: v for k, v in before.items() if k != "runs"}  # a state saved before the run test
    assert detector_from_state(old).state_dict()["runs"]["n"] == 0


def test_the_router_leaves_a_broken_reliable_tool_within_a_few_calls() -> None:
    # "best" succeeds 90% of the time, then fails every call: the run test resets it after about
    # 5 of its failures, and rechecks (every 150 calls after a drop) add one call per 150
    tools = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("best", "okay")]
    means = {"best": 0.9, "okay": 0.6}
    counts = []
    for seed in range(3):
        router = ToolMetaLearner(tools, seed=seed, drift_detection="page_hinkley")
        rng = np.random.default_rng(seed)
        picks = []
        for t in range(700):
            tool = router.rank_tool_ids("search", task_type="news")[0]
            ok = bool(rng.random() < (0.0 if tool == "best" and t >= 500 else means[tool]))
            router.record_attempt(
                ExecutionResult(tool_id=tool, step="search", success=ok, quality=float(ok)), capability="search", task_type="news"
            )
            picks.append(tool)
        stats = router.tool_statistics()["best"]
        assert stats.resets == 1 and stats.last_reset is not None and "fell" in stats.last_reset.reason
        counts.append(picks[500:].count("best"))
    assert max(counts) <= 10, counts


def test_a_stationary_route_sees_no_false_reset_over_a_few_seeds() -> None:
    # nothing changes: every reset would be false; the defaults aim at 0.1 per 1,000 calls at most
    tools = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("a", "b", "c")]
    means = {"a": 0.85, "b": 0.6, "c": 0.3}
    resets = 0
    for seed in range(3):
        router = ToolMetaLearner(tools, seed=seed, drift_detection="page_hinkley")
        rng = np.random.default_rng(seed)
        for _ in range(2000):
            tool = router.rank_tool_ids("search", task_type="news")[0]
            ok = bool(rng.random() < means[tool])
            router.record_attempt(
                ExecutionResult(tool_id=tool, step="search", success=ok, quality=float(ok)), capability="search", task_type="news"
            )
        resets += sum(s.resets for s in router.tool_statistics().values())
    assert resets == 0, resets
