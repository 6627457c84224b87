"""Opening a PostgreSQL store waits a bounded time for a server that stops answering, whether it
never answers the connection or stops in the middle of the opening's own statements."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time

import pytest
from test_store_postgres import Relay, _relayed

from toolrouter import ToolMetaLearner
from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.errors import StoreOpenError
from toolrouter.store import open_store


class HoldsFrom(Relay):
    """A relay that stops relaying for good at the first message of the client holding ``marker``
    (which the server never gets): a server that stopped answering in the middle of a statement."""

    def __init__(self, port: int, marker: bytes) -> None:
        self.marker = marker
        super().__init__(port)

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while not self.closed:
                if self.frozen or not select.select([src], [], [], 0.02)[0]:
                    time.sleep(0.01)
                    continue
                data = src.recv(65536)
                if not data:
                    break
                if self.marker in data:
                    self.frozen = True
                    continue
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)


def opened_or_error(open_: object) -> tuple[list[BaseException], float, threading.Thread]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            open_()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    start = time.perf_counter()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout=10)  # a hang detector
    return errors, time.perf_counter() - start, worker


@pytest.mark.parametrize("opens", ["store", "router"])
def test_opening_a_store_whose_server_stops_answering_midway_gives_up_within_admin_timeout(
    pg_url: str, postgres_server: LocalPostgres, opens: str
) -> None:
    # the schema check ran without a limit: opening the store, or ToolMetaLearner.load(url), hung
    # until the server answered again, however long that took
    relay = HoldsFrom(postgres_server.port, b"pg_advisory_xact_lock")
    url = _relayed(pg_url, postgres_server, relay, "&timeout_s=0.3&admin_timeout_s=1")
    try:
        open_ = (lambda: ToolMetaLearner.load(url, tools=[])) if opens == "router" else (lambda: open_store(url))
        errors, elapsed, worker = opened_or_error(open_)
        assert not worker.is_alive() and len(errors) == 1 and isinstance(errors[0], StoreOpenError), errors
        assert "admin_timeout_s=1" in str(errors[0]) and elapsed < 5
    finally:
        relay.close()



def test_a_server_that_accepts_the_connection_and_says_nothing_is_given_up_on(tmp_path) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    held: list = []
    threading.Thread(target=lambda: held.append(listener.accept()), daemon=True).start()
    url = f"postgresql://u:p@127.0.0.1:{listener.getsockname()[1]}/db?timeout_s=0.5&journal_dir={tmp_path}"
    try:
        errors, elapsed, worker = opened_or_error(lambda: open_store(url))
        assert not worker.is_alive() and len(errors) == 1 and isinstance(errors[0], StoreOpenError), errors
        assert "connection timeout expired" in str(errors[0]) and held  # libpq's least connect_timeout: 2 s
        assert elapsed < 5
    finally:
        listener.close()
        for conn, _ in held:
            conn.close()
