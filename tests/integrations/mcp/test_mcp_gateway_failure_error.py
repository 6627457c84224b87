"""A call the gateway itself fails (not a server: its router closed, its store down) is answered
over streamable HTTP with a JSON-RPC internal error saying what failed, as over stdio, where the
SDK answered it with the code 0, which is no JSON-RPC error's, and logged a traceback."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from mcp.shared.exceptions import MCPError

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway
from mcp_harness import serving_here

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


async def test_a_failure_of_the_gateway_is_an_internal_error_naming_it() -> None:
    gateway = Gateway(GatewayConfig.model_validate({"mcpServers": {"down": {"command": "false"}}}))

    async def fails(name: str, arguments: Any, **options: Any) -> Any:  # what recording a call in a store gone raises
        raise RuntimeError("the store is unavailable")

    gateway.backends.call = fails  # type: ignore[method-assign]
    async with serving_here(gateway) as (session, _):
        with pytest.raises(MCPError) as caught:
            await session.call_tool("search", {"query": "q"})
    assert caught.value.error.code == types.INTERNAL_ERROR
    assert caught.value.error.message == "the store is unavailable"
