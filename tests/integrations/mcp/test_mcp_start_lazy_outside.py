"""``McpBackends.start_lazy`` outside the ``async with`` raises ``RuntimeError`` at once, as
``call`` does; it waited for servers that could not start until their connect timeout (plus 5
seconds), then returned as if they were down."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.mcp import McpBackends
from mcp_harness import pids_in, upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_start_lazy_outside_the_async_with_raises_at_once(pid_dir: Path) -> None:
    mcp = McpBackends(ToolMiddleware(seed=0), {"a": upstream("reliable", pid_dir, start="lazy", connect_timeout_s=1)})
    with pytest.raises(RuntimeError, match=r"^McpBackends: not started; call it inside `async with"):
        await mcp.start_lazy()
    async with mcp:
        pass
    with pytest.raises(RuntimeError, match=r"^McpBackends: closed; "):
        await mcp.start_lazy()
    assert pids_in(pid_dir) == set()  # the lazy server was never started
