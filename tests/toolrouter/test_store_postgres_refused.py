"""An operation of a PostgreSQL store that the server refuses without an outage (its role lacks a
privilege) raises ``StoreUnavailableError`` naming the store and the operation, in one line, as the
SQLite store does for a file it may not write: it raised psycopg's bare error, which named no store,
failed a router's call in its save, and ended ``toolrouter prune`` with a traceback. The store stays
online: its appends go on."""

from __future__ import annotations

import re

import pytest

from toolrouter.store import AttemptRecord, StoreUnavailableError, open_store

pytest.importorskip("psycopg")


def record() -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)


def test_an_operation_the_server_refuses_is_named_and_the_store_stays_online(postgres_server, pg_database: str, tmp_path) -> None:
    role = f"r_{pg_database}"  # a role of its own: the server's superuser is refused nothing
    postgres_server.sql(f"CREATE ROLE {role} LOGIN PASSWORD 'pw'")
    postgres_server.sql(f"GRANT ALL ON DATABASE {pg_database} TO {role}")
    try:
        url = f"postgresql://{role}:pw@127.0.0.1:{postgres_server.port}/{pg_database}?journal_dir={tmp_path}"
        with open_store(url) as store:
            ids = store.append([record()])
            postgres_server.sql(f"REVOKE INSERT, UPDATE ON toolrouter.snapshots FROM {role}", pg_database)
            postgres_server.sql(f"REVOKE DELETE ON toolrouter.attempts FROM {role}", pg_database)
            for operation, call in (("put_snapshot", lambda: store.put_snapshot("router", b"x", ids[0])),
                                    ("prune", lambda: store.prune(ids[0]))):
                with pytest.raises(StoreUnavailableError, match=rf"^store '{re.escape(store.url)}': {operation}: permission denied"):
                    call()
            assert store.online and len(store.append([record()])) == 1 and store.count() == 2
            assert store.snapshot_names() == []
    finally:
        postgres_server.sql(f"DROP OWNED BY {role}", pg_database)
        postgres_server.sql(f"DROP ROLE {role}")


def test_an_append_the_role_may_not_write_waits_in_the_journal_until_it_may(postgres_server, pg_database: str, tmp_path) -> None:
    """An append refused for the role's lack of INSERT raised psycopg's bare error, naming no store,
    and lost the attempts; refused writes (as a standby's) wait in the journal, reads go on, and
    ``flush`` says why they wait."""
    role = f"r_{pg_database}"
    postgres_server.sql(f"CREATE ROLE {role} LOGIN PASSWORD 'pw'")
    postgres_server.sql(f"GRANT ALL ON DATABASE {pg_database} TO {role}")
    try:
        url = f"postgresql://{role}:pw@127.0.0.1:{postgres_server.port}/{pg_database}?journal_dir={tmp_path}&retry_s=0.05"
        with open_store(url) as store:
            store.append([record()])
            postgres_server.sql(f"REVOKE INSERT ON toolrouter.attempts FROM {role}", pg_database)
            assert store.append([record()]) == [] and store.append([record()]) == []
            assert store.pending == 2 and store.count() == 1  # kept, in order; reads go on
            for _ in range(100):  # until the store's thread has tried to write the journal (flush wakes it)
                with pytest.raises(StoreUnavailableError) as refused:
                    store.flush(timeout_s=0.05)
                if "permission denied" in str(refused.value):
                    break
            assert "the journal cannot be written to the server: " in str(refused.value)
            postgres_server.sql(f"GRANT INSERT ON toolrouter.attempts TO {role}", pg_database)
            store.flush(timeout_s=10)
            assert store.pending == 0 and store.count() == 3 and store.online
    finally:
        postgres_server.sql(f"DROP OWNED BY {role}", pg_database)
        postgres_server.sql(f"DROP ROLE {role}")
