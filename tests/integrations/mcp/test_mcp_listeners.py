"""A listener of ``McpBackends.on_change`` that raises is logged and skipped: the change is the
server's, the failure the listener's, and the server's connection (in which listeners run) stays
up, where it was dropped and its process restarted."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends
from mcp_harness import upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_listener_that_raises_does_not_end_the_servers_connection(pid_dir: Path, caplog) -> None:
    mcp = McpBackends(ToolMiddleware(seed=0), {"r": upstream("reliable", pid_dir, "--name", "r")})
    heard = []

    async def broken() -> None:
        raise RuntimeError("listener broke")

    async def listening() -> None:
        heard.append(sorted(mcp.capabilities))

    mcp.on_change(broken)
    mcp.on_change(listening)
    async with mcp:  # the first listing is a change: both listeners run as the server comes up
        server = mcp.upstreams["r"]
        assert (server.state, server.connections, server.last_error) == ("ready", 1, None)
        assert not (await mcp.call("grow", {})).is_error  # the server adds a tool and says so
        with anyio.fail_after(10):
            while len(heard) < 2:
                await anyio.sleep(0.02)
        assert heard[-1] == ["extra", "grow", "noop", "r_status", "search"]
        assert (server.state, server.connections) == ("ready", 1)
        assert not (await mcp.call("extra", {"text": "abc"})).is_error
    failures = [r.getMessage() for r in caplog.records if "mcp_listener_failed" in r.getMessage()]
    assert len(failures) == 2 and all("RuntimeError: listener broke" in m for m in failures)
