"""``toolrouter mcp serve`` with real MCP servers: upstream test servers written with the SDK's
``MCPServer`` run over stdio, the gateway runs as a subprocess, and the test is its client
(``ClientSession``). Every failure mode of an upstream is here: errors, malformed results, a slow
server, one that dies mid-call, one killed; and what the gateway promises: grouped tools, learning
which server is reliable, no lost call or outcome, restarts that resume, no orphan process."""

from __future__ import annotations

import collections
import json
import os
import signal
import sqlite3
import time
from pathlib import Path

from typing import Any

import anyio
import mcp_types as types
import pytest

from mcp_harness import (
    Wire,
    alive,
    gateway,
    http_gateway,
    open_gateway_process,
    pids_in,
    served_by,
    stop,
    tool_call,
    upstream,
    wait_gone,
    write_config,
)

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def attempts_in(store: Path) -> list[tuple[str, int, str | None]]:
    """(tool id, success, error) of every attempt the gateway recorded."""
    with sqlite3.connect(store) as db:
        return db.execute("SELECT tool_id, success, error FROM attempts ORDER BY id").fetchall()


async def test_the_gateway_lists_grouped_tools_and_passes_lone_ones_through(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {
        "alpha": upstream("reliable", pid_dir, "--name", "alpha"),
        "beta": upstream("flaky", pid_dir, "--name", "beta"),
        "gamma": upstream("malformed", pid_dir, "--name", "gamma"),
    })  # fmt: skip
    async with gateway(config, tmp_path) as gw:
        tools = {t.name: t for t in (await gw.session.list_tools()).tools}
        assert set(tools) == {"search", "noop", "grow", "alpha_status", "beta_status", "gamma_status"}
        assert tools["search"].input_schema["required"] == ["query"]
        assert tools["search"].description == "Search the web for pages about a query."
        assert tools["beta_status"].description == "How many searches beta has served."  # passed through
        status = await gw.session.call_tool("beta_status", {})
        assert not status.is_error and served_by(status) == ("beta", 1)


async def test_it_learns_to_prefer_the_reliable_server_and_loses_no_call(tmp_path: Path, pid_dir: Path) -> None:
    store = tmp_path / "gateway.db"
    config = write_config(tmp_path, {
        "flaky": upstream("flaky", pid_dir, "--fail-rate", "0.7"),
        "broken": upstream("malformed", pid_dir),
        "steady": upstream("reliable", pid_dir, "--name", "steady"),
    }, router={"store": f"sqlite:///{store}", "seed": 0, "circuit_breaker": None})  # fmt: skip
    first_try = []
    tried = 0
    async with gateway(config, tmp_path) as gw:
        for i in range(40):
            result = await gw.search(f"q{i}")
            server, attempts = served_by(result)
            assert not result.is_error, result.content  # every call got the good result, falling back
            first_try.append(server if attempts == 1 else None)
            tried += attempts
    # the project's target: within 20 calls it prefers the reliable server (at least 9 in 10 first tries after)
    assert first_try[20:].count("steady") >= 18, first_try
    recorded = attempts_in(store)
    assert len(recorded) == tried  # every attempt recorded, failures included
    errors = {tool: error for tool, success, error in recorded if not success}
    assert "malformed result" in errors["broken/search"] and "content.0" in errors["broken/search"]
    assert "overloaded" in errors["flaky/search"]


async def test_a_server_that_dies_mid_call_loses_no_call_and_no_outcome(tmp_path: Path, pid_dir: Path) -> None:
    store = tmp_path / "gateway.db"
    config = write_config(tmp_path, {
        "mortal": upstream("dies", pid_dir, "--after", "2"),
        "steady": upstream("reliable", pid_dir, "--name", "steady", cost_per_use=10.0),
    }, router={"store": f"sqlite:///{store}"}, reconnect={"initial_delay_s": 0.2, "jitter": 0})  # fmt: skip
    tried = 0
    async with gateway(config, tmp_path) as gw:
        results = []
        for i in range(12):
            result = await gw.search(f"q{i}")
            results.append(served_by(result))
            tried += served_by(result)[1]
            assert not result.is_error, result.content
        # the cheap server served until it died in the middle of its third call, which fell back
        assert results.count(("mortal", 1)) >= 2 and ("steady", 2) in results
        # it came back (a new process) after the backoff
        with anyio.fail_after(10):
            while len(pids_in(pid_dir)) < 3:
                await anyio.sleep(0.05)
    recorded = attempts_in(store)
    assert len(recorded) == tried
    died = [i for i, (tool, success, _) in enumerate(recorded) if tool == "mortal/search" and not success]
    assert died and "Connection closed" in recorded[died[0]][2]
    assert recorded[died[0] + 1][:2] == ("steady/search", 1)  # its call went on to the next server


