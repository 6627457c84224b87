"""A stdio server whose process exits says so, with its exit status, in the error of the calls it
leaves unanswered and in why it is down (its own reason is on its stderr, which goes to the
gateway's), where both said only "Connection closed"."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from integrations.mcp import McpBackends
from mcp_harness import upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_server_that_exits_at_start_is_down_naming_its_exit_status() -> None:
    quits = {"command": sys.executable, "args": ["-c", "import sys; sys.exit(7)"]}
    async with McpBackends(ToolMiddleware(seed=0), {"quits": quits}) as mcp:
        server = mcp.upstreams["quits"]
        assert server.state == "down"
        assert server.last_error == "ConnectionError: the server exited with status 7 before it was set up"


async def test_a_server_killed_by_a_signal_is_down_naming_the_signal() -> None:
    killed = {"command": sys.executable, "args": ["-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]}
    async with McpBackends(ToolMiddleware(seed=0), {"killed": killed}) as mcp:
        assert mcp.upstreams["killed"].last_error == "ConnectionError: the server was killed by signal 9 before it was set up"


async def test_a_server_that_exits_mid_call_fails_it_naming_its_exit_status(pid_dir: Path) -> None:
    tools = ToolMiddleware(seed=0, store="memory://")
    async with McpBackends(tools, {"d": upstream("dies", pid_dir, "--name", "d", "--after", "0")}) as mcp:
        result = await mcp.call("search", {"query": "q"})
        assert result.is_error
    [attempt] = tools.learner.store.attempts()
    assert attempt.error == "MCPError: Connection closed: the server exited with status 3"
