"""Backends that stop tell each streamable HTTP server to forget their connection (``DELETE``),
as the protocol asks of a client that leaves: the SDK's request was cancelled with the connection,
so the server kept one for every gateway that had stopped."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends, ServerConfig
from mcp_harness import free_port, serve_over_http
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_backends_that_stop_tell_an_http_server_to_forget_their_connection(tmp_path: Path) -> None:
    port = free_port()
    process = await serve_over_http(port, "web", tmp_path)
    try:
        web = {"web": ServerConfig(url=f"http://127.0.0.1:{port}/mcp")}
        async with McpBackends(ToolMiddleware(seed=0), web) as mcp:
            assert (await mcp.call("connections", {})).content[0].text == "1"
        async with McpBackends(ToolMiddleware(seed=0), web) as mcp:
            with anyio.fail_after(10):  # the first stayed open
                while (await mcp.call("connections", {})).content[0].text != "1":  # this one's only
                    await anyio.sleep(0.05)
    finally:
        process.kill()
        process.wait(timeout=10)
