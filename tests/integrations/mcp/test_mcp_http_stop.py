"""``toolrouter mcp serve --http`` stops on SIGTERM while a client is connected: the stream each
session keeps open for notifications is closed (and a call in flight is given a few seconds),
where the gateway waited for ever for it to end (its upstream servers with it, orphaned once it
was killed)."""

from __future__ import annotations

import signal
from pathlib import Path

import anyio
import pytest

from mcp_harness import http_gateway, pids_in, upstream, wait_gone, write_config

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(90)]


async def test_sigterm_stops_the_http_gateway_while_a_client_is_connected(tmp_path: Path, pid_dir: Path) -> None:
    config = write_config(tmp_path, {"slow": upstream("slow", pid_dir, "--name", "slow", "--delay", "60")})
    async with http_gateway(config, tmp_path) as (process, session):
        assert "search" in {t.name for t in (await session.list_tools()).tools}
        await anyio.sleep(0.5)  # the session's stream for notifications is open
        process.send_signal(signal.SIGTERM)
        assert await anyio.to_thread.run_sync(lambda: process.wait(timeout=20)) == 0
    assert not wait_gone(pids_in(pid_dir), 10)
