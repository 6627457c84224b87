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


def test_an_open_cut_short_while_it_writes_an_orphan_journal_leaves_nothing_behind(
    pg_url: str, postgres_server: LocalPostgres, pg_database: str, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the orphans were written after the open's cleanup: a replay cut short (Ctrl-C) left the pool's
    # connections and threads, and the store's pipe, open for the life of the process
    import os
    from datetime import datetime, timezone

    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    from toolrouter.store import AttemptRecord, PostgresStore
    from toolrouter.store.journal import Journal
    from toolrouter.store.postgres import _journal_dir

    open_store(pg_url).close()  # what an open starts once per process (the watchdog) is there before
    folder = _journal_dir(str(tmp_path / "journal"), conninfo_to_dict(postgres_server.url(pg_database)))
    made = AttemptRecord("t", "x", "s", "s", "web", True, 1.0, 0.0, 0.0, 1.0, timestamp=datetime.now(timezone.utc))
    dead = Journal.for_origin(folder, "dead-process", 1000)
    dead.add(list(range(1, 601)), [made] * 600)  # two batches of the replay
    dead.close()

    write = PostgresStore._write
    calls = []

    def cut_at_the_second_batch(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return write(self, *args, **kwargs)

    monkeypatch.setattr(PostgresStore, "_write", cut_at_the_second_batch)
    fds, threads = set(os.listdir("/proc/self/fd")), set(threading.enumerate())
    with pytest.raises(KeyboardInterrupt):
        open_store(pg_url)
    assert set(os.listdir("/proc/self/fd")) <= fds
    assert [t.name for t in set(threading.enumerate()) - threads if t.is_alive()] == []
    with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as conn:
        others = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        deadline = time.monotonic() + 5  # a closed connection's server process ends just after
        while conn.execute(others).fetchone()[0] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert conn.execute(others).fetchone()[0] == 0
    monkeypatch.undo()
    with open_store(pg_url) as store:  # the journal's lock was let go: the next open adopts the rest
        assert store.count() == 600 and not list(folder.glob("*.journal"))
