"""An append whose attempts committed, but whose notification an outage cut short (the connection
lost between the insert and the notification, two transactions), returns their ids: it returned
``[]``, journaled attempts the log already held and took the store offline for a write that had
succeeded. Only the notification is lost; listeners catch up by polling."""

from __future__ import annotations

from test_store import record

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_an_append_whose_notification_is_cut_off_keeps_its_ids(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    with open_store(f"{pg_url}&notify_gap_s=0") as store:
        # the session notifying is cut off, as by a server going down right after the insert
        postgres_server.sql(
            "CREATE FUNCTION toolrouter.cut() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$", pg_database,
        )
        postgres_server.sql(
            "CREATE TRIGGER cut BEFORE UPDATE ON toolrouter.notify_gate FOR EACH ROW EXECUTE FUNCTION toolrouter.cut()",
            pg_database,
        )
        ids = store.append([record("a")])
        assert len(ids) == 1 and store.online and store.pending == 0
        postgres_server.sql("DROP TRIGGER cut ON toolrouter.notify_gate", pg_database)
        assert [r.id for r in store.attempts()] == ids
        assert len(store.append([record("b")])) == 1 and store.count() == 2
