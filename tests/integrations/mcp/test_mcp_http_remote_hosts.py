"""The gateway serves HTTP on a loopback host only, unless told otherwise: on any other host the MCP
SDK's DNS-rebinding protection is off and no client is authenticated, so ``serve_http`` refuses it
without ``allow_remote=True`` (``toolrouter mcp serve --http`` without ``--allow-remote``), naming
the host and the option, before anything is opened. Each port here is taken already: a host that
gets past the check fails to listen at once, where it would have served."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import anyio
import pytest
from typer.testing import CliRunner

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway
from toolrouter.cli import app

SERVERS = {"mcpServers": {"a": {"command": "x"}}}


def gateway() -> Gateway:
    return Gateway(GatewayConfig.model_validate(SERVERS))


@pytest.mark.parametrize("host", ["0.0.0.0", "", "127.0.0.2"])
def test_a_host_other_than_loopback_is_refused_naming_it_and_the_option(host: str) -> None:
    served = gateway()
    with socket.create_server((host, 0)) as taken:
        with pytest.raises(ValueError, match=rf"^host: '{host}' is not a loopback host .* Pass allow_remote=True "):
            anyio.run(served.serve_http, host, taken.getsockname()[1])
    served.middleware.register(lambda query: query, "search", tool_id="local")  # not closed: nothing changed
    served.middleware.close()


def test_allow_remote_serves_there() -> None:
    with socket.create_server(("127.0.0.2", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.2:{port}: "):  # past the check: listening failed
            anyio.run(lambda: gateway().serve_http("127.0.0.2", port, allow_remote=True))


def test_allow_remote_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="^allow_remote: expected True or False, got 'no'$"):
        anyio.run(lambda: gateway().serve_http("0.0.0.0", 8765, allow_remote="no"))


def test_the_command_refuses_it_before_opening_the_store_and_takes_allow_remote(tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps({**SERVERS, "router": {"store": f"sqlite:///{db}"}}))
    runner = CliRunner()
    with socket.create_server(("0.0.0.0", 0)) as taken:
        port = taken.getsockname()[1]
        refused = runner.invoke(app, ["mcp", "serve", str(config), "--http", f"0.0.0.0:{port}"])
        assert refused.exit_code == 2, refused.output
        assert "toolrouter mcp serve: --http: '0.0.0.0' is not a loopback host" in refused.output
        assert "Pass --allow-remote " in refused.output
        assert not db.exists()
        allowed = runner.invoke(app, ["mcp", "serve", str(config), "--http", f"0.0.0.0:{port}", "--allow-remote"])
    assert allowed.exit_code == 2 and f"cannot listen on 0.0.0.0:{port}: " in allowed.output
    alone = runner.invoke(app, ["mcp", "serve", str(config), "--allow-remote"])
    assert alone.exit_code == 2 and "--allow-remote: applies to --http only" in alone.output
