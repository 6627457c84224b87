"""An append that the server refuses without an outage for a reason other than a privilege (a
trigger raising an error, a table dropped or altered by hand) waits in the outage journal, as a
refused privilege does: it raised psycopg's bare error, which named no store, failed the routed
call and lost its outcome. Reads go on, ``flush`` says what the server said, and the journal is
written once the server takes it."""

from __future__ import annotations

from structlog.testing import capture_logs
from test_store import record
from test_store_postgres import flush_refused, refuse_inserts

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_an_append_a_trigger_refuses_waits_in_the_journal(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    with open_store(f"{pg_url}&retry_s=0.05") as store:
        store.append([record("a")])
        refuse_inserts(postgres_server, pg_database, "not now")
        with capture_logs() as events:
            assert store.append([record("b")]) == [] and store.append([record("c")]) == []
        # said as a refusal, once: the server answered (it was logged as store_unreachable)
        assert [e["event"] for e in events if e["log_level"] == "warning"] == ["store_writes_refused"], events
        assert "not now" in events[0]["error"]
        assert store.pending == 2 and store.count() == 1  # kept, in order; reads go on
        refused = flush_refused(store, "not now")
        assert "the journal cannot be written to the server: " in refused
        postgres_server.sql("DROP TRIGGER refuse ON toolrouter.attempts", pg_database)
        store.flush(timeout_s=10)
        assert [r.tool_id for r in store.attempts()] == ["a", "b", "c"] and store.online and store.pending == 0
