"""A gateway served in an application's process stops on SIGTERM, then leaves the SIGTERM and
SIGINT handlers the application had installed, where the event loop set the defaults: the
application's own were lost (its next SIGTERM killed it, its Ctrl-C skipped its handler)."""

from __future__ import annotations

import os
import signal
from typing import Any

import anyio
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway
from mcp_harness import free_port

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_serving_puts_back_the_signal_handlers_it_found() -> None:
    gateway = Gateway(GatewayConfig.model_validate({"mcpServers": {"down": {"command": "false"}}}))
    heard: list[int] = []

    def own(signum: int, frame: Any) -> None:
        heard.append(signum)

    found = {s: signal.signal(s, own) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        port = free_port()
        async with anyio.create_task_group() as group:
            group.start_soon(gateway.serve_http, "127.0.0.1", port)
            with anyio.fail_after(30):
                while True:  # serving (its signals heard) once it answers
                    try:
                        async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write):
                            async with ClientSession(read, write) as session:
                                await session.initialize()
                        break
                    except Exception:
                        await anyio.sleep(0.05)
            os.kill(os.getpid(), signal.SIGTERM)  # the gateway's: it stops
        assert heard == []
        assert signal.getsignal(signal.SIGTERM) is own and signal.getsignal(signal.SIGINT) is own
    finally:
        for s, handler in found.items():
            signal.signal(s, handler)
