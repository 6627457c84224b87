"""A tool of the agent's own that serves a capability beside the MCP servers (a local cache, say)
is routed with them by ``McpBackends.call``: its value comes back as a tool's result, named in
``_meta`` as the tool, with no server. The call raised AttributeError ('str' object has no
attribute 'meta') whenever the router chose it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from integrations.mcp import McpBackends
from mcp_harness import upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_tool_of_the_agents_own_serves_an_mcp_capability(pid_dir: Path) -> None:
    def cache(arguments: dict[str, Any]) -> Any:  # called with the arguments as one dict, as the servers' tools
        query = arguments["query"]
        return {"hits": 2, "query": query} if query == "as an object" else f"cached {query}"

    tools = ToolMiddleware(seed=0)
    tools.register(cache, "search", tool_id="cache")
    servers = {"down": upstream("flaky", pid_dir, "--fail-rate", "1.0")}  # every search fails: the cache serves
    async with McpBackends(tools, servers) as mcp:
        for i in range(3):
            result = await mcp.call("search", {"query": f"q{i}"})
            assert not result.is_error and result.content[0].text == f"cached q{i}"
            assert result.structured_content is None
            meta: dict[str, Any] = result.meta or {}
            assert (meta["toolrouter/server"], meta["toolrouter/tool"]) == (None, "cache")
        result = await mcp.call("search", {"query": "as an object"})
        assert not result.is_error and (result.meta or {})["toolrouter/tool"] == "cache"
        assert json.loads(result.content[0].text) == result.structured_content == {"hits": 2, "query": "as an object"}
