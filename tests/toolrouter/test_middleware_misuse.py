"""A caller's mistakes with ToolMiddleware are refused at once, naming the argument and the value,
and change nothing: neither the registry nor what the router learned."""

from __future__ import annotations

import pytest

from toolrouter import ToolMiddleware


def test_a_learner_that_is_not_a_router_is_refused() -> None:
    # a store URL in the learner's place is the likely mistake: every later call would fail on it
    with pytest.raises(TypeError, match=r"learner: expected a ToolMetaLearner or None, got 'sqlite:///r\.db'.*store="):
        ToolMiddleware("sqlite:///r.db")


def test_the_decorator_without_its_capability_is_refused() -> None:
    tools = ToolMiddleware(seed=0)

    def search(query: str) -> str:
        return query

    with pytest.raises(TypeError, match=r"capability: expected a capability name .* got the function .*search"):
        tools.tool(search)  # what a bare @tools.tool does
    assert tools.tool_ids == [] and list(tools.learner.tools) == []
    assert tools.tool("search")(search) is search  # the form with a capability registers it, unchanged
    assert tools.call("search", "q") == "q"
