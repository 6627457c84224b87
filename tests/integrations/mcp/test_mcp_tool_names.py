"""A server that lists a tool name twice, or names the router cannot hold as they are (empty,
padded with spaces, a NUL character): those tools are left out with a warning, and the server's
other tools, and every other server's, are served as usual."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.mcp import McpBackends
from mcp_harness import served_by, upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_tools_a_server_misnames_are_left_out_and_the_rest_is_served(pid_dir: Path, caplog) -> None:
    tools = ToolMiddleware(seed=0)
    servers = {"odd": upstream("misnamed", pid_dir, "--name", "odd"), "steady": upstream("reliable", pid_dir, "--name", "steady")}
    async with McpBackends(tools, servers) as mcp:
        assert {n: u.state for n, u in mcp.upstreams.items()} == {"odd": "ready", "steady": "ready"}
        assert [t.name for t in mcp.upstreams["odd"].tools] == ["search", "noop", "odd_status"]
        search = mcp.capabilities["search"]
        assert search.members == ("odd:search", "steady:search")
        assert [t.description for t in search.backends][0] == "Search the web for pages about a query."  # the first one
        assert sorted(t for t in tools.tool_ids if t.startswith("odd/")) == ["odd/noop", "odd/odd_status", "odd/search"]
        for i in range(4):
            result = await mcp.call("search", {"query": f"q{i}"})
            assert not result.is_error and served_by(result)[0] in ("odd", "steady")
    skipped = [r.getMessage() for r in caplog.records if "mcp_upstream_tool_skipped" in r.getMessage()]
    assert len(skipped) == 4 and all("server='odd'" in m for m in skipped)
    assert any("'search' is listed twice" in m for m in skipped)
    assert any("has spaces around it" in m for m in skipped)
