"""While the server refuses a store's writes without an outage (a trigger, a missing privilege), the
store still tells its routers what other hosts append: its reads go on. Its thread closed its
listener and only retried the journal every ``retry_s``, so its routers, which read when told, learnt
nothing from the other hosts for as long as the refusal lasted."""

from __future__ import annotations

from test_store import record
from test_store_postgres import flush_refused, refuse_inserts, wait_for

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_a_store_whose_writes_are_refused_still_announces_what_others_append(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres
) -> None:
    with open_store(f"{pg_url}&retry_s=0.05&poll_s=0.05") as refused, open_store(pg_url) as other:
        refuse_inserts(postgres_server, pg_database, "not this tool", "NEW.tool_id = 'bad'")
        told: list[int] = []
        refused.on_new_attempts(told.append)
        assert refused.append([record("bad")]) == [] and not refused.online  # it waits in the journal
        (written,) = other.append([record("good")])
        wait_for(lambda: told and max(told) >= written, timeout_s=5)
        assert [r.tool_id for r in refused.attempts()] == ["good"] and refused.pending == 1


def test_flush_writes_the_journal_now_while_the_store_listens_on(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres
) -> None:
    with open_store(f"{pg_url}&retry_s=60") as store:  # no try of the thread's own before flush's
        refuse_inserts(postgres_server, pg_database, "not now")
        assert store.append([record("a")]) == []
        assert "not now" in flush_refused(store, "not now")
        postgres_server.sql("DROP TRIGGER refuse ON toolrouter.attempts", pg_database)
        store.flush(timeout_s=5)
        assert [r.tool_id for r in store.attempts()] == ["a"] and store.online
