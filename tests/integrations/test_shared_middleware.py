"""Toolboxes over one middleware: a capability of the same name in two of them is one route, so
its backends must take the same arguments, whichever toolbox registered them."""

import pytest

from integrations import SignatureMismatchError, Toolbox
from toolrouter import ToolMiddleware
from toolrouter.errors import UnknownToolError


def search_a(query: str) -> str:
    return f"a: {query}"


def search_b(q: int) -> str:
    return f"b: {q}"


def search_c(query: str) -> str:
    return f"c: {query}"


def search_d(query: str, limit: int = 3) -> str:
    return f"d: {query}"


def test_a_backend_another_toolbox_routes_to_must_take_its_arguments():
    middleware = ToolMiddleware(seed=0)
    first, second = Toolbox(middleware), Toolbox(middleware)
    first.register(search_a, "search")
    with pytest.raises(SignatureMismatchError, match="'search'.*'search_b'.*'search_a'.*'query' is missing"):
        second.register(search_b, "search")
    # nothing registered: the first toolbox's calls never reach it
    assert second.capabilities == () and middleware.tool_ids == ["search_a"]
    # an argument the other backend does not take would fail it on the second toolbox's calls
    with pytest.raises(SignatureMismatchError, match="'limit'"):
        second.register(search_d, "search")
    second.register(search_c, "search")
    assert middleware.tool_ids == ["search_a", "search_c"]
    assert first.call_one_sync("search", {"query": "x"}).status == "ok"


def test_a_function_registered_on_the_middleware_directly_counts_too():
    middleware = ToolMiddleware(seed=0)
    middleware.register(search_b, "search")
    toolbox = Toolbox(middleware)
    with pytest.raises(SignatureMismatchError, match="'search_b'"):
        toolbox.register(search_a, "search")
    assert toolbox.capabilities == () and middleware.tool_ids == ["search_b"]


def test_a_toolbox_removes_only_its_own_backends():
    middleware = ToolMiddleware(seed=0)
    first, second = Toolbox(middleware), Toolbox(middleware)
    first.register(search_a, "search")
    second.register(search_c, "search")
    with pytest.raises(UnknownToolError, match="tool_id: unknown tool 'search_a'"):
        second.unregister("search_a")  # the first toolbox's: it would go on listing it, served by nothing
    assert middleware.tool_ids == ["search_a", "search_c"] and first.backends("search") == ("search_a",)
    second.unregister("search_c")
    assert second.capabilities == () and middleware.tool_ids == ["search_a"]
