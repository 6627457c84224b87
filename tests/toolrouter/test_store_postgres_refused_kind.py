"""A trigger that refuses every row of one of the log's tables (trace closes) refuses every record
of that kind, while the server takes the records of the other kinds after it. The refused record
was judged refused for its own sake because the server took an attempt after it, and set aside:
lost to the routers replaying the log, as was every trace close after it. A record of another kind
says nothing of the record's table: a probe of its kind stands in for it, which the trigger refuses
too, and the journal waits until the trigger goes. A record refused for its own sake with only
records of other kinds after it (a tool removal, rare) is still set aside: the probe is taken."""

from __future__ import annotations

from test_store import record
from test_store_postgres import flush_refused

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import ToolRemoval, TraceClose, open_store


def refuse(postgres_server: LocalPostgres, pg_database: str, table: str, condition: str) -> None:
    postgres_server.sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN IF {condition} THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$",
        pg_database,
    )
    postgres_server.sql(f"CREATE TRIGGER refuse BEFORE INSERT ON toolrouter.{table} FOR EACH ROW EXECUTE FUNCTION refuse()", pg_database)


def test_a_trigger_refusing_every_record_of_a_kind_sets_nothing_aside(
    postgres_server: LocalPostgres, pg_database: str, pg_url: str, tmp_path
) -> None:
    with open_store(f"{pg_url}&retry_s=0.02") as store:
        store.append([record("a")])
        refuse(postgres_server, pg_database, "trace_closes", "true")
        assert store.append([TraceClose("t1", True)]) == []  # refused: the store goes offline, it waits
        store.append([record("b")])
        assert "refused" in flush_refused(store, "refused")
        store.append([TraceClose("t2", True), record("c")])  # one of its kind after it, refused too
        assert "refused" in flush_refused(store, "refused")
        assert store.pending == 4 and not list(tmp_path.rglob("*.refused"))
        postgres_server.sql("DROP TRIGGER refuse ON toolrouter.trace_closes", pg_database)
        store.flush(timeout_s=10)
        assert [type(e).__name__ for e in store.log()] == ["AttemptRecord", "TraceClose", "AttemptRecord", "TraceClose", "AttemptRecord"]
        assert store.online and store.pending == 0


def test_a_record_refused_for_its_own_sake_before_records_of_other_kinds_is_set_aside(
    postgres_server: LocalPostgres, pg_database: str, pg_url: str, tmp_path
) -> None:
    with open_store(f"{pg_url}&retry_s=0.02") as store:
        refuse(postgres_server, pg_database, "tool_removals", "NEW.tool_id = 'kept'")
        assert store.append([ToolRemoval("kept")]) == []
        store.append([record("a"), TraceClose("t1", True)])
        store.flush(timeout_s=10)
        assert [type(e).__name__ for e in store.log()] == ["AttemptRecord", "TraceClose"]
        assert len(list(tmp_path.rglob("*.journal.refused"))) == 1 and store.online and store.pending == 0
