"""A policy that forgets (``discount``, ``window``) counts every outcome of its route, a removed
tool's too: the router that had the tool's arm discounted the other arms (or moved its window on)
at each of its outcomes, and forgot only the arm's own statistics at the removal. A router rebuilt
from the store's log without the tool, or syncing from it, counts those outcomes the same way, so
that it ends where the live one is (it skipped them: its other arms had forgotten less)."""

from __future__ import annotations

import pytest

from toolrouter.learner import ToolMetaLearner
from toolrouter.models import ExecutionResult, ToolProfile
from toolrouter.store import Store

A, B = (ToolProfile(tool_id=t, capabilities=("search",)) for t in ("a", "b"))


def record(router: ToolMetaLearner, tool_id: str, success: bool) -> None:
    router.record_attempt(ExecutionResult(tool_id=tool_id, success=success, quality=float(success)), capability="search")


def state(router: ToolMetaLearner) -> tuple:
    policy = router.policy_for("default", "search")
    saved = policy.state_dict()
    config = {k: v for k, v in saved["config"].items() if k in ("arm_ids", "t", "window_pos")}
    # a slot whose arm left the window holds no reward that counts
    arrays = {k: a.tolist() for k, a in saved["arrays"].items() if k != "window_reward"}
    return config, arrays, policy.expected(policy.arm_ids).tolist(), router.routes


@pytest.mark.parametrize("options", [{"discount": 0.5}, {"window": 3}])
def test_a_removed_tools_outcomes_move_forgetting_on_live_reopened_and_synced(store: Store, options: dict) -> None:
    def router(*tools: ToolProfile) -> ToolMetaLearner:
        return ToolMetaLearner(list(tools), store=store, seed=0, policy="gaussian_ts", policy_options=options)

    live = router(A, B)
    other = router(A)  # never had the tool
    for tool_id, success in [("b", True), ("a", True), ("b", True), ("b", False), ("a", False)]:
        record(live, tool_id, success)
    live.remove_tool("b")
    record(live, "a", True)
    expected = state(live)
    assert expected[0]["t"] == 6 and expected[0]["arm_ids"] == ["a"]

    assert state(router(A)) == expected  # rebuilt from the log
    other.sync()
    assert state(other) == expected
