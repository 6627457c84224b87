"""What a gateway that built its middleware closes: after serving, with a store or without one,
and when its HTTP address cannot be listened on (nothing served: the store it opened is closed);
and how serve_http takes its address: a bad one refused naming it, port 0 a free port it names."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

import anyio
import pytest

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway
from toolrouter.store import open_store

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


def test_close_closes_the_store_of_a_gateway_never_served_and_leaves_a_middleware_passed_in_open(tmp_path: Path) -> None:
    from toolrouter import ToolMiddleware

    gateway = Gateway(GatewayConfig.model_validate({**SERVERS, "router": {"store": f"sqlite:///{tmp_path / 'gateway.db'}"}}))
    gateway.close()
    gateway.close()  # again: nothing more to do
    assert _refuses_calls(gateway)
    with pytest.raises(ValueError, match="gateway.db': closed"):
        gateway.middleware.learner.store.count()
    with ToolMiddleware(seed=0) as tools:
        Gateway(GatewayConfig.model_validate(SERVERS), tools).close()
        tools.register(lambda query: query, "search", tool_id="local")  # its owner's: still open
        assert tools.call("search", "q") == "q"


def test_an_address_that_cannot_be_listened_on_closes_what_the_gateway_opened(tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    gateway = Gateway(GatewayConfig.model_validate({**SERVERS, "router": {"store": f"sqlite:///{db}"}}))
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot listen on 127.0.0.1:{port}: "):
            anyio.run(gateway.serve_http, "127.0.0.1", port)
    assert _refuses_calls(gateway)
    with pytest.raises(ValueError, match="gateway.db': closed"):
        gateway.middleware.learner.store.count()
    with open_store(f"sqlite:///{db}") as store:
        assert store.snapshot_names() == []  # nothing was served: nothing saved


def test_a_host_that_does_not_resolve_is_named_with_why() -> None:
    gateway = Gateway(GatewayConfig.model_validate(SERVERS))
    with pytest.raises(OSError, match="cannot listen on no-such-host.invalid:8765: ") as caught:
        anyio.run(lambda: gateway.serve_http("no-such-host.invalid", 8765, allow_remote=True))  # .invalid never resolves
    assert "Unknown error" not in str(caught.value)  # os.strerror of getaddrinfo's negative code
    assert str(caught.value).count("no-such-host.invalid") == 1


@pytest.mark.parametrize(
    ("host", "port", "error"), [("127.0.0.1", 70000, ValueError), ("127.0.0.1", "8765", ValueError), (None, 8765, TypeError)]
)
def test_a_bad_host_or_port_is_refused_naming_it_and_changes_nothing(host: object, port: object, error: type) -> None:
    gateway = Gateway(GatewayConfig.model_validate(SERVERS))
    with pytest.raises(error, match="^port: " if error is ValueError else "^host: "):
        anyio.run(gateway.serve_http, host, port)
    assert not _refuses_calls(gateway)  # still usable: serve it at a good address
    gateway.middleware.close()


@pytest.mark.anyio
async def test_port_0_serves_on_a_free_port_which_the_serving_event_names(caplog: pytest.LogCaptureFixture) -> None:
    gateway = Gateway(GatewayConfig.model_validate(SERVERS))
    with caplog.at_level(logging.INFO, logger="integrations"):
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(gateway.serve_http, "127.0.0.1", 0)
            with anyio.fail_after(30):
                while not (serving := [r.getMessage() for r in caplog.records if "mcp_gateway_serving" in r.getMessage()]):
                    await anyio.sleep(0.01)
            port = int(re.search(r"port=(\d+)", serving[0]).group(1))
            with socket.create_connection(("127.0.0.1", port), timeout=5):  # listening there
                pass
            tasks.cancel_scope.cancel()
    assert port != 0
