"""What a gateway that built its middleware closes when serving ends, with a store or without one."""

from __future__ import annotations

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway

SERVERS = {"mcpServers": {"a": {"command": "x"}}}


def _refuses_calls(gateway: Gateway) -> bool:
    try:
        gateway.middleware.register(lambda query: query, "search", tool_id="local")
    except ValueError as exc:
        return "closed" in str(exc)
    return False


def test_stopping_closes_the_middleware_built_without_a_store() -> None:
    gateway = Gateway(GatewayConfig.model_validate(SERVERS))
    gateway._save()  # what serving ends with
    assert _refuses_calls(gateway)
