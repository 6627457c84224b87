"""A gateway served in an application's process stops on SIGTERM, then leaves the SIGTERM and
SIGINT handlers the application had installed, where the event loop set the defaults: the
application's own were lost (its next SIGTERM killed it, its Ctrl-C skipped its handler)."""

from __future__ import annotations

import signal
from typing import Any

import pytest

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway
from mcp_harness import serving_here

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_serving_puts_back_the_signal_handlers_it_found() -> None:
    gateway = Gateway(GatewayConfig.model_validate({"mcpServers": {"down": {"command": "false"}}}))
    heard: list[int] = []

    def own(signum: int, frame: Any) -> None:
        heard.append(signum)

    found = {s: signal.signal(s, own) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        async with serving_here(gateway):
            pass  # then a SIGTERM: the gateway's, it stops
        assert heard == []
        assert signal.getsignal(signal.SIGTERM) is own and signal.getsignal(signal.SIGINT) is own
    finally:
        for s, handler in found.items():
            signal.signal(s, handler)
