"""Processes a stdio server started go with it: when the gateway shuts the server down (it exits
as its stdin closes), what is left of its process group is ended. They outlived the gateway.
A server that dies while a process it started holds its stdout open is down as one whose stdout
ended: its calls fail naming its exit status and it is started again. Its calls hung, and it stayed
"ready", for as long as that process lived."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from integrations.mcp import McpBackends
from mcp_harness import UPSTREAM, alive, pids_in, upstream, wait_gone
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def with_worker(kind: str, pid_dir: Path, *args: str) -> dict[str, Any]:
    """A server that starts a worker process of its own (its pid written to ``pid_dir``), then
    becomes the test server ``kind``."""
    script = f'sleep 300 & echo worker > "{pid_dir}/$!.pid"; exec "$@"'
    command = [sys.executable, str(UPSTREAM), kind, *args]
    return {**upstream(kind, pid_dir, *args), "command": "/bin/sh", "args": ["-c", script, "sh", *command]}


async def test_a_worker_of_a_server_the_gateway_shuts_down_goes_with_it(pid_dir: Path) -> None:
    async with McpBackends(ToolMiddleware(seed=0), {"a": with_worker("reliable", pid_dir)}) as mcp:
        assert mcp.upstreams["a"].state == "ready"
        workers = alive(pids_in(pid_dir))
        assert len(workers) == 2  # the server and its worker
    assert not wait_gone(workers)



async def test_a_server_that_dies_while_its_worker_holds_its_stdout_is_down(pid_dir: Path) -> None:
    async with McpBackends(ToolMiddleware(seed=0), {"dies": with_worker("dies", pid_dir, "--after", "0")}) as mcp:
        server = mcp.upstreams["dies"]
        workers = {int(p.stem) for p in pid_dir.glob("*.pid") if p.read_text().strip() == "worker"}
        assert len(workers) == 1 and alive(workers)
        with anyio.fail_after(20):  # it hung for as long as the worker lived
            with pytest.raises(MCPError, match="^Connection closed: the server exited with status 3$"):
                await server.call_tool("search", {"query": "q"})  # it exits, unanswered
            while server.state == "ready":  # down, to be started again
                await anyio.sleep(0.02)
        assert server.last_error == "MCPError: Connection closed: the server exited with status 3"
        assert not wait_gone(workers)  # gone with it, while the gateway runs on
