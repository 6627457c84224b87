"""An operation of a PostgreSQL store that the server refuses without an outage (its role lacks a
privilege) raises ``StoreUnavailableError`` naming the store and the operation, in one line, as the
SQLite store does for a file it may not write: it raised psycopg's bare error, which named no store,
failed a router's call in its save, and ended ``toolrouter prune`` with a traceback. The store stays
online: its appends go on."""

from __future__ import annotations

import re

import pytest
from test_store_postgres import flush_refused

from toolrouter.store import AttemptRecord, StoreUnavailableError, open_store

pytest.importorskip("psycopg")


def record() -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)


def test_an_operation_the_server_refuses_is_named_and_the_store_stays_online(postgres_server, pg_database: str, tmp_path, pg_role: str) -> None:
    url = f"postgresql://{pg_role}:pw@127.0.0.1:{postgres_server.port}/{pg_database}?journal_dir={tmp_path}"
    with open_store(url) as store:
        ids = store.append([record()])
        postgres_server.sql(f"REVOKE INSERT, UPDATE ON toolrouter.snapshots FROM {pg_role}", pg_database)
        postgres_server.sql(f"REVOKE DELETE ON toolrouter.attempts FROM {pg_role}", pg_database)
        for operation, call in (("put_snapshot", lambda: store.put_snapshot("router", b"x", ids[0])),
                                ("prune", lambda: store.prune(ids[0]))):
            with pytest.raises(StoreUnavailableError, match=rf"^store '{re.escape(store.url)}': {operation}: permission denied"):
                call()
        assert store.online and len(store.append([record()])) == 1 and store.count() == 2
        assert store.snapshot_names() == []


def test_an_append_the_role_may_not_write_waits_in_the_journal_until_it_may(postgres_server, pg_database: str, tmp_path, pg_role: str) -> None:
    """An append refused for the role's lack of INSERT raised psycopg's bare error, naming no store,
    and lost the attempts; refused writes (as a standby's) wait in the journal, reads go on, and
    ``flush`` says why they wait."""
    url = f"postgresql://{pg_role}:pw@127.0.0.1:{postgres_server.port}/{pg_database}?journal_dir={tmp_path}&retry_s=0.05"
    with open_store(url) as store:
        store.append([record()])
        postgres_server.sql(f"REVOKE INSERT ON toolrouter.attempts FROM {pg_role}", pg_database)
        assert store.append([record()]) == [] and store.append([record()]) == []
        assert store.pending == 2 and store.count() == 1  # kept, in order; reads go on
        refused = flush_refused(store, "permission denied")
        assert "the journal cannot be written to the server: " in refused
        postgres_server.sql(f"GRANT INSERT ON toolrouter.attempts TO {pg_role}", pg_database)
        store.flush(timeout_s=10)
        assert store.pending == 0 and store.count() == 3 and store.online
