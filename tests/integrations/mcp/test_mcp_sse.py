"""Upstream servers of the HTTP+SSE transport (``type = "sse"``, as MCP clients' configs name
it), reached with the SDK's SSE client: grouped and routed like the others, their headers sent
with every request, reconnected when they restart. Such a server was a ConfigError."""

from __future__ import annotations

import json
from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends, ServerConfig, load_config
from mcp_harness import free_port, serve_over_http, served_by, upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def test_an_sse_server_in_a_clients_config(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    legacy = {"type": "sse", "url": "http://127.0.0.1:8000/sse", "headers": {"Authorization": "Bearer t"}}
    path.write_text(json.dumps({"mcpServers": {"legacy": legacy, "new": {"url": "http://127.0.0.1:8001/mcp"}}}))
    servers = load_config(path).servers
    assert (servers["legacy"].transport, servers["legacy"].cwd) == ("sse", None)
    assert servers["new"].transport == "http"
    with pytest.raises(ValueError, match="type 'sse' does not fit a server with command"):
        ServerConfig(command="server", type="sse")


async def test_an_sse_upstream_is_routed_with_its_headers_and_reconnected_when_it_restarts(
    pid_dir: Path, tmp_path: Path
) -> None:
    port = free_port()
    process = await serve_over_http(port, "first", tmp_path, "sse")
    try:
        legacy = ServerConfig(type="sse", url=f"http://127.0.0.1:{port}/sse", headers={"X-Team": "blue"}, timeout_s=5)
        servers = {"legacy": legacy, "local": upstream("reliable", pid_dir)}
        async with McpBackends(ToolMiddleware(seed=0), servers) as mcp:
            assert mcp.capabilities["search"].members == ("legacy:search", "local:search")
            for i in range(4):  # grouped with the stdio server's search, routed between them
                assert not (await mcp.call("search", {"query": f"q{i}"})).is_error
            result = await mcp.call("header", {"name": "x-team"})  # the SSE server's own tool
            assert (served_by(result), result.content[0].text) == (("legacy", 1), "blue")

            process.kill()
            process.wait(timeout=10)
            process = await serve_over_http(port, "second", tmp_path, "sse")
            with anyio.fail_after(20):
                while "second_status" not in mcp.capabilities:  # its tools, listed on a new connection
                    await anyio.sleep(0.1)
            assert mcp.upstreams["legacy"].connections == 2
            assert (await mcp.call("second_status", {})).content[0].text == "second has served 0 searches"
    finally:
        process.kill()
        process.wait(timeout=10)
