"""A router that reads another router's removal of a tool only after it recorded attempts of the
tool itself (appended after the removal) learns them again after it, as the log has them: the
removal made it forget them with the attempts before, and they were skipped as already learned,
so the router lost them (a router opened on the store learned them; this one's snapshots then
held the loss)."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.store import Store

TOOLS = [ToolProfile(tool_id=t, capabilities=("search", "answer")) for t in ("a", "b")]


def record(router: ToolMetaLearner, tool_id: str, capability: str, success: bool) -> None:
    result = ExecutionResult(tool_id=tool_id, step=capability, success=success, quality=float(success))
    router.record_attempt(result, capability=capability)


def learned(router: ToolMetaLearner) -> dict[tuple[str, str], tuple]:
    return {
        (route.step, t): (c.calls, c.successes, round(float(route.policy.expected([t])[0]), 9))
        for route in router._routes.values() for t, c in route.counts.items()
    }


@pytest.mark.parametrize("capabilities", [None, ("search",)])
def test_own_attempts_after_a_removal_read_late_are_kept(store: Store, capabilities) -> None:
    remover = ToolMetaLearner(TOOLS, store=store, seed=0, sync_every=None)
    router = ToolMetaLearner(TOOLS, store=store, seed=0, sync_every=None)
    for capability in ("search", "answer"):
        record(router, "a", capability, False)
    remover.sync()
    if capabilities is None:
        remover.remove_tool("a")
        remover.add_tool(TOOLS[0])
    else:
        remover.update_tool(TOOLS[0].model_copy(update={"capabilities": ("answer",)}))
        remover.update_tool(TOOLS[0])
    for capability in ("search", "answer", "search"):
        record(router, "a", capability, True)  # after the removal, which the router has not read
    record(remover, "a", "search", True)
    router.sync()
    rebuilt = ToolMetaLearner(TOOLS, store=store, seed=0)
    assert learned(router) == learned(rebuilt)
    forgot_answer = capabilities is None
    assert learned(router)[("search", "a")][:2] == (3, 3)
    assert learned(router)[("answer", "a")][:2] == ((1, 1) if forgot_answer else (2, 1))
