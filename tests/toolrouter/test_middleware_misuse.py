"""A caller's mistakes with ToolMiddleware are refused at once, naming the argument and the value,
and change nothing: neither the registry nor what the router learned."""

from __future__ import annotations

import asyncio
import math

import pytest

from toolrouter import AllToolsFailedError, ToolMiddleware


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


@pytest.mark.parametrize("form", ["call", "acall"])
@pytest.mark.parametrize("arguments", [((), {}), ((1, 2, 3), {}), ((), {"qery": "typo"})])
def test_arguments_no_tool_takes_are_the_callers_error_not_the_tools_failures(form: str, arguments: tuple) -> None:
    tools = ToolMiddleware(store="memory://", seed=0)
    ran: list[str] = []

    @tools.tool("search")
    def web(query: str) -> str:
        ran.append("web")
        return query

    @tools.tool("search")
    async def backup(query: str, limit: int = 3) -> str:
        ran.append("backup")
        return query

    args, kwargs = arguments
    with pytest.raises(TypeError, match=r"arguments: .* fit no tool serving 'search'"):
        tools.call("search", *args, **kwargs) if form == "call" else asyncio.run(tools.acall("search", *args, **kwargs))
    # neither tool is blamed (each would have been recorded as failing, and learned from)
    assert ran == [] and tools.learner.store.count() == 0
    assert {t: s.calls for t, s in tools.learner.tool_statistics().items()} == {"web": 0, "backup": 0}


def test_a_tool_whose_signature_does_not_fit_fails_while_another_answers() -> None:
    tools = ToolMiddleware(store="memory://", seed=0)
    tools.register(lambda query, region: "regional", "search", tool_id="regional", reliability=1.0)
    tools.register(lambda query: "plain", "search", tool_id="plain", reliability=0.1)

    def own_type_error(query: str) -> str:
        raise TypeError("a bug inside the tool")

    tools.register(own_type_error, "lookup")
    assert tools.call("search", "q") == "plain"  # the arguments fit a tool: the other one's failure
    with pytest.raises(AllToolsFailedError, match="a bug inside the tool"):
        tools.call("lookup", "q")  # arguments that fit: the tool's own TypeError is its failure
    assert [(r.tool_id, r.success) for r in tools.learner.store.attempts()] == [
        ("regional", False), ("plain", True), ("own_type_error", False)
    ]


BAD_FEATURES = [[math.nan, 0.0], "ab", [[1.0, 2.0]]]


@pytest.mark.parametrize(
    ("contextual", "features"),
    [(False, f) for f in BAD_FEATURES] + [(True, f) for f in BAD_FEATURES] + [(True, [1.0, 2.0, 3.0])],  # not context_dim
)
def test_bad_features_are_refused_by_route_itself(contextual: bool, features: object) -> None:
    options = {"policy": "lin_ts", "context_dim": 2} if contextual else {}
    tools = ToolMiddleware(store="memory://", seed=0, **options)
    tools.register(lambda: "ok", "x", tool_id="echo")
    with pytest.raises((ValueError, TypeError), match="features"):
        tools.route("x", features=features)  # not a routed call that fails each time it is called
    assert tools.route("x", features=[0.5, 1.0])() == "ok"


@pytest.mark.parametrize("method", ["unregister", "detach", "attach", "function"])
@pytest.mark.parametrize("tool_id", [["search"], None, 3])
def test_a_tool_id_that_is_no_string_is_refused_naming_it(method: str, tool_id: object) -> None:
    # a list failed as "unhashable type: 'list'", naming neither the argument nor the value
    tools = ToolMiddleware(seed=0)

    def search(query: str) -> str:
        return query

    tools.register(search, "search")
    arguments = (search, tool_id) if method == "attach" else (tool_id,)
    with pytest.raises(TypeError, match=rf"tool_id: expected a string, got {tool_id!r}".replace("[", r"\[").replace("]", r"\]")):
        getattr(tools, method)(*arguments)
    assert tools.tool_ids == ["search"] and list(tools.learner.tools) == ["search"]