async def test_a_killed_server_is_routed_around_and_reconnected(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {
        "one": upstream("reliable", pid_dir, "--name", "one"),
        "two": upstream("reliable", pid_dir, "--name", "two"),
    }, reconnect={"initial_delay_s": 0.3, "jitter": 0})  # fmt: skip
    async with gateway(config, tmp_path) as gw:
        first, _ = served_by(await gw.search("warm up"))
        victim = next(int(p.stem) for p in pid_dir.glob("*.pid") if p.read_text() == "reliable"
                      and f"--name {first}" in Path(f"/proc/{p.stem}/cmdline").read_text().replace("\0", " "))  # fmt: skip
        os.kill(victim, signal.SIGKILL)
        assert not wait_gone({victim}, 5)
        async with anyio.create_task_group() as group:  # calls in flight while it is down
            outcomes: list[types.CallToolResult] = []

            async def call(i: int) -> None:
                outcomes.append(await gw.search(f"q{i}"))

            for i in range(8):
                group.start_soon(call, i)
        assert all(not r.is_error for r in outcomes), [r.content for r in outcomes if r.is_error]
        with anyio.fail_after(10):
            while len(alive(pids_in(pid_dir))) < 2:  # reconnected: a new process for it
                await anyio.sleep(0.05)


async def test_a_slow_server_times_out_and_the_call_falls_back(tmp_path: Path, pid_dir: Path) -> None:
    store = tmp_path / "gateway.db"
    config = write_config(tmp_path, {
        # the cheap server is preferred at first, but it takes 5 s where 0.5 s are allowed
        "cheap": upstream("slow", pid_dir, "--delay", "5", timeout_s=0.5),
        "dear": upstream("reliable", pid_dir, "--name", "dear", cost_per_use=5.0),
    }, router={"store": f"sqlite:///{store}"})  # fmt: skip
    async with gateway(config, tmp_path) as gw:
        started = time.monotonic()
        result = await gw.search("bandits")
        elapsed = time.monotonic() - started
        # the server was told: its call was cancelled, not left running
        assert "1 cancelled" in await status_until(gw, "slow_status", "1 cancelled")
    assert not result.is_error and served_by(result) == ("dear", 2)
    assert elapsed < 3.0
    (slow, success, error), (fast, ok, _), *_status = attempts_in(store)
    assert (slow, success, fast, ok) == ("cheap/search", 0, "dear/search", 1)
    assert "TimeoutError" in error and "0.5 s" in error


