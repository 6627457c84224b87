"""The throwaway server's port was one the system hands out (``bind`` to port 0), from the range it
takes the ports of outgoing connections from: while the server was not bound to it (before its first
start, during a restart), any client's connection on the machine could take it, and the start
failed, "Address already in use". The port is now outside that range."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter.bench._postgres_server import _free_port


def test_the_port_is_none_an_outgoing_connection_takes() -> None:
    ports = Path("/proc/sys/net/ipv4/ip_local_port_range")
    if not ports.exists():
        pytest.skip("no ip_local_port_range (not Linux)")
    low, high = map(int, ports.read_text().split())
    assert not any(low <= _free_port() <= high for _ in range(20))
