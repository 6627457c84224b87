"""``ToolMiddleware.unregister`` of a tool removed from the router directly
(``ToolMetaLearner.remove_tool``) drops its function: it raised "unknown tool" for a tool
``tool_ids`` still listed, and, its function kept, registering the tool again was refused as a
duplicate."""

from __future__ import annotations

from toolrouter import ToolMiddleware


def test_a_tool_removed_from_the_router_can_be_unregistered_and_registered_again() -> None:
    tools = ToolMiddleware(seed=0)
    tools.register(lambda text: text, "echo", tool_id="echo")
    tools.learner.remove_tool("echo")
    tools.unregister("echo")
    assert tools.tool_ids == [] and list(tools.learner.tools) == []
    tools.register(lambda text: text.upper(), "echo", tool_id="echo")
    assert tools.call("echo", "hi") == "HI"
