"""A regrouping the router refuses part of (here: the registration of a server's new tool) is
applied not at all: the tools served, the router's backends and what it learned stay as they
were, the failure is logged, and the server whose tools changed stays connected. A refusal left
the registrations half changed and ended that server's connection."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio
import pytest

from integrations.mcp import McpBackends
from mcp_harness import grow, refuse, two_growing_servers, upstream
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def state(mcp: McpBackends, tools: ToolMiddleware) -> dict[str, Any]:
    return {
        "capabilities": {n: c.members for n, c in mcp.capabilities.items()},
        "listing": [t.model_dump() for t in mcp.tools()],
        "backends": sorted(tools.tool_ids),
        "profiles": {i: p.model_dump() for i, p in tools.learner.tools.items()},
        "learned": {c: tools.learner.tool_statistics("mcp", c) for c in ("search", "extra")},
    }


async def test_a_refused_registration_leaves_the_grouping_as_it_was_and_the_server_connected(
    pid_dir: Path, caplog
) -> None:
    tools = ToolMiddleware(seed=0)
    async with McpBackends(tools, two_growing_servers(pid_dir)) as mcp:
        await grow(mcp, "a", "extra")
        for i in range(3):
            assert not (await mcp.call("search", {"query": f"q{i}"})).is_error
        assert not (await mcp.call("extra", {"text": "abc"})).is_error
        before = state(mcp, tools)

        refuse(tools, "b/extra")
        server = mcp.upstreams["b"]
        await server.call_tool("grow", {})  # b lists extra(words) and says so
        with anyio.fail_after(10):
            while not any("mcp_grouping_failed" in r.getMessage() for r in caplog.records):
                await anyio.sleep(0.02)
        assert state(mcp, tools) == before
        assert (server.state, server.connections) == ("ready", 1)
        assert [t.name for t in server.tools][-1] == "extra"  # its listing is known, its tools served as before
        assert (await mcp.call("extra", {"text": "abc"})).content[0].text == "cba"
        assert not (await mcp.call("b_status", {})).is_error
    failed = [r.getMessage() for r in caplog.records if "mcp_grouping_failed" in r.getMessage()]
    assert len(failed) == 1 and "server='b'" in failed[0] and "ValueError: tool_id: 'b/extra' refused" in failed[0]


async def test_a_server_coming_up_whose_last_tool_is_refused_adds_none_of_its_tools(pid_dir: Path, caplog) -> None:
    tools = ToolMiddleware(seed=0)
    servers = {"a": upstream("reliable", pid_dir, "--name", "a"), "c": upstream("reliable", pid_dir, "--name", "c", start="lazy")}
    async with McpBackends(tools, servers) as mcp:
        for i in range(3):
            assert not (await mcp.call("search", {"query": f"q{i}"})).is_error
        before = state(mcp, tools)
        refuse(tools, "c/grow")  # registered after c/search and c/noop
        await mcp.start_lazy()
        server = mcp.upstreams["c"]
        assert (server.state, server.connections) == ("ready", 1)
        assert state(mcp, tools) == before
        assert mcp.capabilities["search"].members == ("a:search",)
        assert not (await mcp.call("search", {"query": "q"})).is_error
    failed = [r.getMessage() for r in caplog.records if "mcp_grouping_failed" in r.getMessage()]
    assert len(failed) == 1 and "server='c'" in failed[0] and "'c/grow' refused" in failed[0]


async def test_a_refusal_after_a_backend_moved_to_another_capability_moves_it_back(pid_dir: Path, caplog) -> None:
    tools = ToolMiddleware(seed=0)
    servers = {"a": upstream("reliable", pid_dir, "--name", "a"), "b": upstream("reliable", pid_dir, "--name", "b")}
    async with McpBackends(tools, servers) as mcp:
        for i in range(6):
            assert not (await mcp.call("search", {"query": f"q{i}"})).is_error
        before = state(mcp, tools)
        assert before["capabilities"]["search"] == ("a:search", "b:search")
        # b lists search with another argument (b/search would move to b_search) and a new tool, refused
        server = mcp.upstreams["b"]
        q = {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]}
        search = next(t for t in server.tools if t.name == "search")
        others = tuple(t for t in server.tools if t.name != "search")
        server.tools = (*others, replace(search, input_schema=q), replace(search, name="extra"))
        refuse(tools, "b/extra")
        await mcp._tools_changed(server)  # as a new listing of b does
        assert state(mcp, tools) == before
        assert tools.learner.tools["b/search"].capabilities == ("search",)
        assert (await mcp.call("search", {"query": "q"})).content[0].text.endswith("results for q")
    failed = [r.getMessage() for r in caplog.records if "mcp_grouping_failed" in r.getMessage()]
    assert len(failed) == 1 and "'b/extra' refused" in failed[0]
