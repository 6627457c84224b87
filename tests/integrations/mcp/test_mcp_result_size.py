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