async def status_until(gw: Any, tool: str, text: str, timeout_s: float = 10.0) -> str:
    """The text of ``tool``'s result once it contains ``text`` (or the last one after ``timeout_s``):
    a server learns of a cancellation a moment after the gateway gives up."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = await gw.session.call_tool(tool, {})
        answer = result.content[0].text
        if text in answer or time.monotonic() > deadline:
            return answer
        await anyio.sleep(0.05)


async def test_structured_content_its_output_schema_refuses_is_a_failure(tmp_path: Path, pid_dir: Path) -> None:
    store = tmp_path / "gateway.db"
    config = write_config(tmp_path, {
        # the odd server is preferred at first, and its answers do not fit its output schema
        "odd": upstream("misshapen", pid_dir, "--name", "odd"),
        "good": upstream("reliable", pid_dir, "--name", "good", cost_per_use=5.0),
    }, router={"store": f"sqlite:///{store}"})  # fmt: skip
    async with gateway(config, tmp_path) as gw:
        results = [await gw.search(f"q{i}") for i in range(4)]
    assert all(not r.is_error and served_by(r)[0] == "good" for r in results)
    errors = [error for tool, success, error in attempts_in(store) if tool == "odd/search"]
    assert errors and all("output schema does not allow: result: 5 is not of type 'string'" in e for e in errors)


async def test_every_server_failing_gives_an_error_result_listing_each_attempt(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {
        "flaky": upstream("flaky", pid_dir, "--fail-rate", "1.0"),
        "broken": upstream("malformed", pid_dir),
    })  # fmt: skip
    async with gateway(config, tmp_path) as gw:
        result = await gw.search("anything")
    assert result.is_error
    text = result.content[0].text
    assert text.startswith("tool 'search' failed: every server failed (2 attempts: ")
    assert "flaky/search: UpstreamToolError: Error executing tool search: flaky is overloaded" in text
    assert "broken/search: MalformedResultError: server 'broken' sent a malformed result" in text


async def test_a_server_not_tried_is_named_with_why_instead_of_every_server_failing_after_no_attempt(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {"flaky": upstream("flaky", pid_dir, "--fail-rate", "1.0")},
                          router={"circuit_breaker": {"failure_threshold": 1, "reset_timeout_s": 600}})  # fmt: skip
    async with gateway(config, tmp_path) as gw:
        first = await gw.search("q1")
        second = await gw.search("q2")
    assert first.is_error and first.content[0].text.startswith("tool 'search' failed: every server failed (1 attempt: flaky/search: ")
    # it read "every server failed (0 attempts: no server could be tried)"
    assert second.is_error and second.content[0].text == "tool 'search' failed: no server could be tried; skipped flaky/search (circuit open)"


async def test_bad_arguments_give_a_schema_error_and_run_nothing(tmp_path: Path, pid_dir: Path) -> None:
    store = tmp_path / "gateway.db"
    config = write_config(tmp_path, {"only": upstream("reliable", pid_dir)}, router={"store": f"sqlite:///{store}"})
    async with gateway(config, tmp_path) as gw:
        wrong_type = await gw.session.call_tool("search", {"query": 5})
        missing = await gw.session.call_tool("search", {})
        unknown = await gw.session.call_tool("serach", {"query": "x"})
    assert wrong_type.is_error and wrong_type.content[0].text == "invalid arguments for tool 'search': query: 5 is not of type 'string'"
    assert missing.is_error and "'query' is a required property" in missing.content[0].text
    assert unknown.is_error and unknown.content[0].text.startswith("unknown tool 'serach'; the tools are 'search', ")
    assert attempts_in(store) == []  # no server ran, nothing recorded


async def test_a_restarted_gateway_resumes_what_it_learned(tmp_path: Path, pid_dir: Path) -> None:
    store = tmp_path / "gateway.db"
    # a greedy router, so that what it does shows what it knows: the cheap flaky server is its
    # first choice before any outcome; what it learned is that the dear one serves better
    config = write_config(tmp_path, {
        "flaky": upstream("flaky", pid_dir, "--fail-rate", "0.9", "--seed", "1"),
        "steady": upstream("reliable", pid_dir, "--name", "steady", cost_per_use=3.0),
    }, router={"store": f"sqlite:///{store}", "policy": "epsilon_greedy", "policy_options": {"epsilon": 0.0},
               "circuit_breaker": None})  # fmt: skip
    async with gateway(config, tmp_path) as gw:
        first = [served_by(await gw.search(f"q{i}")) for i in range(15)]
        stop(gw.pid)  # SIGTERM: the gateway saves its snapshot on the way out
        assert not wait_gone({gw.pid}, 10)
    assert first[0] in (("flaky", 1), ("steady", 2))  # it went to flaky first
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT count(*) FROM snapshots WHERE name = 'learner'").fetchone() == (1,)
    async with gateway(config, tmp_path) as gw:
        again = [served_by(await gw.search(f"again {i}")) for i in range(8)]
    assert again == [("steady", 1)] * 8, again  # no starting from scratch: it knows flaky fails


@pytest.mark.parametrize("how", ["sigterm", "stdin closed"])
async def test_no_child_process_survives_the_gateway(tmp_path: Path, pid_dir: Path, how: str) -> None:
    config = write_config(tmp_path, {
        "a": upstream("reliable", pid_dir, "--name", "a"),
        "b": upstream("slow", pid_dir, "--delay", "30"),
        "lazy": upstream("reliable", pid_dir, "--name", "lazy", start="lazy"),
    })  # fmt: skip
    async with gateway(config, tmp_path) as gw:
        assert len(pids_in(pid_dir)) == 2  # the lazy server waits for the first request that needs it
        await gw.session.list_tools()
        assert len(pids_in(pid_dir)) == 3
        pid = gw.pid
        if how == "sigterm":
            with anyio.move_on_after(0.3):  # a call in flight on the slow server
                await gw.search("x")
            stop(pid)
            assert not wait_gone({pid}, 10), "the gateway did not exit on SIGTERM"
    children = pids_in(pid_dir)
    assert not wait_gone({pid, *children}, 10)


async def test_tools_list_changed_is_passed_on_to_the_client(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {
        "a": upstream("reliable", pid_dir, "--name", "a"),
        "b": upstream("flaky", pid_dir),
    })  # fmt: skip
    async with gateway(config, tmp_path) as gw:
        before = {t.name for t in (await gw.session.list_tools()).tools}
        assert "extra" not in before
        grown = await gw.session.call_tool("grow", {})
        assert not grown.is_error
        with anyio.fail_after(10):
            while not any(isinstance(n, types.ToolListChangedNotification) for n in gw.notifications):
                await anyio.sleep(0.02)
        after = {t.name for t in (await gw.session.list_tools()).tools}
        assert after == before | {"extra"}
        reversed_text = await gw.session.call_tool("extra", {"text": "abc"})
        assert reversed_text.content[0].text == "cba"


async def test_a_server_that_cannot_start_is_routed_around(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {
        "missing": {"command": str(tmp_path / "no-such-server")},
        "ok": upstream("reliable", pid_dir, "--name", "ok"),
    })  # fmt: skip
    async with gateway(config, tmp_path) as gw:
        result = await gw.search("x")
    assert not result.is_error and served_by(result) == ("ok", 1)


async def test_the_gateway_serves_streamable_http_on_loopback(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {
        "a": upstream("reliable", pid_dir, "--name", "a"),
        "b": upstream("reliable", pid_dir, "--name", "b"),
    })  # fmt: skip
    async with http_gateway(config, tmp_path) as (process, session):
        assert "search" in {t.name for t in (await session.list_tools()).tools}
        result = await session.call_tool("search", {"query": "over http"})
    assert not result.is_error and served_by(result)[0] in ("a", "b")
    assert result.content[0].text.endswith("results for over http")
    assert process.returncode == 0  # stopped by SIGTERM, cleanly
    assert not wait_gone(pids_in(pid_dir), 10)
    assert collections.Counter(p.read_text() for p in pid_dir.glob("*.pid")) == {"reliable": 2}


async def test_calls_on_the_wire_get_json_rpc_answers_by_their_ids(tmp_path: Path, pid_dir: Path) -> None:
    """The client's side of the stdio pipes, line by line: a call is answered under its own id
    (a number or a string), a call the client cancels gets no answer, and a request the protocol
    refuses gets the SDK's error."""
    config = write_config(tmp_path, {"slow": upstream("slow", pid_dir, "--name", "slow", "--delay", "20")})
    process = await open_gateway_process(config)
    wire = Wire(process)
    send, answer = wire.send, wire.answer
    call = tool_call
    try:
        await wire.handshake()
        await send(call("s", "search", {"query": "q"}))  # 20 s upstream: cancelled below, never answered
        await send(call(3, "slow_status", {}))
        status = await answer()
        assert status["id"] == 3 and status["result"]["_meta"]["toolrouter/server"] == "slow"
        await send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": "s"}})
        for i in range(100):  # the server hears of the cancellation a moment later
            await send(call(f"status-{i}", "slow_status", {}))
            status = await answer()
            assert status["id"] == f"status-{i}"  # not "s": a cancelled call is not answered
            if "1 cancelled" in status["result"]["content"][0]["text"]:
                break
            await anyio.sleep(0.05)
        assert "1 cancelled" in status["result"]["content"][0]["text"]
        await send(call(7, "search", [1]))  # arguments must be an object
        refused = await answer()
        assert refused["id"] == 7 and refused["error"]["code"] == types.INVALID_PARAMS
        # requests that break JSON-RPC itself, which the SDK drops unanswered, are answered here
        await send(
            {**call(8, "search", {"query": "q"}), "jsonrpc": "1.0"},
            {"jsonrpc": "2.0", "id": "nine", "method": "tools/list", "params": [1]},
            call(10, "search", {"query": "\ud800"}),  # a lone surrogate: no JSON reader takes it
            {"jsonrpc": "2.0", "method": "notifications/initialized", "params": [1]},  # a notification: no answer
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": [1]},  # nor this one
            {"jsonrpc": "2.0", "id": "listed", "method": "tools/list", "params": None},  # null params: as if left out
            call(11, "noop", {}),
            {**call(12, "noop", {}), "id": 12.5},  # an id MCP does not take (a string or an integer): the SDK dropped it
            {"jsonrpc": "2.0", "id": None, "method": "ping"},
        )
        problems = {}
        for _ in range(7):
            reply = await answer()
            problems[reply["id"]] = reply.get("error", {}).get("message")
        assert problems[8] == 'invalid request: \'jsonrpc\' must be "2.0", got "1.0"'
        assert problems["nine"] == "invalid request: 'params' must be an object, got [1]"
        assert problems[10].startswith("invalid request: the message cannot be read as JSON")
        assert problems[11] is None and problems["listed"] is None  # answered, with their results
        assert problems[12.5] == "invalid request: 'id' must be a string or an integer, got 12.5"
        assert problems[None] == "invalid request: 'id' must be a string or an integer, got null"
    finally:
        await process.stdin.aclose()
        with anyio.fail_after(30):
            await process.wait()


