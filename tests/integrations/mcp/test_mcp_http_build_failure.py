"""``serve_http`` binds its socket first; a failure while it then builds the HTTP app (the SDK's
or uvicorn's) closes that socket, and the middleware the gateway built, as any other end of
serving does: the port is free again and the router's store not left open."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from mcp_harness import free_port

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


async def test_a_failure_building_the_app_closes_the_socket_and_the_router(tmp_path: Path) -> None:
    config = {"mcpServers": {"a": {"command": "x"}}, "router": {"store": f"sqlite:///{tmp_path / 'gw.db'}"}}
    gateway = Gateway(GatewayConfig.model_validate(config))

    def fails(**settings: Any) -> Any:  # a fault in the SDK's app, after the bind
        raise RuntimeError("cannot build the app")

    gateway.server.streamable_http_app = fails  # type: ignore[method-assign]
    port = free_port()
    with pytest.raises(RuntimeError, match="cannot build the app") as caught:
        await gateway.serve_http("127.0.0.1", port)
    # the traceback (kept by caught) holds serve_http's frame: its socket is not closed by collection
    assert caught.traceback
    socket.create_server(("127.0.0.1", port)).close()  # listened on again: the gateway's socket is closed
    with pytest.raises(ValueError, match="closed"):
        gateway.middleware.call("search", "q")
