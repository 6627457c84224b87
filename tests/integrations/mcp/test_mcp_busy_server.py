"""A server that answers its requests one at a time (or runs a tool on its event loop) answers the
gateway's ping after the call before it, which may take the server's ``timeout_s``: busy, not
lost. The ping was given the shorter ``connect_timeout_s``, and the server was taken as lost, the
call in progress failed, and the connection made again."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends, ServerConfig
from mcp_harness import free_port, serve_over_http
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_server_busy_with_a_call_is_not_taken_as_lost(tmp_path: Path) -> None:
    port = free_port()
    process = await serve_over_http(port, "busy", tmp_path, "http", "serial", "--delay", "1.5")
    try:
        busy = {"busy": ServerConfig(url=f"http://127.0.0.1:{port}/mcp", timeout_s=5, connect_timeout_s=1)}
        async with McpBackends(ToolMiddleware(seed=0, store="memory://"), busy) as mcp:
            results = []

            async def search() -> None:
                results.append(await mcp.call("search", {"query": "long"}))

            async with anyio.create_task_group() as calls:
                calls.start_soon(search)  # the server works on it for 1.5 s
                await anyio.sleep(0.1)
                with anyio.move_on_after(0.05):  # its caller gives up: the gateway pings the server
                    await mcp.call("noop", {})
            upstream = mcp.upstreams["busy"]
            assert [r.is_error for r in results] == [False]
            assert (upstream.state, upstream.connections, upstream.last_error) == ("ready", 1, None)
    finally:
        process.kill()
        process.wait(timeout=10)
