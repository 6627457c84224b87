"""``toolrouter mcp serve --http`` stops on SIGTERM while a client is connected: the stream each
session keeps open for notifications is closed (and a call in flight is given a few seconds),
where the gateway waited for ever for it to end (its upstream servers with it, orphaned once it
was killed)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from mcp_harness import ROOT, pids_in, upstream, wait_gone, write_config

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_sigterm_stops_the_http_gateway_while_a_client_is_connected(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {"slow": upstream("slow", pid_dir, "--name", "slow", "--delay", "60")})
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "toolrouter.cli", "mcp", "serve", str(config), "--http", f"127.0.0.1:{port}"],
        cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "http.stderr", "w"),
    )  # fmt: skip
    try:
        with anyio.fail_after(30):
            while True:  # wait until it listens
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    assert process.poll() is None, (tmp_path / "http.stderr").read_text()
                    await anyio.sleep(0.1)
        async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                assert "search" in {t.name for t in (await session.list_tools()).tools}
                await anyio.sleep(0.5)  # the session's stream for notifications is open
                process.send_signal(signal.SIGTERM)
                assert await anyio.to_thread.run_sync(lambda: process.wait(timeout=20)) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not wait_gone(pids_in(pid_dir), 10)
