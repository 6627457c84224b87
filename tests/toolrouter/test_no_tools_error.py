"""A router with no tools says so when asked to plan or rank, instead of naming a capability None."""

import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.errors import NoToolForCapabilityError


@pytest.mark.parametrize("ask", ["plan", "rank"])
def test_a_router_without_tools_names_the_missing_tools(ask: str) -> None:
    router = ToolMetaLearner(seed=0)
    with pytest.raises(NoToolForCapabilityError, match=r"^tools: the router has no tools; add one with add_tool") as caught:
        if ask == "plan":
            router.optimize_task_execution(TaskProfile(task_id="t1"))
        else:
            router.rank_tools(None)
    assert "None" not in str(caught.value)
    # once a tool is added, the same request is served
    router.add_tool(ToolProfile(tool_id="web"))
    assert router.optimize_task_execution(TaskProfile(task_id="t1")).tool_for("main") == "web"


def test_a_capability_no_tool_serves_is_still_named() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
    with pytest.raises(NoToolForCapabilityError, match=r"^capability: no tool serves 'code' \(step 'code'\)"):
        router.rank_tools("code")
