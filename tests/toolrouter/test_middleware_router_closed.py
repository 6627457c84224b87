"""A ``ToolMiddleware`` on a router its owner closed refuses registrations, as after its own
``close()``: it took them, the router keeping them in memory only (a removal its store never
saw, so a router opened on the store still knew what was learned of the tool), while every call
through the middleware was refused."""

from __future__ import annotations

import pytest

from toolrouter import ToolMetaLearner, ToolMiddleware


def test_registrations_on_a_router_its_owner_closed_are_refused_and_change_nothing() -> None:
    router = ToolMetaLearner(seed=0, store="memory://")
    tools = ToolMiddleware(router)
    tools.register(lambda text: text, "echo", tool_id="echo")
    router.close()
    closed = r"store 'memory://[^']*': closed by ToolMetaLearner.close\(\)"
    for change in (
        lambda: tools.register(lambda text: text, "echo", tool_id="late"),
        lambda: tools.unregister("echo"),
        lambda: tools.attach(lambda text: text, "echo", replace=True),
    ):
        with pytest.raises(ValueError, match=closed):
            change()
    assert tools.tool_ids == ["echo"] and list(router.tools) == ["echo"]
    with pytest.raises(ValueError, match=closed):
        tools.call("echo", "hi")


def test_unregistering_after_the_middleware_closed_is_refused() -> None:
    tools = ToolMiddleware(seed=0)
    tools.register(lambda text: text, "echo", tool_id="echo")
    tools.close()
    with pytest.raises(ValueError, match=r"ToolMiddleware: closed by ToolMiddleware.close\(\)"):
        tools.unregister("echo")
    assert tools.tool_ids == ["echo"] and list(tools.learner.tools) == ["echo"]


def test_a_middleware_is_not_built_on_a_closed_router() -> None:
    router = ToolMetaLearner(seed=0, store="memory://")
    router.close()
    with pytest.raises(ValueError, match=r"^learner: ToolMetaLearner\(.*\) was closed"):
        ToolMiddleware(router)
    open_without_store = ToolMetaLearner(seed=0)
    open_without_store.close()  # it only releases its threads, and stays usable
    tools = ToolMiddleware(open_without_store)
    tools.register(lambda text: text, "echo", tool_id="echo")
    assert tools.call("echo", "hi") == "hi"