def test_stopping_on_a_store_that_cannot_take_its_attempts_logs_instead_of_raising(tmp_path: Path, caplog) -> None:
    import logging

    from integrations.mcp.config import GatewayConfig
    from integrations.mcp.gateway import Gateway
    from toolrouter.store import AttemptRecord

    db = tmp_path / "gateway.db"
    gw = Gateway(GatewayConfig.model_validate({"mcpServers": {"a": {"command": "x"}}, "router": {"store": f"sqlite:///{db}"}}))
    os.remove(db)  # deleted under the running gateway: the attempt below waits in memory
    gw.middleware.learner.store.append([AttemptRecord("t", "mcp", "s", "s", "a:s", True, 1.0, 0.0, 0.0, 1.0)])
    with caplog.at_level(logging.WARNING, logger="integrations"):
        gw._save()  # what serving ends with
    assert "mcp_gateway_close_failed" in caplog.text and "1 attempts, trace closes or tool removals wait in memory" in caplog.text


def test_stopping_closes_the_router_the_gateway_built_and_leaves_one_passed_in_open(tmp_path: Path) -> None:
    from integrations.mcp.config import GatewayConfig
    from integrations.mcp.gateway import Gateway
    from toolrouter import ToolMiddleware

    config = GatewayConfig.model_validate({"mcpServers": {"a": {"command": "x"}}})
    tools = ToolMiddleware(store=f"sqlite:///{tmp_path / 'own.db'}", seed=0)
    Gateway(config, tools)._save()  # what serving ends with
    assert tools.learner.store.snapshot_names()  # saved, as the gateway's own router would be
    tools.register(lambda query: query, "search", tool_id="local")  # still open: its owner goes on with it
    assert tools.call("search", "q") == "q"
    tools.close()
    built = Gateway(config.model_copy(update={"router": config.router.model_copy(update={"store": f"sqlite:///{tmp_path / 'gw.db'}"})}))
    built._save()
    with pytest.raises(ValueError, match="closed"):
        built.middleware.call("search", "q")


