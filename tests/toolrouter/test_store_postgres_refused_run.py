"""A run of journal records the server refuses for their own sake, followed by records it takes:
each refused one is set aside once the server takes one of the records after it, which the store
tries at a few places only (so that a refusal of every write costs a few statements). The places
were the 1st, 2nd, 4th, 8th, ... record after it, never the last: a run of five refused records and
then one the server takes held the journal back for good, and the store never went back online. So did a run as long as the batch the store writes at a time (500
records), whose records after it were never tried, those appended meanwhile included."""

from __future__ import annotations

from test_store import record

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store
from toolrouter.store.journal import Journal

REFUSE = (
    "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN IF NEW.tool_id LIKE 'bad%' THEN RAISE EXCEPTION 'not this tool'; END IF; RETURN NEW; END $$"
)
TRIGGER = "CREATE TRIGGER refuse BEFORE INSERT ON toolrouter.attempts FOR EACH ROW EXECUTE FUNCTION refuse()"


def test_a_run_of_refused_records_before_one_the_server_takes_is_set_aside(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres, tmp_path
) -> None:
    postgres_server.sql(REFUSE, pg_database)
    with open_store(f"{pg_url}&retry_s=0.05") as store:
        postgres_server.sql(TRIGGER, pg_database)
        for tool in ("bad1", "bad2", "bad3", "bad4", "bad5", "good"):
            assert store.append([record(tool)]) == []  # the first refused, the rest journaled after it
        store.flush(timeout_s=10)
        assert [r.tool_id for r in store.attempts()] == ["good"] and store.online and store.pending == 0
    (aside,) = (tmp_path / "journal").rglob("*.journal.refused")
    assert len(aside.read_text().splitlines()) == 5


def test_a_run_of_refused_records_as_long_as_a_batch_is_set_aside(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres
) -> None:
    postgres_server.sql(REFUSE, pg_database)
    with open_store(pg_url) as store:
        postgres_server.sql(TRIGGER, pg_database)
        journal = Journal.for_origin(store._journal_dir, "dead", 100, store.store_id)
        try:
            journal.add([1, 2, 3, 4], [record(tool) for tool in ("bad1", "bad2", "bad3", "good")])
            store._replay(journal, "dead", batch=2)  # a batch of 2, as 500 records would be: the run fills it
            assert len(journal) == 0 and [r.tool_id for r in store.attempts()] == ["good"]
        finally:
            journal.close()
    (aside,) = store._journal_dir.glob("dead.journal.refused")
    assert len(aside.read_text().splitlines()) == 3
