"""A PostgreSQL store opened ``read_only`` on a standby (a read replica, or a server after a
failover that made it one) is served there: the standby refuses what only a writer needs, and the
store took that for an outage that never ended. It stayed offline, retried every ``retry_s`` for
good, never told its subscribers of an attempt (the standby refuses ``LISTEN``, and an offline
store does not poll either), and ``flush`` said the server was unreachable though nothing waited."""

from __future__ import annotations

import pytest
from test_store_postgres import wait_for

from toolrouter.store import AttemptRecord, open_store

pytest.importorskip("psycopg")


def record() -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)


def test_a_read_only_store_on_a_standby_is_online_and_polls_it(postgres_server, pg_url: str) -> None:
    with open_store(pg_url) as writer:
        (top,) = writer.append([record()])
    with open_store(f"{pg_url}&retry_s=0.05&poll_s=0.05", read_only=True) as reader:
        heard: list[int] = []
        reader.on_new_attempts(heard.append)
        postgres_server.stop(remove=False)  # the server comes back a standby: a failover, as its readers see it
        (postgres_server.root / "data" / "standby.signal").touch()
        try:
            postgres_server.start()
            wait_for(lambda: top in heard)  # a reconnect announces what is there, read by polling
            assert reader.online and reader.count() == 1
            reader.flush(timeout_s=0)  # nothing waits
        finally:
            postgres_server.sql("SELECT pg_promote()")  # the server takes writes again, for the tests after