async def test_a_line_over_the_limit_is_dropped_and_its_request_refused_without_stopping_the_gateway() -> None:
    import asyncio

    from integrations.mcp.gateway import _PipeLines

    class Answers:
        def __init__(self) -> None:
            self.refused: list[tuple[Any, str]] = []

        def take(self, line: str) -> bool:
            return False

        def refuse_malformed(self, line: str) -> bool:
            return False

        def refuse(self, request_id: Any, message: str) -> None:
            self.refused.append((request_id, message))

        async def drained(self) -> None:
            pass  # nothing in flight at the end of the lines

    reader = asyncio.StreamReader(limit=64)
    answers = Answers()
    lines = _PipeLines(reader, answers, limit=64)  # type: ignore[arg-type]
    long_call = json.dumps(tool_call(7, "search", {"query": "q" * 200})).encode() + b"\n"
    reader.feed_data(b'{"before": 1}\n' + long_call[:100])
    reader.feed_data(long_call[100:] + b'"x' * 50 + b'"\n{"after": 2}\n')  # two long lines, then a short one
    reader.feed_data(b'{"jsonrpc": "2.0", "id": 8, "result": {"text": "' + b"z" * 100 + b'"}}\n')  # a response: no answer
    reader.feed_data(b'{"jsonrpc": "2.0", "id": "big", "method": "m", "params": {"a": "' + b"y" * 100)  # cut off by the end
    reader.feed_eof()
    received = [line async for line in lines]
    assert received == ['{"before": 1}\n', '{"after": 2}\n']
    assert [request_id for request_id, _ in answers.refused] == [7, "big"]
    assert f"the message is {len(long_call)} bytes, over the gateway's limit of 64 bytes" in answers.refused[0][1]
