"""A dead router's journal that a reconnect deferred (the server refused it) while the store's own
journal went through is tried again while the store is online: before, only a reconnect tried it,
and an online store makes none, so it waited for the next outage or the next store opened."""

from __future__ import annotations

import time

from test_store import record
from test_store_postgres import block, unblock

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_a_deferred_orphan_journal_is_written_once_the_server_takes_it(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres
) -> None:
    url = f"{pg_url}&retry_s=0.05"
    with open_store(url) as gone:
        block(postgres_server, pg_database)
        try:
            assert gone.append([record("a")]) == []
        finally:
            gone.close()  # its journal stays on disk, for the next store to adopt
            unblock(postgres_server, pg_database)
    postgres_server.sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'not now'; END $$",
        pg_database,
    )
    postgres_server.sql(
        "CREATE TRIGGER refuse BEFORE INSERT ON toolrouter.attempts FOR EACH ROW EXECUTE FUNCTION refuse()", pg_database
    )
    with open_store(url) as store:
        assert store.online and store.attempts() == []  # its own journal is empty: online, the orphan deferred
        postgres_server.sql("DROP TRIGGER refuse ON toolrouter.attempts", pg_database)
        deadline = time.monotonic() + 10
        while not store.attempts() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [r.tool_id for r in store.attempts()] == ["a"]
