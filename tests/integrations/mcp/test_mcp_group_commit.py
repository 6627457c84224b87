"""The gateway's group commit: the attempts that end in one pass of its event loop are recorded in
one store transaction before that pass's answers are written. No answer leaves before its
attempts are committed; a commit the store refuses turns its calls' answers into errors; a gateway
killed right after answering has every answered call's attempts in its store."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import anyio
import pytest

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway, _DirectAnswers
from mcp_harness import Wire, open_gateway_process, pids_in, tool_call, upstream, wait_gone, write_config

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def call(request_id: int | str, query: str) -> dict[str, Any]:
    return tool_call(request_id, "search", {"query": query})


def successes_in(store: Path) -> int:
    with sqlite3.connect(store) as db:
        return int(db.execute("SELECT COUNT(*) FROM attempts WHERE success = 1").fetchone()[0])


class Client:
    """The client's end of the gateway's stdout: each write, with what the store held as it left."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.answers: list[dict[str, Any]] = []
        self.successes_stored_at_write: list[int] = []  # per answer: successful attempts committed when it was sent

    def write_now(self, data: bytes) -> None:
        stored = successes_in(self.store)
        for line in data.splitlines():
            self.answers.append(json.loads(line))
            self.successes_stored_at_write.append(stored)

    async def flush(self) -> None:
        pass

    async def wait_for(self, n: int) -> None:
        with anyio.fail_after(30):
            while len(self.answers) < n:
                await anyio.sleep(0.01)


def in_process(tmp_path: Path, pid_dir: Path) -> tuple[Gateway, Client, Path]:
    store = tmp_path / "gateway.db"
    servers = {f"s{i}": upstream("reliable", pid_dir, "--name", f"s{i}") for i in range(2)}
    config = GatewayConfig.model_validate({"servers": servers, "router": {"store": f"sqlite:///{store}", "seed": 0}})
    gateway = Gateway(config)
    async def told() -> None:
        pass

    # a connection past its handshake, told of tool changes
    gateway._clients[0] = SimpleNamespace(protocol_version="2025-11-25", send_tool_list_changed=told)
    return gateway, Client(store), store


async def test_no_answer_leaves_before_its_attempts_are_committed(tmp_path: Path, pid_dir: Path) -> None:
    gateway, client, store = in_process(tmp_path, pid_dir)
    answers = _DirectAnswers(gateway, client)  # type: ignore[arg-type]
    appends: list[int] = []
    learner_store = gateway.middleware.learner.store
    append = learner_store.append
    learner_store.append = lambda records: appends.append(len(records)) or append(records)  # type: ignore[method-assign]
    async with gateway.backends:
        for i in range(12):
            assert answers.take(json.dumps(call(i, f"q{i}")))
        await client.wait_for(12)
        await answers.close()
    assert sorted(a["id"] for a in client.answers) == list(range(12))
    assert all(not a["result"].get("isError") for a in client.answers)
    # each answer's success was in the store when the answer was written
    answered = range(1, 13)
    assert all(stored >= n for stored, n in zip(client.successes_stored_at_write, answered)), client.successes_stored_at_write
    assert sum(appends) == successes_in(store) == 12 and len(appends) <= 12


async def test_a_refused_commit_answers_its_calls_with_the_error_and_records_nothing(tmp_path: Path, pid_dir: Path) -> None:
    gateway, client, store = in_process(tmp_path, pid_dir)
    answers = _DirectAnswers(gateway, client)  # type: ignore[arg-type]
    learner = gateway.middleware.learner
    append = learner.store.append
    refusal = [sqlite3.OperationalError("disk I/O error")]

    def failing_once(records: Any) -> list[int]:
        if refusal:
            raise refusal.pop()
        return append(records)

    learner.store.append = failing_once  # type: ignore[method-assign]
    async with gateway.backends:
        assert answers.take(json.dumps(call("first", "q")))
        await client.wait_for(1)
        calls_learned = sum(s.calls for s in learner.tool_statistics().values())
        assert answers.take(json.dumps(call("second", "q")))
        await client.wait_for(2)
        await answers.close()
    first, second = client.answers
    assert first["id"] == "first" and first["error"]["message"] == "the gateway could not record the call: disk I/O error"
    assert calls_learned == 0  # the refused attempt was not learned either
    assert second["id"] == "second" and not second["result"].get("isError")
    assert successes_in(store) == 1  # the second call's attempt alone


async def test_a_gateway_killed_after_answering_has_every_answered_attempt_in_its_store(tmp_path: Path, pid_dir: Path) -> None:
    store = tmp_path / "gateway.db"
    servers = {f"s{i}": upstream("reliable", pid_dir, "--name", f"s{i}") for i in range(4)}
    config = write_config(tmp_path, servers, router={"store": f"sqlite:///{store}", "seed": 0})
    process = await open_gateway_process(config)
    wire = Wire(process)
    try:
        await wire.handshake()
        await wire.send(*(call(i, f"q{i}") for i in range(16)))  # 16 calls at once: several per pass
        answered = [await wire.answer() for _ in range(16)]
    finally:
        process.send_signal(signal.SIGKILL)  # no shutdown: only what was committed is left
        with anyio.fail_after(30):
            await process.wait()
        await process.aclose()
    assert sorted(a["id"] for a in answered) == list(range(16)) and all("result" in a for a in answered)
    assert successes_in(store) == 16
    assert not wait_gone(pids_in(pid_dir), 10)  # the upstreams end with the gateway's pipes
