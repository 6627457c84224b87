"""Rechecks on informative requests: a due recheck waits, within ``recheck_grace`` outcomes of its
route, for a request whose outcome says much (after a drop, one the tool solved before it; else one
it has not solved), then falls back to any request."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pydantic import ValidationError

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.drift import DetectorConfig, PageHinkley, detector_from_state
from toolrouter.errors import CorruptStateError, InvalidOutcomeError

#: 40 recurring requests: 7 random features and a constant one (the linear policy's intercept)
REQUESTS = np.hstack([np.random.default_rng(3).normal(size=(40, 7)), np.ones((40, 1))])
#: "best" solves the first 28 requests every time and fails the other 12, until it breaks
SOLVED = np.arange(40) < 28
BREAK = 300


def broken_detector() -> PageHinkley:
    """A detector of "best" after its record on every request and a break found."""
    detector = PageHinkley(recheck_after=20)
    for r in np.random.default_rng(0).integers(len(REQUESTS), size=300):
        detector.update(2.0 if SOLVED[r] else 0.0, bool(SOLVED[r]), request=REQUESTS[r])
    assert detector.detections == 0
    for r in range(28):
        if detector.update(0.0, False, request=REQUESTS[r]):
            break
    assert detector.last_direction == "down"
    return detector


def test_a_recheck_informs_on_the_requests_that_say_most() -> None:
    fresh = PageHinkley()
    assert fresh.informs(REQUESTS[0]) and fresh.informs(None)  # no record: nothing to choose by
    detector = PageHinkley()
    for r in np.random.default_rng(0).permutation(40):
        detector.update(2.0 if SOLVED[r] else 0.0, bool(SOLVED[r]), request=REQUESTS[r])
    assert detector.detections == 0
    # before any change: a request the tool solved is no news, one it failed (or never met) is
    assert not detector.informs(REQUESTS[0]) and detector.informs(REQUESTS[35])
    assert detector.informs(np.ones(8)) and detector.informs(None)
    broken = broken_detector()
    # after the drop: the requests it solved before it, and only those
    assert all(broken.informs(REQUESTS[r]) == SOLVED[r] for r in range(40))
    assert not broken.informs(np.ones(8)) and broken.informs(None)
    # a restart (as the router does when a recheck finds it better) forgets the regime before the drop
    broken.reset()
    broken.last_direction = "up"
    assert broken.informs(REQUESTS[0]) and broken.informs(REQUESTS[39])
    broken.update(2.0, True, request=REQUESTS[39])
    assert not broken.informs(REQUESTS[39])
    with pytest.raises(InvalidOutcomeError, match="request"):
        broken.informs(np.array([np.nan]))
    # without request records (request_prior=None) every request will do
    blind = PageHinkley(request_prior=None)
    for r in range(40):
        blind.update(2.0, True, request=REQUESTS[r])
    assert blind.informs(REQUESTS[0])
    with pytest.raises(InvalidOutcomeError, match="request"):  # still checked, as update checks it
        blind.informs(np.array([np.nan]))


def test_the_record_before_a_drop_round_trips_and_bad_state_changes_nothing() -> None:
    detector = broken_detector()
    state = json.loads(json.dumps(detector.state_dict()))
    assert state["version"] == 3 and len(state["before_drop"]) == len(REQUESTS)
    twin = detector_from_state(state)
    assert all(twin.informs(REQUESTS[r]) == SOLVED[r] for r in range(40))
    assert twin.state_dict() == detector.state_dict()
    key = next(iter(state["before_drop"]))
    for mutate in (
        lambda s: s["before_drop"].update({key: [3, 1]}),
        lambda s: s["before_drop"].update({"xyz": [1, 1]}),
        lambda s: s.update(before_drop="all"),
    ):
        broken = json.loads(json.dumps(state))
        mutate(broken)
        target = PageHinkley()
        untouched = target.state_dict()
        with pytest.raises(CorruptStateError, match="before_drop"):
            target.load_state_dict(broken)
        assert target.state_dict() == untouched
    # a state of the previous layout loads, with no record before a drop
    old = {k: v for k, v in state.items() if k != "before_drop"}
    old["version"] = 2
    assert detector_from_state(old).state_dict()["before_drop"] == {}


@pytest.mark.parametrize("bad", [-1, 2.5, True, 2**60])
def test_a_bad_recheck_grace_is_rejected_naming_it(bad: object) -> None:
    with pytest.raises(ValueError, match="recheck_grace"):
        PageHinkley(recheck_grace=bad)  # type: ignore[arg-type]
    if bad is not True:  # pydantic takes True for 1
        with pytest.raises(ValidationError, match="recheck_grace"):
            DetectorConfig(recheck_grace=bad)  # type: ignore[arg-type]


def rechecks_after_break(grace: int, requests_after: np.ndarray, policy: str = "lin_ts") -> list[tuple[int, int]]:
    """Route "best" (which breaks at call ``BREAK``) and "okay" with ``policy``: ``lin_ts`` gets
    each request's features as its context, ``gaussian_ts`` (no context) the request's text;
    after the break draw requests from ``requests_after``. For each recheck of "best" after its
    reset: the request and how many outcomes of the route past due it came."""
    tools = [ToolProfile(tool_id=t, capabilities=("answer",), expected_latency_s=0.0) for t in ("best", "okay")]
    router = ToolMetaLearner(
        tools, policy=policy, seed=0, context_dim=8 if policy == "lin_ts" else None,
        drift_detection={"recheck_after": 20, "recheck_grace": grace},
    )  # fmt: skip
    rng = np.random.default_rng(1)
    route = None
    out = []
    for t in range(BREAK + 400):
        r = int(rng.choice(requests_after if t >= BREAK else len(REQUESTS)))
        if route is not None:
            late = route.outcomes - route.drift["best"].due
        request = {"features": REQUESTS[r]} if policy == "lin_ts" else {"context": f"request number {r}"}
        ranking = router.rank_tool_ids("answer", task_type="qa", **request)
        tool = ranking[0]
        if route is not None and ranking.recheck is not None and tool == "best":
            out.append((r, late))
        ok = bool(SOLVED[r] and t < BREAK) if tool == "best" else bool(rng.random() < 0.6)
        router.record_attempt(
            ExecutionResult(tool_id=tool, step="answer", success=ok, quality=float(ok)),
            capability="answer", task_type="qa", **request,
        )
        if route is None and router.tool_statistics()["best"].resets:
            route = router._routes[("qa", "answer")]
    assert route is not None and t >= BREAK
    return out


@pytest.mark.parametrize("policy", ["lin_ts", "gaussian_ts"])
def test_a_due_recheck_of_a_broken_tool_waits_for_a_request_it_solved(policy: str, one_torch_thread: None) -> None:
    # a router without a context knows the requests by their text
    anywhere = np.arange(len(REQUESTS))
    waited = rechecks_after_break(30, anywhere, policy)
    assert len(waited) >= 5 and all(SOLVED[r] and 0 <= late < 30 for r, late in waited), waited
    # without a grace, rechecks fall on whatever request comes
    at_once = rechecks_after_break(0, anywhere, policy)
    assert len(at_once) >= 5 and not all(SOLVED[r] for r, _ in at_once), at_once


def test_a_due_recheck_falls_back_to_any_request_after_the_grace(one_torch_thread: None) -> None:
    never_solved = np.flatnonzero(~SOLVED)
    late = rechecks_after_break(7, never_solved)
    assert len(late) >= 5 and all(lateness == 7 for _, lateness in late), late
