"""A PostgreSQL server that refuses writes for a while (a standby after a failover, a database
set read-only for maintenance) is an outage for appends: they wait in the journal, reads go on,
and the journal is written once the server takes writes again."""

from __future__ import annotations

import time

import psycopg
import pytest

from toolrouter.store import AttemptRecord, StoreUnavailableError, open_store


def record(i: int) -> AttemptRecord:
    return AttemptRecord(task_id=f"t{i}", task_type="default", step="s", capability="s", tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)


def read_only(server, on: bool) -> None:  # type: ignore[no-untyped-def]
    """Every session of ``server``, those open too, refuses writes (``on``) or takes them again."""
    server.sql("ALTER SYSTEM SET default_transaction_read_only = on" if on else "ALTER SYSTEM RESET default_transaction_read_only")
    server.sql("SELECT pg_reload_conf()")
    with psycopg.connect(server.url("postgres")) as conn:  # the reload reached the server's sessions
        while conn.execute("SHOW default_transaction_read_only").fetchone()[0] != ("on" if on else "off"):
            time.sleep(0.01)
            conn.execute("SELECT pg_reload_conf()")
    time.sleep(0.05)


def test_appends_to_a_server_refusing_writes_wait_in_the_journal_and_are_written_after(postgres_server, pg_url) -> None:
    store = open_store(f"{pg_url}&retry_s=0.05")
    try:
        assert len(store.append([record(0)])) == 1
        read_only(postgres_server, True)
        try:
            assert store.append([record(1)]) == [] and store.append([record(2)]) == []  # they raised ReadOnlySqlTransaction, and were lost
            assert store.pending == 2 and not store.online
            assert store.count() == 1  # reads go on
        finally:
            read_only(postgres_server, False)
        store.flush(timeout_s=10)
        assert [r.task_id for r in store.attempts()] == ["t0", "t1", "t2"]
    finally:
        store.close()


def test_a_snapshot_on_a_server_refusing_writes_is_unavailable(postgres_server, pg_url) -> None:
    with open_store(pg_url) as store:
        read_only(postgres_server, True)
        try:
            with pytest.raises(StoreUnavailableError, match="read-only"):  # not psycopg's ReadOnlySqlTransaction
                store.put_snapshot("learner", b"state", 0)
            assert store.snapshot_names() == []  # reads go on
        finally:
            read_only(postgres_server, False)
