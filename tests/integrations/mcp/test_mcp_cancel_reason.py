"""A call to a stdio server that ends unanswered tells the server why in its
``notifications/cancelled``: its timeout, or its client gave up (it always said "timed out")."""

from __future__ import annotations

import asyncio
import json

import anyio
import pytest

from integrations.mcp.gateway import _DirectAnswers
from integrations.mcp.upstream import _StdioPipes

pytestmark = pytest.mark.anyio


def told(pipes: _StdioPipes) -> list[str]:
    """The reasons of the ``notifications/cancelled`` queued for the server."""
    lines = [json.loads(line) for line in b"".join(pipes._out).splitlines()]
    return [m["params"]["reason"] for m in lines if m.get("method") == "notifications/cancelled"]


async def test_a_call_that_times_out_says_so() -> None:
    pipes = _StdioPipes(process=None)  # nothing runs: what it would write stays queued
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.01):  # the router's timeout, as an inline tool is bounded
            await pipes.call_tool("search", {})
    assert told(pipes) == ["timed out"]


async def test_a_call_its_client_cancels_says_so() -> None:
    pipes = _StdioPipes(process=None)
    task = asyncio.get_running_loop().create_task(pipes.call_tool("search", {}))
    await asyncio.sleep(0)
    answers = _DirectAnswers.__new__(_DirectAnswers)  # its in-flight calls only: nothing else is used
    answers._in_flight = {7: task}
    assert answers.take('{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}}')
    with pytest.raises(asyncio.CancelledError):
        await task
    assert told(pipes) == ["cancelled by the client"]


async def test_a_call_cancelled_by_a_cancel_scope_says_its_client_gave_up() -> None:
    # the SDK's server cancels a request its client cancelled so, and McpBackends a call its caller left
    pipes = _StdioPipes(process=None)
    with anyio.CancelScope() as scope:
        asyncio.get_running_loop().call_later(0.01, scope.cancel)
        await pipes.call_tool("search", {})
    assert told(pipes) == ["cancelled by the client"]
