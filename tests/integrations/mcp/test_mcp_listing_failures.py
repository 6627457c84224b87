"""A server whose connection cannot be set up says why: one whose tools/list never ends (every
page names a next one, the same) fails at once naming the cursor, and one that does not answer
in time names what it did not answer and the setting that bounds it."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from integrations.mcp import McpBackends
from mcp_harness import upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_listing_that_repeats_its_cursor_fails_the_connection_at_once_naming_it(pid_dir: Path) -> None:
    servers = {
        "endless": upstream("endless", pid_dir, connect_timeout_s=30),
        "steady": upstream("reliable", pid_dir, "--name", "steady"),
    }
    async with McpBackends(ToolMiddleware(seed=0), servers) as mcp:
        endless = mcp.upstreams["endless"]
        assert endless.state == "down" and endless.connections == 0
        assert endless.last_error == (
            "MalformedResultError: server 'endless' gave the tools/list cursor 'page-2' twice: its listing never ends"
        )
        assert mcp.capabilities["search"].members == ("steady:search",)


async def test_a_server_that_does_not_answer_in_time_is_down_naming_the_timeout(pid_dir: Path) -> None:
    mute = {"command": sys.executable, "args": ["-c", "import sys; sys.stdin.read()"], "connect_timeout_s": 0.3}
    async with McpBackends(ToolMiddleware(seed=0), {"mute": mute}) as mcp:
        upstream_ = mcp.upstreams["mute"]
        assert upstream_.state == "down"
        assert upstream_.last_error == "TimeoutError: no answer to initialize and tools/list within connect_timeout_s (0.3 s)"
        result = await mcp.call("search", {"query": "q"})
        assert result.is_error and result.content[0].text.startswith("unknown tool 'search'")
