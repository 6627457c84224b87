"""What the stdio gateway makes of the ends of its stdin and stdout. Started with either closed
(``toolrouter mcp serve CONFIG <&-``) it exits with one line naming it, as for a bad option: it
crashed with a traceback, and a descriptor opened since (a config, a store) could take the
number and be read as the client. A client over one socket (a socketpair as stdin and stdout)
that half-closes it to say "done" has every request read answered, as over pipes: the write
side's watch took each request arriving, and the half-close, for the client gone (the gateway
crashed). One that closes the socket is gone: its calls in flight are not waited for."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from mcp_harness import ROOT, tool_call, upstream, write_config

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

INIT = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "sock", "version": "1"}}
HANDSHAKE = [
    {"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": INIT},
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
]


def serve(config: Path, end: socket.socket, closing: str = "") -> subprocess.Popen[bytes]:
    """``toolrouter mcp serve CONFIG`` with ``end`` as its stdin and stdout, less the redirections of ``closing``."""
    command = [sys.executable, "-m", "toolrouter.cli", "mcp", "serve", str(config)]
    return subprocess.Popen(
        ["sh", "-c", f'exec "$@" {closing}', "sh", *command], stdin=end, stdout=end, stderr=subprocess.PIPE,
        cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_a_closed_stdin_or_stdout_is_refused_naming_it(tmp_path: Path) -> None:
    store = tmp_path / "gateway.db"
    config = write_config(tmp_path, {"a": {"command": "/nonexistent/server"}}, router={"store": f"sqlite:///{store}"})
    ours, theirs = socket.socketpair()
    with ours, theirs:
        for name, closing in (("stdin", "<&-"), ("stdout", ">&-")):
            process = serve(config, theirs, closing)
            _, err = process.communicate(timeout=30)
            assert process.returncode == 2, err
            assert err.decode().startswith(f"toolrouter mcp serve: {name}: closed") and err.count(b"\n") == 1, err
    assert not store.exists()  # refused before the router's store was opened


async def read_all(end: socket.socket, until: str | None = None) -> list[dict[str, object]]:
    """The answers read from ``end`` until it ends, or until the answer to the request ``until``."""
    received = b""
    while chunk := await anyio.to_thread.run_sync(end.recv, 65536):
        received += chunk
        if until is not None and f'"id":"{until}"'.encode() in received and received.endswith(b"\n"):
            break
    return [json.loads(line) for line in received.splitlines()]


async def test_a_socket_client_that_half_closes_gets_its_answers(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {"slow": upstream("slow", pid_dir, "--name", "slow", "--delay", "0.5")})
    ours, theirs = socket.socketpair()
    with ours:
        with theirs:
            process = serve(config, theirs)
        requests = [*HANDSHAKE, {"jsonrpc": "2.0", "id": "ping", "method": "ping"}, tool_call(1, "search", {"query": "q"})]
        ours.sendall("".join(json.dumps(m) + "\n" for m in requests).encode())
        ours.shutdown(socket.SHUT_WR)  # all sent: the client waits for its answers
        with anyio.fail_after(30):
            answers = {a["id"]: a for a in await read_all(ours)}
        assert process.wait(timeout=30) == 0
    assert set(answers) == {"init", "ping", 1}
    assert answers[1]["result"]["content"][0]["text"] == "slow: results for q"


async def test_a_socket_client_that_closes_it_is_not_waited_for(tmp_path: Path, pid_dir: Path) -> None:
    # a call that would run for minutes: the gateway stops once the client has closed the socket
    slow = upstream("slow", pid_dir, "--name", "slow", "--delay", "600", timeout_s=600)
    config = write_config(tmp_path, {"slow": slow}, router={"deadline_s": 600})
    ours, theirs = socket.socketpair()
    with ours:
        with theirs:
            process = serve(config, theirs)
        listing = {"jsonrpc": "2.0", "id": "list", "method": "tools/list"}  # served: calls are the gateway's own
        ours.sendall("".join(json.dumps(m) + "\n" for m in [*HANDSHAKE, listing]).encode())
        with anyio.fail_after(30):
            assert [a["id"] for a in await read_all(ours, until="list") if "id" in a] == ["init", "list"]
        ours.sendall(json.dumps(tool_call(1, "search", {"query": "q"})).encode() + b"\n")
    assert process.wait(timeout=30) == 0


def test_stdin_from_dev_null_ends_the_gateway(tmp_path: Path) -> None:
    # the event loop cannot watch /dev/null: the SDK's reader read it, and the gateway never exited
    config = write_config(tmp_path, {"a": {"command": "/nonexistent/server"}})
    command = [sys.executable, "-m", "toolrouter.cli", "mcp", "serve", str(config)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, cwd=str(ROOT), env=env, timeout=30)
    assert done.returncode == 0 and done.stdout == b"", done.stderr
