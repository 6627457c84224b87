"""The throwaway server of the tests and ``toolrouter bench store`` finds a free port before
``initdb``, and binds it only when it starts: meanwhile another process (a client's connection,
another test run's server) may take it, and the start failed, "Address already in use". The first
start takes another free port."""

from __future__ import annotations

import socket

import psycopg
import pytest

from toolrouter.bench import _postgres_server
from toolrouter.bench._postgres_server import LocalPostgres, PostgresBinariesMissing


def test_a_first_start_whose_port_was_taken_takes_another(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        server = LocalPostgres(fsync=False)  # in the system's temporary folder, which the postgres user may enter
    except PostgresBinariesMissing as exc:
        pytest.skip(str(exc))
    with socket.socket() as taker:
        taker.bind(("127.0.0.1", 0))
        taker.listen()
        taken = taker.getsockname()[1]
        ports = iter([taken])
        free = _postgres_server._free_port
        monkeypatch.setattr(_postgres_server, "_free_port", lambda: next(ports, None) or free())
        with server:
            assert server.port != taken
            with psycopg.connect(server.url(), autocommit=True) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            root = server.root
    assert not root.exists()
