"""Two search tools, one good and one bad, and a router's learned figures: shared by the tests of
pruning, where what a router learned must survive the attempts it learned from."""

from __future__ import annotations

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile

TOOLS = [ToolProfile(tool_id=t, capabilities=["search"]) for t in ("good", "bad")]


def learn(router: ToolMetaLearner, calls: int) -> None:
    """``calls`` routed calls: "good" always succeeds, "bad" one call in three."""
    for i in range(calls):
        tool = router.rank_tool_ids("search")[0]
        router.record_attempt(ExecutionResult(tool_id=tool, step="search", success=tool == "good" or i % 3 == 0),
                              capability="search")


def figures(router: ToolMetaLearner) -> dict[str, tuple[int, int, float]]:
    """tool -> (calls, successes, the policy's mean), to compare two routers exactly."""
    stats = router.tool_statistics()
    policy = router.policy_for("default", "search")
    means = dict(zip(policy.arm_ids, policy.expected(policy.arm_ids)))
    return {t: (s.calls, s.successes, round(float(means[t]), 12)) for t, s in stats.items()}
