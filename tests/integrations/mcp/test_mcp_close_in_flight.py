"""Leaving ``async with McpBackends(...)`` while calls are in flight: the servers are shut down by
the agent, not failing, so each call in flight is cancelled first (its attempt recorded as
cancelled by its caller, which the router does not learn from) and raises ``RuntimeError``."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends
from mcp_harness import upstream
from toolrouter import ToolMiddleware
from toolrouter.models import CANCELLED_BY_CALLER

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_calls_in_flight_when_the_backends_close_are_cancelled_not_blamed_on_the_servers(pid_dir: Path) -> None:
    tools = ToolMiddleware(seed=0, store="memory://")
    servers = {name: upstream("slow", pid_dir, "--name", name, "--delay", "30") for name in ("a", "b")}
    raised: list[BaseException] = []

    async def call(mcp: McpBackends) -> None:
        try:
            await mcp.call("search", {"query": "q"})
        except RuntimeError as exc:
            raised.append(exc)

    async with anyio.create_task_group() as group:
        async with McpBackends(tools, servers) as mcp:
            group.start_soon(call, mcp)
            with anyio.fail_after(10):  # until the call is out at a server
                while not any(u._calls is not None and u._calls._pending for u in mcp.upstreams.values()):
                    await anyio.sleep(0.02)
    assert [str(e) for e in raised] == [
        "McpBackends: closed while the call was in flight (an attempt in flight is recorded as cancelled)"
    ]
    attempts = tools.learner.store.attempts()
    assert [(a.success, a.error) for a in attempts] == [(False, CANCELLED_BY_CALLER)]  # nothing lost, no fallback
    stats = tools.learner.tool_statistics("mcp", "search")
    assert stats["a/search"].calls == stats["b/search"].calls == 0  # neither server learned as failing
