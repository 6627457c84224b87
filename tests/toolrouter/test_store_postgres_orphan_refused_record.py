"""A record the server refuses for its own sake, with nothing after it in the journal when its
router closes, stays in that router's journal: nothing is ever appended to a dead router's journal,
so no record after it is taken to judge the refusal the record's own, and the stores opened on the
host leave it there. Each says so once, naming the journal and what resolves it; the resolution it
names first (fix what refuses it, open a store) writes the record."""

from __future__ import annotations

from structlog.testing import capture_logs
from test_store import record

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_a_dead_routers_refused_last_record_is_said_with_its_resolution(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres, tmp_path
) -> None:
    postgres_server.sql(
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN IF NEW.tool_id = 'bad' THEN RAISE EXCEPTION 'not this tool'; END IF; RETURN NEW; END $$",
        pg_database,
    )
    with open_store(pg_url) as gone:
        postgres_server.sql(
            "CREATE TRIGGER refuse BEFORE INSERT ON toolrouter.attempts FOR EACH ROW EXECUTE FUNCTION refuse()", pg_database
        )
        gone.append([record("a")])
        assert gone.append([record("bad")]) == []  # journaled, and the router closes before another record
    (kept,) = (tmp_path / "journal").rglob("*.journal")
    for tool in ("b", "c"):  # each store opened on the host says it
        with capture_logs() as events, open_store(pg_url) as store:
            store.append([record(tool)])
        said = [e for e in events if e["event"] == "journal_adoption_deferred"]
        assert [(e["journal"], "not this tool" in e["error"]) for e in said] == [(str(kept), True)], said
        assert "a trigger" in said[0]["resolve"] and f"move {kept}* out of its folder" in said[0]["resolve"]
    postgres_server.sql("DROP TRIGGER refuse ON toolrouter.attempts", pg_database)
    with open_store(pg_url) as store:
        assert [r.tool_id for r in store.attempts()] == ["a", "b", "c", "bad"]
    assert not kept.exists()
