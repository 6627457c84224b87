"""How the gateway reads and writes a stdio upstream's pipes (``_StdioPipes``), with the process's
pipes played by memory streams: calls made together go out in one write, answers resolve their
calls from the chunk they came in, everything else goes to the ``ClientSession``."""

from __future__ import annotations

import json
from typing import Any

import anyio
import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError
from mcp.shared.message import SessionMessage

from integrations.mcp.upstream import _StdioPipes

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


class Stdin:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.written = anyio.Event()

    async def send(self, data: bytes) -> None:
        self.writes.append(data)
        self.written.set()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for data in self.writes for line in data.splitlines()]


class Process:
    def __init__(self) -> None:
        self.stdin = Stdin()
        self._send, self._receive = anyio.create_memory_object_stream[bytes](10)

    async def answer(self, data: bytes) -> None:
        await self._send.send(data)

    def end(self, status: int = 0) -> None:
        self._send.close()
        self.returncode = status

    returncode: int | None = None

    async def wait(self) -> int:
        while self.returncode is None:
            await anyio.sleep(0.01)
        return self.returncode

    @property
    def stdout(self) -> "Process":
        return self

    async def receive(self) -> bytes:
        return await self._receive.receive()


async def serving(pipes: _StdioPipes, tasks: Any) -> None:
    tasks.start_soon(pipes._read)
    tasks.start_soon(pipes._write)
    tasks.start_soon(pipes._from_sdk)


async def failure(pipes: _StdioPipes, tool: str, into: list[MCPError]) -> None:
    """Call ``tool`` and put the ``MCPError`` it fails with into ``into``."""
    try:
        await pipes.call_tool(tool, {})
    except MCPError as exc:
        into.append(exc)


async def test_calls_made_together_go_out_in_one_write_and_are_answered_from_one_chunk() -> None:
    process = Process()
    pipes = _StdioPipes(process)
    results: dict[str, Any] = {}
    async with anyio.create_task_group() as tasks:
        await serving(pipes, tasks)

        async def call(tool: str) -> None:
            results[tool], _ = await pipes.call_tool(tool, {"q": tool})

        for tool in ("a", "b", "c"):
            tasks.start_soon(call, tool)
        await process.stdin.written.wait()
        assert len(process.stdin.writes) == 1  # the three requests, one write
        requests = process.stdin.lines()
        assert [(r["method"], r["params"]) for r in requests] == [("tools/call", {"name": t, "arguments": {"q": t}}) for t in "abc"]
        answers = [{"jsonrpc": "2.0", "id": r["id"], "result": {"content": [], "tool": r["params"]["name"]}} for r in requests]
        chunk = "\n".join(json.dumps(a) for a in reversed(answers)).encode() + b"\n"
        first_end = chunk.index(b"\n")
        for part in (chunk[:10], chunk[10:20], chunk[20:first_end + 5], chunk[first_end + 5 :]):
            await process.answer(part)  # lines split across reads, one over three
        with anyio.fail_after(5):
            while len(results) < 3:
                await anyio.sleep(0.01)
        tasks.cancel_scope.cancel()
    assert {tool: result["tool"] for tool, result in results.items()} == {"a": "a", "b": "b", "c": "c"}


async def test_other_messages_go_to_the_sdk_and_an_error_answer_raises() -> None:
    process = Process()
    pipes = _StdioPipes(process)
    async with anyio.create_task_group() as tasks:
        await serving(pipes, tasks)
        notification = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
        await process.answer(json.dumps(notification).encode() + b"\nnot json\n")
        with anyio.fail_after(5):
            first = await pipes.sdk_read.receive()
            second = await pipes.sdk_read.receive()
        assert isinstance(first.message, types.JSONRPCNotification) and first.message.method == notification["method"]
        assert isinstance(second, Exception)  # what the SDK's own transport hands the ClientSession

        async def failing() -> None:
            with pytest.raises(MCPError, match="no such tool"):
                await pipes.call_tool("x", {})

        tasks.start_soon(failing)
        await process.stdin.written.wait()
        request_id = process.stdin.lines()[-1]["id"]
        error = {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32602, "message": "no such tool"}}
        await process.answer(json.dumps(error).encode() + b"\n")
        await pipes.sdk_write.send(SessionMessage(types.JSONRPCRequest(jsonrpc="2.0", id=7, method="ping")))
        with anyio.fail_after(5):
            while not any(line.get("method") == "ping" for line in process.stdin.lines()):
                await anyio.sleep(0.01)
        tasks.cancel_scope.cancel()


