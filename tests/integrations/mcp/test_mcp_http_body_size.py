"""A request to the gateway may have as many bytes over streamable HTTP as over stdio: the MCP SDK's
default bound on a body (4 MiB) answered a call with 5 MiB of arguments with 413, where over
stdio a message may have 64 MiB."""

from __future__ import annotations

import pytest

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import _MAX_MESSAGE_BYTES, Gateway
from mcp_harness import serving_here

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_call_over_4_mib_is_taken_over_http_as_over_stdio() -> None:
    gateway = Gateway(GatewayConfig.model_validate({"mcpServers": {"down": {"command": "false"}}}))
    text = "a" * (5 * 1024 * 1024)
    assert len(text) < _MAX_MESSAGE_BYTES
    async with serving_here(gateway) as (session, _):
        result = await session.call_tool("search", {"text": text})
    # read and answered by the gateway (no server serves the tool), not refused as too large
    assert result.is_error and "search" in result.content[0].text
