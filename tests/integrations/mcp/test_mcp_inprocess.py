"""MCP servers' tools as backends of a ``ToolMiddleware`` in the agent's own process
(``McpBackends``): the same grouping, routing, fallbacks and recording as the gateway, over stdio
and streamable HTTP upstreams."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import anyio
import pytest

from integrations.mcp import GatewayConfig, GroupingError, McpBackends, ServerConfig
from mcp_harness import free_port, pids_in, serve_over_http, served_by, upstream, wait_gone
from toolrouter import ToolMiddleware
from toolrouter.drift import request_key
from toolrouter.errors import NoToolForCapabilityError

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_an_agent_routes_mcp_tools_in_process(pid_dir: Path) -> None:
    tools = ToolMiddleware(seed=0, store="memory://")
    servers = {
        "steady": upstream("reliable", pid_dir, "--name", "steady"),
        "flaky": upstream("flaky", pid_dir, "--fail-rate", "1.0"),
    }
    mcp = McpBackends(tools, servers)
    with pytest.raises(RuntimeError, match="McpBackends: not started"):
        await mcp.call("search", {"query": "early"})  # not "unknown tool", nor a wait for lazy servers
    async with mcp:
        specs = {t.name: t for t in mcp.tools()}
        assert specs["search"].input_schema["required"] == ["query"]
        assert specs["search"].annotations.read_only_hint is True  # the servers' hints reach the client
        assert mcp.capabilities["search"].members == ("steady:search", "flaky:search")
        assert sorted(tools.tool_ids) == sorted(
            [f"{s}/{t}" for s in ("steady", "flaky") for t in ("search", "noop", f"{s}_status")] + ["steady/grow"]
        )
        results = [await mcp.call("search", {"query": f"q{i}"}) for i in range(6)]
        assert all(not r.is_error and served_by(r)[0] == "steady" for r in results)
        # the middleware routes the capability like any other: the value is the server's result
        value = await tools.acall("search", {"query": "direct"})
        assert value.content[0].text == "steady: results for direct"
        stats = tools.learner.tool_statistics("mcp", "search")
        assert stats["flaky/search"].successes == 0 and stats["steady/search"].successes >= 6
        invalid = await mcp.call("search", {"query": ["not", "text"]})
        assert invalid.is_error and invalid.content[0].text.startswith("invalid arguments for tool 'search': query: ")
        # arguments no server could be sent are the caller's mistake: no server runs, none is blamed
        recorded = len(tools.learner.store.attempts())
        unsendable = {
            "a list": (["query", "q"], "expected an object of named arguments, got list ['query', 'q']"),
            "NaN": ({"query": "q", "limit": math.nan}, "arguments: cannot be sent as JSON (ValueError: Out of range float"),
            "a lone surrogate": ({"query": "\ud800"}, "arguments: cannot be sent as JSON (UnicodeEncodeError: "),
        }
        for arguments, problem in unsendable.values():
            result = await mcp.call("search", arguments)  # type: ignore[arg-type]
            assert result.is_error and result.content[0].text.startswith(f"invalid arguments for tool 'search': {problem}")
        # nested deeper than the SDK reads a message (200 levels, the message and its params two of
        # them): refused, where the SDK failed to write it, or the server dropped it unread (the
        # call timing out), and the server was blamed
        for levels in (300, 199):
            result = await mcp.call("search", {"query": "q", "filters": nested(levels - 1)})
            assert result.is_error and result.content[0].text == (
                "invalid arguments for tool 'search': arguments: nested more than 198 levels deep (objects and "
                "arrays), more than an MCP message carries"
            )
        assert len(tools.learner.store.attempts()) == recorded
        assert not (await mcp.call("search", {"query": "q", "filters": nested(197)})).is_error  # 198 levels: served
    assert not wait_gone(pids_in(pid_dir), 10)  # leaving shuts every server down
    recorded = len(tools.learner.store.attempts())
    with pytest.raises(RuntimeError, match="McpBackends: closed"):
        await mcp.call("search", {"query": "too late"})
    assert len(tools.learner.store.attempts()) == recorded  # servers this process stopped are not blamed
    with pytest.raises(NoToolForCapabilityError, match="no registered function serves 'search'"):
        await tools.acall("search", {"query": "too late"})  # the router knows them still; nothing to call
    assert len(tools.learner.store.attempts()) == recorded


def nested(levels: int) -> list[Any]:
    """Arrays ``levels`` deep, one inside the other."""
    value: list[Any] = []
    for _ in range(levels - 1):
        value = [value]
    return value


async def test_incompatible_tools_in_an_explicit_group_are_refused_and_nothing_is_left_running(pid_dir: Path) -> None:
    tools = ToolMiddleware(seed=0)
    servers = {"a": upstream("reliable", pid_dir, "--name", "a"), "b": upstream("reliable", pid_dir, "--name", "b")}
    grouping = {"capabilities": {"lookup": {"tools": ["a:search", "b:b_status"]}}}
    config = GatewayConfig.model_validate({"servers": servers, "grouping": grouping})
    with pytest.raises(GroupingError) as info:
        async with McpBackends(tools, config):
            pass
    assert str(info.value) == (
        "grouping.capabilities.lookup: tools 'a:search' and 'b:b_status' take different arguments: "
        "field 'query' is a required argument of the first only"
    )
    assert not wait_gone(pids_in(pid_dir), 10)
    assert tools.tool_ids == []  # the middleware as it was


async def test_an_upstream_over_streamable_http(pid_dir: Path, tmp_path: Path) -> None:
    port = free_port()
    process = await serve_over_http(port, "web", tmp_path)
    try:
        tools = ToolMiddleware(seed=0)
        servers = {"web": ServerConfig(url=f"http://127.0.0.1:{port}/mcp"), "local": upstream("reliable", pid_dir)}
        async with McpBackends(tools, servers) as mcp:
            assert mcp.capabilities["search"].members == ("web:search", "local:search")
            served = {served_by(await mcp.call("search", {"query": f"q{i}"}))[0] for i in range(8)}
            assert "web" in served
    finally:
        process.terminate()
        process.wait(timeout=10)


async def test_an_http_upstream_that_restarts_gets_a_new_session(tmp_path: Path) -> None:
    # the restarted server answers the old session's requests with 404: a new session, not failures for good
    port = free_port()
    process = await serve_over_http(port, "first", tmp_path)
    try:
        async with McpBackends(ToolMiddleware(seed=0), {"web": ServerConfig(url=f"http://127.0.0.1:{port}/mcp")}) as mcp:
            assert not (await mcp.call("first_status", {})).is_error
            process.kill()
            process.wait(timeout=10)
            process = await serve_over_http(port, "second", tmp_path)
            with anyio.fail_after(20):
                while "second_status" not in mcp.capabilities:  # its tools, listed on the new session
                    await mcp.call("noop", {})
                    await anyio.sleep(0.2)
            assert mcp.upstreams["web"].connections == 2
            assert not (await mcp.call("second_status", {})).is_error
    finally:
        process.kill()
        process.wait(timeout=10)


async def test_a_router_without_a_context_judges_mcp_calls_by_their_arguments(pid_dir: Path) -> None:
    # gaussian_ts has no context, but with drift detection its detectors keep each server's record
    # per request: the call's arguments, as the JSON text a contextual policy sees
    tools = ToolMiddleware(seed=0, drift_detection={})
    assert tools.learner.learns_from_requests and not ToolMiddleware(seed=0).learner.learns_from_requests
    async with McpBackends(tools, {"steady": upstream("reliable", pid_dir, "--name", "steady")}) as mcp:
        for query in ("a", "b", "a"):
            assert not (await mcp.call("search", {"query": query})).is_error
        # an in-process caller's keys of several types (sent as JSON's strings): sorting them raised
        # TypeError out of the call
        assert not (await mcp.call("search", {"query": "c", 1: "x"})).is_error  # type: ignore[dict-item]
        detector = tools.learner._routes[("mcp", "search")].detectors["steady/search"]
        sent = [{"query": "a"}, {"query": "b"}, {"query": "c", "1": "x"}]
        keys = {request_key(json.dumps(arguments, sort_keys=True)): n for arguments, n in zip(sent, (2, 1, 1))}
        assert detector.state_dict()["requests"] == {k: [n, n] for k, n in keys.items()}
