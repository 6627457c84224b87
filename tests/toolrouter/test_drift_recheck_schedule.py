"""When rechecks happen: after a drop found on a recheck, the broken tool is rechecked at half the
interval three times, as the documentation says, before the interval starts doubling; and the
policy's own choice is never rechecked: a favourite whose long run of successes brings its recheck
forward is not counted as rechecked, nor lets that run fire a rise and restart it."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile

TOOLS = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("good", "rare")]
FAVOURITE = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("favourite", "other")]


def record(router: ToolMetaLearner, tool: str, ok: bool) -> None:
    router.record_attempt(
        ExecutionResult(tool_id=tool, step="search", success=ok, quality=float(ok)), capability="search", task_type="news"
    )


@pytest.mark.parametrize("policy", ["gaussian_ts", "ucb1"])
def test_the_recheck_that_finds_the_drop_is_no_miss(policy: str) -> None:
    router = ToolMetaLearner(TOOLS, seed=0, policy=policy, drift_detection={"recheck_after": 20})
    rng = np.random.default_rng(0)
    for _ in range(40):  # a record on which "rare" works 80% of the time, "good" always
        record(router, "rare", bool(rng.random() < 0.8))
        record(router, "good", True)
    route = router._routes[("news", "search")]
    waits = []  # after each recheck of "rare" from the one that found it broken: the wait to the next
    for _ in range(400):
        tool = router.rank_tool_ids("search", task_type="news")[0]
        recheck = route.drift[tool].pending
        record(router, tool, tool == "good")  # "rare" now fails every call
        if recheck and tool == "rare" and route.drift["rare"].resets:
            waits.append(route.drift["rare"].due - route.outcomes)
    assert route.drift["rare"].resets == 1
    # half of recheck_after three times, then doubling up to twice recheck_after
    assert waits[:6] == [10, 10, 10, 20, 40, 40], waits


@pytest.mark.parametrize("policy", ["gaussian_ts", "ucb1"])
def test_a_favourite_due_for_a_recheck_is_not_rechecked_when_the_policy_chooses_it(policy: str) -> None:
    router = ToolMetaLearner(FAVOURITE, seed=0, policy=policy, drift_detection="page_hinkley")
    rng = np.random.default_rng(0)
    for _ in range(300):
        record(router, "favourite", bool(rng.random() < 0.97))
    for _ in range(30):
        record(router, "other", bool(rng.random() < 0.5))
    for _ in range(400):  # a long run of successes: no news for a tool the policy chooses
        record(router, "favourite", True)
    route = router._routes[("news", "search")]
    assert route.detectors["favourite"].recheck_interval() == 1  # the run brought its recheck forward
    record(router, "other", True)  # so it is due now
    assert router.rank_tool_ids("search", task_type="news")[0] == "favourite"  # the policy's choice
    favourite = route.drift["favourite"]
    assert favourite.rechecks == 0 and not favourite.pending
    record(router, "favourite", True)
    stats = router.tool_statistics()["favourite"]
    assert (stats.rechecks, stats.resets) == (0, 0)
