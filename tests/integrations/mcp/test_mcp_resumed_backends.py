"""Backends the router resumed from its store keep what it learned of them when their
registration is undone (a regrouping the router refused part of, a start that failed): they were
removed and added again with their prior, and a failed start left them bound to the backends it
had shut down, so that the next start on that middleware was refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integrations.mcp import McpBackends
from mcp_harness import gateway_store, served_by, upstream
from toolrouter import ToolMiddleware

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
