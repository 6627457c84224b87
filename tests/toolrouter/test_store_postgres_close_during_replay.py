"""``close`` while the store's thread writes a long journal (a dead router's, adopted once the server
takes it) waited 10 s for the thread, then closed the pool and the wake-up pipe under it: the
thread wrote on, failed on the closed pool (``journal_adoption_deferred``) and died on the closed
pipe. The thread's pass ends with its write in flight once the store closes; what is left stays in
the journal for the next store."""

from __future__ import annotations

import contextlib
import time

import psycopg
from test_store import record

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store
from toolrouter.store.journal import Journal

BATCHES = 30  # of 500 records, 0.4 s each: 12 s, past the 10 s close waited


def test_close_stops_the_thread_writing_a_long_journal(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres
) -> None:
    with open_store(pg_url) as gone:
        origin, folder, store_id = gone.origin, gone._journal_dir, gone.store_id
    journal = Journal.for_origin(folder, origin, 10**6, store_id)
    journal.add(range(1, 500 * BATCHES + 1), [record("a")] * (500 * BATCHES))
    journal.close()  # the router died: its journal is left for the next store on this host
    postgres_server.sql("CREATE TABLE public.mode (refuse boolean)", pg_database)
    postgres_server.sql("INSERT INTO public.mode VALUES (true)", pg_database)
    postgres_server.sql(
        "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF (SELECT refuse FROM public.mode) THEN RAISE EXCEPTION 'not now'; END IF; "
        "PERFORM pg_sleep(0.4); RETURN NULL; END $$",
        pg_database,
    )
    postgres_server.sql(
        "CREATE TRIGGER slow BEFORE INSERT ON toolrouter.attempts FOR EACH STATEMENT EXECUTE FUNCTION slow()", pg_database
    )
    store = open_store(f"{pg_url}&retry_s=0.05")  # the journal's adoption is deferred: the server refuses it
    try:
        postgres_server.sql("UPDATE public.mode SET refuse = false", pg_database)  # its thread writes it, slowly
        sleeping = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep'"
        with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as watcher:
            while not watcher.execute(sleeping).fetchone()[0]:
                time.sleep(0.01)
    finally:
        store.close()
    assert not store._thread.is_alive()  # nothing of the closed store is used after close
    (left,) = Journal.orphans(folder, exclude="", store_id=store_id)  # the rest, for the next store
    with contextlib.closing(left), psycopg.connect(postgres_server.url(pg_database)) as conn:
        written = conn.execute("SELECT count(*) FROM toolrouter.attempts").fetchone()[0]
        assert written > 0 and len(left) > 0 and written + len(left) == 500 * BATCHES
