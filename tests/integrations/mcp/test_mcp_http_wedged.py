"""A streamable HTTP server taken as lost (it stopped answering) is connected again at once: the
connection's end waited for the SDK's DELETE to be answered, up to the read timeout (at least
300 s), which a wedged server never does, and the server stayed "ready" and unconnected."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends, ServerConfig
from mcp_harness import free_port, serve_over_http
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_wedged_http_server_is_connected_again_without_waiting_for_its_answer(tmp_path: Path) -> None:
    port = free_port()
    process = await serve_over_http(port, "web", tmp_path)
    try:
        web = {"web": ServerConfig(url=f"http://127.0.0.1:{port}/mcp", timeout_s=0.3)}
        async with McpBackends(ToolMiddleware(seed=0, store="memory://"), web) as mcp:
            upstream = mcp.upstreams["web"]
            os.kill(process.pid, signal.SIGSTOP)
            assert (await mcp.call("search", {"query": "q"})).is_error  # it times out; the ping too
            # the ping's end takes the SDK's 5 s bound on a write to a wedged server, the DELETE ours
            # of 2 s; the SDK's own DELETE waited at least 300 s
            with anyio.fail_after(20):
                while upstream.state == "ready":
                    await anyio.sleep(0.02)
            assert "unresponsive" in upstream.last_error
            os.kill(process.pid, signal.SIGCONT)
            with anyio.fail_after(30):  # the server answers again: connected anew
                while upstream.connections < 2:
                    await anyio.sleep(0.05)
            assert not (await mcp.call("search", {"query": "q"})).is_error
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGCONT)
        process.kill()
        process.wait(timeout=10)
