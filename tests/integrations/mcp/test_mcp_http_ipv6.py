"""``--http [::1]:PORT`` serves streamable HTTP on the IPv6 loopback, end to end, and an IPv6
address that cannot be listened on is named as ``--http`` takes it, in brackets."""

from __future__ import annotations

import socket

import pytest

from integrations.mcp.cli import parse_host_port
from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway
from mcp_harness import serving_here

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def ipv6_port() -> int:
    """A TCP port free on ::1 now (the test is skipped where this host has no ::1)."""
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6) as s:
            return int(s.getsockname()[1])
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")


def gateway() -> Gateway:
    return Gateway(GatewayConfig.model_validate({"mcpServers": {"down": {"command": "false"}}}))


async def test_a_bracketed_ipv6_address_is_served() -> None:
    host, port = parse_host_port(f"[::1]:{ipv6_port()}")
    async with serving_here(gateway(), host, port) as (session, _):
        assert (await session.list_tools()).tools == []


async def test_an_ipv6_address_taken_is_named_in_brackets() -> None:
    port = ipv6_port()
    with socket.create_server(("::1", port), family=socket.AF_INET6):
        with pytest.raises(OSError, match=rf"^\[Errno \d+\] cannot listen on \[::1\]:{port}: "):
            await gateway().serve_http("::1", port)
