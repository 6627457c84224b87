"""A server's result over its ``max_result_bytes`` does not reach the client whole: the call
fails with an error naming the limit, recorded as the server's failure, and goes to the next
server."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.mcp import McpBackends
from mcp_harness import config_error, upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_result_over_max_result_bytes_is_an_error_result_naming_the_limit(pid_dir: Path) -> None:
    tools = ToolMiddleware(seed=0, store="memory://")
    async with McpBackends(tools, {"bulky": upstream("bulky", pid_dir, "--after", "5000", max_result_bytes=4000)}) as mcp:
        result = await mcp.call("search", {"query": "q"})
        assert not (await mcp.call("noop", {})).is_error  # the server stays connected
    assert result.is_error
    assert "server 'bulky' answered 'search' with 10136 bytes, over its max_result_bytes (4000)" in result.content[0].text
    assert [a.success for a in tools.learner.store.attempts() if a.tool_id == "bulky/search"] == [False]


def test_max_result_bytes_is_a_server_setting_of_at_most_64_mib(tmp_path: Path) -> None:
    _, error = config_error(tmp_path, {"mcpServers": {"a": {"command": "x", "max_result_bytes": 2**27}}})
    assert "max_result_bytes" in error and "less than or equal to 67108864" in error



async def test_over_http_a_result_is_measured_in_bytes_not_characters() -> None:
    import mcp_types as types

    from integrations.mcp.config import ReconnectPolicy, ServerConfig
    from integrations.mcp.upstream import ResultTooLargeError, Upstream

    class Session:  # the SDK's ClientSession of a streamable HTTP server, as far as a call goes
        async def call_tool(self, tool: str, arguments: dict, progress_callback: object = None) -> types.CallToolResult:
            return types.CallToolResult(content=[types.TextContent(type="text", text="é" * 3000)])

    async def told(upstream: object) -> None:
        pass

    config = ServerConfig.model_validate({"url": "http://127.0.0.1:9/mcp", "max_result_bytes": 4000})
    upstream = Upstream("far", config, ReconnectPolicy(), told)
    upstream._session = Session()  # type: ignore[assignment]
    with pytest.raises(ResultTooLargeError, match=r"answered 'search' with 60\d\d bytes, over its max_result_bytes \(4000\)"):
        await upstream.call_tool("search", {})  # 3000 characters, 6000 bytes of UTF-8


async def test_over_streamable_http_a_result_over_1_mib_within_max_result_bytes_is_served(tmp_path: Path) -> None:
    # the server streams its answer as a server-sent event, which the SDK's client refused over 1 MiB
    from integrations.mcp.config import ServerConfig
    from mcp_harness import free_port, serve_over_http

    port = free_port()
    process = await serve_over_http(port, "big", tmp_path, "http", "bulky", "--after", "1500000")
    try:
        async with McpBackends(ToolMiddleware(seed=0), {"big": ServerConfig(url=f"http://127.0.0.1:{port}/mcp")}) as mcp:
            result = await mcp.call("search", {"query": "q"})
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert not result.is_error, result.content[0].text[:300]
    assert result.content[0].text == "x" * 1_500_000


async def test_a_json_answer_over_the_message_limit_fails_its_call_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a server that answers with JSON, not events: the SDK read the body whole, of any size
    from integrations.mcp import upstream as upstream_module
    from integrations.mcp.config import ServerConfig
    from mcp_harness import free_port, serve_over_http

    monkeypatch.setattr(upstream_module, "_MAX_LINE_BYTES", 1_000_000)  # 64 MiB: a test of its own size
    port = free_port()
    process = await serve_over_http(port, "big", tmp_path, "http", "bulky", "--after", "1500000", "--json-response")
    try:
        async with McpBackends(ToolMiddleware(seed=0), {"big": ServerConfig(url=f"http://127.0.0.1:{port}/mcp")}) as mcp:
            refused = await mcp.call("search", {"query": "q"})
            served = await mcp.call("noop", {})  # the connection goes on
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert refused.is_error
    assert "the answer is over 1000000 bytes, the most the gateway reads of one message" in refused.content[0].text
    assert not served.is_error
