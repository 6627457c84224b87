"""What the README and ``serve_http`` say of the hosts the gateway listens on: a loopback host
keeps the MCP SDK's DNS-rebinding protection (a request naming a foreign ``Host`` is refused with
421), while "" and ``0.0.0.0`` (every IPv4 interface), ``::`` (every IPv6 one) and any other
address serve it. The app is the one ``serve_http`` builds for the host."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway
from toolrouter import ToolMiddleware

FOREIGN = {"host": "evil.example:8765", "content-type": "application/json", "accept": "application/json, text/event-stream"}


def status_of_a_foreign_host(host: str) -> int:
    with ToolMiddleware() as middleware:
        gateway = Gateway(GatewayConfig.model_validate({"mcpServers": {"a": {"command": "x"}}}), middleware)
        with TestClient(gateway.server.streamable_http_app(host=host)) as client:
            return client.post("/mcp", headers=FOREIGN, content=b"{}").status_code


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_a_loopback_host_refuses_a_foreign_host_header(host: str) -> None:
    assert status_of_a_foreign_host(host) == 421


@pytest.mark.parametrize("host", ["", "0.0.0.0", "::", "192.0.2.7"])
def test_any_other_host_serves_it(host: str) -> None:
    assert status_of_a_foreign_host(host) != 421