async def test_a_cancelled_call_is_cancelled_on_the_server_and_the_end_of_stdout_fails_the_rest() -> None:
    process = Process()
    pipes = _StdioPipes(process)
    async with anyio.create_task_group() as tasks:
        await serving(pipes, tasks)
        with anyio.move_on_after(0.2):
            await pipes.call_tool("slow", {})
        with anyio.fail_after(5):
            while len(process.stdin.lines()) < 2:
                await anyio.sleep(0.01)
        call, cancel = process.stdin.lines()
        assert cancel["method"] == "notifications/cancelled" and cancel["params"]["requestId"] == call["id"]

        outcome: list[MCPError] = []
        tasks.start_soon(failure, pipes, "left", outcome)
        await anyio.sleep(0.05)
        process.end()  # the server's stdout closes
        with anyio.fail_after(5):
            while not outcome:
                await anyio.sleep(0.01)
        assert outcome[0].error.code == types.CONNECTION_CLOSED
        with pytest.raises(MCPError):
            await pipes.call_tool("after", {})
        tasks.cancel_scope.cancel()


async def test_an_answer_over_the_limit_is_dropped_as_it_streams_by_and_its_call_told_its_size() -> None:
    # held whole, it ended the connection past 64 MiB, with every call in flight, the server restarted
    process = Process()
    pipes = _StdioPipes(process, max_answer_bytes=1000)
    results: dict[str, Any] = {}

    async def call(tool: str) -> None:
        results[tool] = await pipes.call_tool(tool, {})

    async with anyio.create_task_group() as tasks:
        await serving(pipes, tasks)
        tasks.start_soon(call, "big")
        await process.stdin.written.wait()
        tasks.start_soon(call, "small")
        head = b'{"jsonrpc":"2.0","id":"toolrouter-1","result":{"content":[{"type":"text","text":"'
        tail = b'"}]}}'
        small = {"jsonrpc": "2.0", "id": "toolrouter-2", "result": {"content": []}}
        for chunk in (head, b"x" * 600, b"x" * 600, b"x" * 600, tail + b"\n" + json.dumps(small).encode() + b"\n"):
            await process.answer(chunk)
        with anyio.fail_after(5):
            while len(results) < 2:
                await anyio.sleep(0.01)
        tasks.cancel_scope.cancel()
    assert results["big"] == (None, len(head) + 1800 + len(tail))  # its size alone: the caller refuses it
    assert results["small"] == ({"content": []}, len(json.dumps(small)))


async def failure_after(chunks: Any) -> tuple[MCPError, _StdioPipes]:
    """How a call of tool ``x`` fails once the server has sent ``chunks(request_id)``, and the pipes."""
    process = Process()
    pipes = _StdioPipes(process)
    outcome: list[MCPError] = []
    async with anyio.create_task_group() as tasks:
        await serving(pipes, tasks)
        tasks.start_soon(failure, pipes, "x", outcome)
        await process.stdin.written.wait()
        for chunk in chunks(process.stdin.lines()[-1]["id"]):
            await process.answer(chunk)
        with anyio.fail_after(5):  # not the call's timeout: at once
            while not outcome:
                await anyio.sleep(0.01)
        tasks.cancel_scope.cancel()
    return outcome[0], pipes


async def test_an_answer_that_is_not_json_fails_its_call_at_once() -> None:
    # a lone surrogate escape: no strict JSON parser takes it, yet the line names the call
    answer = b'{"jsonrpc": "2.0", "id": "%s", "result": {"text": "\\ud800"}}\n'
    error, pipes = await failure_after(lambda request_id: [answer % request_id.encode()])
    assert "the answer is not JSON" in str(error) and not pipes._pending


async def test_arguments_json_cannot_carry_raise_and_leave_no_call_waiting() -> None:
    import pydantic_core

    pipes = _StdioPipes(Process())
    with pytest.raises(pydantic_core.PydanticSerializationError):
        await pipes.call_tool("x", {"text": "\ud800"})  # a lone surrogate
    assert not pipes._pending and not pipes._out


async def test_a_line_that_grows_past_the_limit_ends_the_connection_and_fails_its_calls(monkeypatch) -> None:
    from integrations.mcp import upstream

    monkeypatch.setattr(upstream, "_MAX_LINE_BYTES", 1000)
    error, pipes = await failure_after(lambda request_id: [b"x" * 400] * 3)  # a line that does not end
    assert error.error.code == types.CONNECTION_CLOSED and "a line over 1000 bytes" in str(error)
    assert not pipes._pending
