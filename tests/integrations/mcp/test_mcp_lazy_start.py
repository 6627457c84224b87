"""A lazy server (``start = "lazy"``) started by the first request that needs its tools: requests
that come while it starts wait for it too, rather than finding no tools."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends
from mcp_harness import served_by, upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_calls_made_while_a_lazy_server_starts_wait_for_its_tools(pid_dir: Path) -> None:
    tools = ToolMiddleware(seed=0)
    servers = {"lazy": upstream("reliable", pid_dir, "--name", "lazy", start="lazy")}
    async with McpBackends(tools, servers) as mcp:
        assert mcp.tools() == []  # not started yet
        results = {}

        async def call(i: int) -> None:
            results[i] = await mcp.call("search", {"query": f"q{i}"})

        async with anyio.create_task_group() as group:
            for i in range(3):
                group.start_soon(call, i)
        assert {i: (r.is_error, served_by(r)[0]) for i, r in results.items()} == {i: (False, "lazy") for i in range(3)}
        assert mcp.upstreams["lazy"].connections == 1


async def test_listings_made_while_a_lazy_server_starts_wait_for_its_tools(pid_dir: Path) -> None:
    servers = {"lazy": upstream("reliable", pid_dir, "--name", "lazy", start="lazy")}
    async with McpBackends(ToolMiddleware(seed=0), servers) as mcp:
        listed = []

        async def listing() -> None:
            await mcp.start_lazy()  # what the gateway's tools/list does first
            listed.append(sorted(t.name for t in mcp.tools()))

        async with anyio.create_task_group() as group:
            for _ in range(2):
                group.start_soon(listing)
        assert listed == [["grow", "lazy_status", "noop", "search"]] * 2
