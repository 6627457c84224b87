"""A store whose server refuses its login after an outage (its password changed meanwhile) says so
once, at error level: it retried in silence, its attempts waiting in the journal, while the only
word was the outage's own."""

from __future__ import annotations

import time

import pytest
from structlog.testing import capture_logs

from toolrouter.store import AttemptRecord, open_store

pytest.importorskip("psycopg")


def record() -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)


def test_a_login_refused_on_reconnect_is_logged_once_and_the_journal_waits(postgres_server, pg_database: str, tmp_path) -> None:
    role = f"r_{pg_database}"  # a role of its own: the server's is every test's
    postgres_server.sql(f"CREATE ROLE {role} LOGIN PASSWORD 'first'")
    postgres_server.sql(f"GRANT ALL ON DATABASE {pg_database} TO {role}")
    try:
        url = f"postgresql://{role}:first@127.0.0.1:{postgres_server.port}/{pg_database}?journal_dir={tmp_path}&retry_s=0.02"
        with open_store(url) as store, capture_logs() as events:
            postgres_server.sql(f"ALTER ROLE {role} PASSWORD 'second'")
            postgres_server.sql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
            assert store.append([record()]) == [] and store.pending == 1  # its connection was cut: journaled
            deadline = time.monotonic() + 10
            while not any(e["event"] == "store_login_refused" for e in events) and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(0.05)  # retries go on: still said once
            refused = [e for e in events if e["event"] == "store_login_refused"]
            assert len(refused) == 1 and refused[0]["log_level"] == "error", events
            assert "authentication failed" in refused[0]["error"] and "first" not in str(refused[0])
            assert store.pending == 1  # kept for when the login works again
    finally:
        postgres_server.sql(f"DROP OWNED BY {role}", pg_database)
        postgres_server.sql(f"DROP ROLE {role}")
