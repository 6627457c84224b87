"""A gateway serving over stdio reads stdin by the event loop from a duplicate of fd 0; stopped
before its client closes stdin (a signal, a cancelled caller), it closes that duplicate and stops
reading, so a caller that goes on running neither leaks the descriptor nor loses its input."""

from __future__ import annotations

import json
import os

import anyio
import pytest

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


def descriptors_of(fd: int) -> set[int]:
    """This process's descriptors open on the same file as ``fd``."""
    target = os.fstat(fd)
    held = set()
    for name in os.listdir("/proc/self/fd"):
        try:
            st = os.fstat(int(name))
        except OSError:  # the listing's own descriptor, closed by now
            continue
        if (st.st_dev, st.st_ino) == (target.st_dev, target.st_ino):
            held.add(int(name))
    return held


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="lists descriptors by /proc")
async def test_a_cancelled_stdio_gateway_closes_its_stdin_descriptor() -> None:
    gateway = Gateway(GatewayConfig.model_validate({"mcpServers": {"a": {"command": "/nonexistent/server"}}}))
    stdin, client = os.pipe()
    answers, stdout = os.pipe()
    saved = os.dup(0), os.dup(1)  # the test runner's own, put back at the end
    try:
        os.dup2(stdin, 0)
        os.dup2(stdout, 1)
        before = descriptors_of(stdin)
        async with anyio.create_task_group() as group:
            group.start_soon(gateway.serve_stdio)
            os.write(client, json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode() + b"\n")
            with anyio.fail_after(20):
                await anyio.wait_readable(answers)
            assert json.loads(os.read(answers, 65536))["id"] == 1  # serving, reading stdin
            group.cancel_scope.cancel()  # stopped with stdin still open
        await anyio.sleep(0)  # the transport closes its pipe on the next pass of the loop
        assert descriptors_of(stdin) == before
    finally:
        for fd, saved_fd in enumerate(saved):
            os.dup2(saved_fd, fd)
        for fd in (*saved, stdin, client, answers, stdout):
            os.close(fd)
