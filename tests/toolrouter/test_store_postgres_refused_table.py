"""A role that loses its privileges on one of the log's tables (trace closes) has every record of
that kind refused, while the server takes the records after it. Whether
the log holds the refused one already could not be read either (the same privilege), and that
refusal was taken for "not in the log": the record was set aside as refused for its own sake, and so
was every trace close after it. A refusal of every write of its kind sets nothing aside: the
journal waits, ``flush`` names the table, and the records are written once the privilege is
granted."""

from __future__ import annotations

from test_store import record
from test_store_postgres import flush_refused

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import TraceClose, open_store


def test_a_table_the_role_may_not_write_or_read_holds_the_journal_back(
    postgres_server: LocalPostgres, pg_database: str, pg_url: str, pg_role: str, tmp_path
) -> None:
    open_store(pg_url).close()  # the tables are the server superuser's, the role granted what it needs
    postgres_server.sql(f"GRANT USAGE ON SCHEMA toolrouter TO {pg_role}", pg_database)
    postgres_server.sql(f"GRANT ALL ON ALL TABLES IN SCHEMA toolrouter TO {pg_role}", pg_database)
    url = f"postgresql://{pg_role}:pw@127.0.0.1:{postgres_server.port}/{pg_database}?journal_dir={tmp_path}&retry_s=0.02"
    with open_store(url) as store:
        store.append([record("a")])
        postgres_server.sql(f"REVOKE ALL ON toolrouter.trace_closes FROM {pg_role}", pg_database)
        assert store.append([TraceClose("t1", True)]) == []  # refused: the store goes offline, it waits
        store.append([record("b")])
        assert "permission denied for table trace_closes" in flush_refused(store, "trace_closes")
        assert store.pending == 2 and not list(tmp_path.rglob("*.refused"))
        postgres_server.sql(f"GRANT ALL ON toolrouter.trace_closes TO {pg_role}", pg_database)
        store.flush(timeout_s=10)
        assert [type(e).__name__ for e in store.log()] == ["AttemptRecord", "TraceClose", "AttemptRecord"]
        assert store.online and store.pending == 0
