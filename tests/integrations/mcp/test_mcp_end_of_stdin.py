"""A client that writes its requests to the gateway and closes stdin (``cat requests.jsonl |
toolrouter mcp serve``) gets an answer to every request read: the gateway stopped at the end of
stdin and cancelled the calls in flight, the last requests' answers lost (or "Connection closed").
So does a recorded session read from a file (``toolrouter mcp serve < recorded.jsonl``), its
JSON-RPC batches too: the SDK's reader, which read a file, passed a batch to a server that drops
it unanswered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import mcp_types as types
import pytest

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway, _DirectAnswers
from mcp_harness import leave, open_gateway_process, tool_call, upstream, write_config

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

INIT = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "cat", "version": "1"}}


def requests() -> list[dict[str, Any]]:
    """A handshake, then calls of a search that takes 0.5 s: in flight when stdin ends."""
    return [
        {"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": INIT},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        tool_call(1, "search", {"query": "first"}),  # before any request of ours was served: the SDK's
        {"jsonrpc": "2.0", "id": "list", "method": "tools/list"},
        tool_call(2, "search", {"query": "second"}),
    ]


async def test_every_request_read_before_the_end_of_stdin_is_answered(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {"slow": upstream("slow", pid_dir, "--name", "slow", "--delay", "0.5")})
    process = await open_gateway_process(config)
    async with process:
        await process.stdin.send("".join(json.dumps(m) + "\n" for m in requests()).encode())
        await process.stdin.aclose()  # all sent: the client waits for its answers
        received = b""
        with anyio.fail_after(30):
            async for chunk in process.stdout:
                received += chunk
            assert await process.wait() == 0
    answers = {a["id"]: a for a in map(json.loads, received.splitlines())}
    assert set(answers) == {"init", "list", 1, 2}
    for request_id, query in ((1, "first"), (2, "second")):
        result = answers[request_id]["result"]
        assert not result["isError"] and result["content"][0]["text"] == f"slow: results for {query}"


async def test_a_session_read_from_a_file_is_answered_as_one_read_from_a_pipe(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {"slow": upstream("slow", pid_dir, "--name", "slow", "--delay", "0.5")})
    batch = [{"jsonrpc": "2.0", "id": "ping", "method": "ping"}]
    recorded = tmp_path / "recorded.jsonl"
    recorded.write_text("".join(json.dumps(m) + "\n" for m in [*requests(), batch]))
    with recorded.open("rb") as stdin:
        process = await open_gateway_process(config, stdin)
    async with process:
        received = b""
        with anyio.fail_after(30):
            async for chunk in process.stdout:
                received += chunk
            assert await process.wait() == 0
    lines = list(map(json.loads, received.splitlines()))
    answers = {a["id"]: a for a in lines if isinstance(a, dict)}
    assert set(answers) == {"init", "list", 1, 2}
    assert all("result" in answers[request_id] for request_id in (1, 2))
    (refused,) = [a for a in lines if isinstance(a, list)]
    assert [(r["id"], r["error"]["code"]) for r in refused] == [("ping", types.INVALID_REQUEST)]



async def test_a_client_gone_with_a_call_the_sdk_serves_ends_the_gateway_cleanly(tmp_path: Path, pid_dir: Path) -> None:
    # a call read with the handshake is the SDK's to serve: once the client had closed stdin and
    # stdout, the SDK's flush of what it wrote crashed the gateway (exit status 1, a traceback)
    slow = upstream("slow", pid_dir, "--name", "slow", "--delay", "600", timeout_s=600)
    config = write_config(tmp_path, {"slow": slow}, router={"deadline_s": 600})
    process = await open_gateway_process(config)
    async with process:
        await process.stdin.send("".join(json.dumps(m) + "\n" for m in requests()[:3]).encode())
        with anyio.fail_after(30):
            assert b'"id":"init"' in await process.stdout.receive()  # serving: the call is in flight
            await leave(process)
            assert await process.wait() == 0


class Client:
    """The client's side of ``_DirectAnswers``: what is sent to it, and a client that never leaves."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send(self, text: str) -> None:
        self.sent.append(text)

    async def gone(self) -> None:
        await anyio.sleep_forever()


async def test_the_end_of_stdin_waits_for_the_sdks_answers_but_not_for_a_subscription_stream() -> None:
    # a subscriptions/listen stream ends only with the connection: waited for, it held every
    # 2026 client's gateway for the whole grace
    gateway = Gateway(GatewayConfig.model_validate({"mcpServers": {"a": {"command": "x"}}}))
    answers = _DirectAnswers(gateway, Client())  # type: ignore[arg-type]
    try:
        listen = {"jsonrpc": "2.0", "id": "listen", "method": "subscriptions/listen", "params": {}}
        for request in (listen, {"jsonrpc": "2.0", "id": "p", "method": "ping"}):
            assert not answers.refuse_malformed(json.dumps(request))  # left to the SDK
        async with anyio.create_task_group() as group:
            drained = anyio.Event()

            async def drain() -> None:
                await answers.drained()
                drained.set()

            group.start_soon(drain)
            await anyio.sleep(0.05)
            assert not drained.is_set()  # the ping is not answered yet
            await answers.write('{"jsonrpc":"2.0","id":"p","result":{}}\n')  # as the SDK writes its answer
            with anyio.fail_after(5):
                await drained.wait()
    finally:
        gateway.middleware.close()
