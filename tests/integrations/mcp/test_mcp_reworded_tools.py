"""A server that rewords a tool it serves (the same name and schema, a new description) and says
so: the router's profile of the tool takes the new description (what its reward model and
description features read), as the client's listing does, keeping what was learned."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends
from mcp_harness import upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_reworded_tool_reaches_the_router_and_keeps_what_was_learned(pid_dir: Path) -> None:
    tools = ToolMiddleware(seed=0)
    async with McpBackends(tools, {"w": upstream("rewording", pid_dir, "--name", "w")}) as mcp:
        assert tools.learner.tools["w/search"].description == "Search the web for pages about a query."
        for i in range(3):
            assert not (await mcp.call("search", {"query": f"q{i}"})).is_error
        assert not (await mcp.call("reword", {"text": "Look up news articles."})).is_error
        with anyio.fail_after(10):
            while mcp.capabilities["search"].description != "Look up news articles.":
                await anyio.sleep(0.02)
        assert tools.learner.tools["w/search"].description == "Look up news articles."
        assert tools.learner.tool_statistics("mcp", "search")["w/search"].calls == 3
