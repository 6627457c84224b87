"""Backends the router resumed from its store keep what it learned of them when their
registration is undone (a regrouping the router refused part of, a start that failed): they were
removed and added again with their prior. Backends are unbound from the middleware when their
``McpBackends`` stops (after a failed start, or leaving its ``async with``), the router keeping
them: left bound, the next ``McpBackends`` of that middleware was refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integrations.mcp import McpBackends
from mcp_harness import gateway_store, served_by, upstream
from toolrouter import ToolMiddleware
from toolrouter.errors import NoToolForCapabilityError

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def learned(tools: ToolMiddleware) -> dict[str, Any]:
    return {i: (s.calls, s.successes, s.expected_utility) for i, s in tools.learner.tool_statistics("mcp", "search").items()}


async def test_an_undone_registration_keeps_what_was_learned_of_a_resumed_backend(pid_dir: Path, tmp_path: Path) -> None:
    tools = ToolMiddleware(seed=0, store=gateway_store(tmp_path, "search", ("a", "b")), task_type="mcp")
    before = learned(tools)
    assert before["a/search"][:2] == (12, 12) and before["b/search"][1] == 0
    register = tools.register

    def refusing(fn: Any, capability: Any, **options: Any) -> Any:
        if options.get("tool_id") == "b/noop":
            raise ValueError("tool_id: 'b/noop' refused")
        return register(fn, capability, **options)

    tools.register = refusing  # type: ignore[method-assign]
    servers = {name: upstream("reliable", pid_dir, "--name", name) for name in ("a", "b")}
    with pytest.raises(ValueError, match="'b/noop' refused"):
        async with McpBackends(tools, servers):
            pass
    assert learned(tools) == before
    assert tools.tool_ids == []  # none left bound to the backends that were shut down
    assert {p.capabilities for p in tools.learner.tools.values()} == {("search",)}

    tools.register = register  # type: ignore[method-assign]
    async with McpBackends(tools, servers) as mcp:  # the same middleware starts again
        assert served_by(await mcp.call("search", {"query": "q"})) == ("a", 1)
        assert learned(tools)["a/search"][:2] == (13, 13)


async def test_a_new_mcp_backends_of_the_middleware_binds_the_backends_again(pid_dir: Path) -> None:
    tools = ToolMiddleware(seed=0)
    servers = {"a": upstream("reliable", pid_dir, "--name", "a")}
    async with McpBackends(tools, servers) as mcp:
        for i in range(4):
            assert served_by(await mcp.call("search", {"query": f"q{i}"})) == ("a", 1)
    assert tools.tool_ids == [] and learned(tools)["a/search"][:2] == (4, 4)  # unbound, what was learned kept
    with pytest.raises(NoToolForCapabilityError, match="no registered function serves 'search'"):
        await tools.acall("search", {"query": "q"})  # no stopped server tried
    async with McpBackends(tools, servers) as mcp:  # it was refused: DuplicateToolError
        assert served_by(await mcp.call("search", {"query": "again"})) == ("a", 1)
        assert sorted(tools.tool_ids) == ["a/a_status", "a/grow", "a/noop", "a/search"]
    assert learned(tools)["a/search"][:2] == (5, 5)
