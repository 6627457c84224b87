"""A client of the gateway over streamable HTTP is told in the handshake that the tool list
changes (``tools.listChanged``), as one over stdio is: the gateway sends it
``notifications/tools/list_changed`` when it does, and the handshake said it never would."""

from __future__ import annotations

import pytest

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway
from mcp_harness import serving_here

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_the_http_handshake_says_the_tool_list_changes() -> None:
    gateway = Gateway(GatewayConfig.model_validate({"mcpServers": {"down": {"command": "false"}}}))
    async with serving_here(gateway) as (session, result):
        assert result.capabilities.tools is not None and result.capabilities.tools.list_changed is True
