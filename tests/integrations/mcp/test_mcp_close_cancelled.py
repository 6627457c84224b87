"""Leaving ``async with McpBackends`` by a cancellation (a timeout around it, a task cancelled)
stops the servers and unbinds the backends from the middleware, as leaving it otherwise does,
then goes on being cancelled: the backends stayed bound, and a next ``McpBackends`` of the
middleware failed (DuplicateToolError)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends
from mcp_harness import alive, pids_in, served_by, upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_backends_left_by_a_cancellation_are_unbound_and_bound_again_by_the_next(pid_dir: Path) -> None:
    tools = ToolMiddleware(seed=0)
    servers = {"a": upstream("reliable", pid_dir, "--name", "a")}
    with anyio.CancelScope() as scope:
        async with McpBackends(tools, servers) as mcp:
            assert "a/search" in tools.tool_ids
            scope.cancel()
            await anyio.sleep(30)
    assert scope.cancelled_caught
    assert not alive(pids_in(pid_dir))  # stopped before the cancellation went on
    assert tools.tool_ids == [] and "a/search" in tools.learner.tools  # unbound; the router keeps them
    async with McpBackends(tools, servers) as mcp:
        result = await mcp.call("search", {"query": "q"})
        assert not result.is_error and served_by(result) == ("a", 1)
