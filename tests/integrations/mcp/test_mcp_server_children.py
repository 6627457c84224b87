"""Processes a stdio server started go with it: when the gateway shuts the server down (it exits
as its stdin closes), what is left of its process group is ended. They outlived the gateway."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from integrations.mcp import McpBackends
from mcp_harness import UPSTREAM, alive, pids_in, upstream, wait_gone
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def with_helper(kind: str, pid_dir: Path, *args: str) -> dict[str, Any]:
    """A server that starts a helper process of its own (its pid written to ``pid_dir``), then
    becomes the test server ``kind``."""
    script = f'sleep 300 & echo helper > "{pid_dir}/$!.pid"; exec "$@"'
    return {**upstream(kind, pid_dir, *args), "command": "/bin/sh", "args": ["-c", script, "sh", sys.executable, str(UPSTREAM), kind, *args]}


async def test_a_helper_of_a_server_the_gateway_shuts_down_goes_with_it(pid_dir: Path) -> None:
    async with McpBackends(ToolMiddleware(seed=0), {"a": with_helper("reliable", pid_dir)}) as mcp:
        assert mcp.upstreams["a"].state == "ready"
        helpers = alive(pids_in(pid_dir))
        assert len(helpers) == 2  # the server and its helper
    assert not wait_gone(helpers)

