"""A role that may no longer write one of the log's tables (every privilege on the trace closes
taken away, or ``INSERT``, or a column's) has every record of that kind refused, while the server
takes the records of the other kinds after it. Each trace close was judged refused for its own sake
and set aside: a privilege taken away read as a fault of the record, and where the role could not
read the table either, the check whether the log holds the record already took that refusal for "not
in the log". The role's privileges on the record's table are asked first: without them it is a
refusal of every write of its kind, which sets nothing aside (the journal waits, ``flush`` names the
table), and the records are written once they are granted."""

from __future__ import annotations

import pytest
from test_store import record
from test_store_postgres import flush_refused

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import TraceClose, open_store


@pytest.mark.parametrize("revoked", ["ALL", "INSERT", "INSERT (writer)", "SELECT (id)"])
def test_a_table_the_role_may_not_append_to_holds_the_journal_back(
    revoked: str, postgres_server: LocalPostgres, pg_database: str, pg_url: str, pg_role: str, tmp_path
) -> None:
    open_store(pg_url).close()  # the tables are the server superuser's, the role granted what it needs
    postgres_server.sql(f"GRANT USAGE ON SCHEMA toolrouter TO {pg_role}", pg_database)
    postgres_server.sql(f"GRANT ALL ON ALL TABLES IN SCHEMA toolrouter TO {pg_role}", pg_database)
    url = f"postgresql://{pg_role}:pw@127.0.0.1:{postgres_server.port}/{pg_database}?journal_dir={tmp_path}&retry_s=0.02"
    with open_store(url) as store:
        store.append([record("a")])
        privilege, _, column = revoked.rstrip(")").partition(" (")
        postgres_server.sql(f"REVOKE {privilege} ON toolrouter.trace_closes FROM {pg_role}", pg_database)
        if column:  # granted by column, all but that one
            others = [c for c in ("id", "origin", "origin_seq", "writer", "trace_id", "finished", "timestamp") if c != column]
            postgres_server.sql(f"GRANT {privilege} ({', '.join(others)}) ON toolrouter.trace_closes TO {pg_role}", pg_database)
        assert store.append([TraceClose("t1", True)]) == []  # refused: the store goes offline, it waits
        store.append([record("b")])
        assert "permission denied for table trace_closes" in flush_refused(store, "trace_closes")
        assert store.pending == 2 and not list(tmp_path.rglob("*.refused"))
        postgres_server.sql(f"GRANT ALL ON toolrouter.trace_closes TO {pg_role}", pg_database)
        store.flush(timeout_s=10)
        assert [type(e).__name__ for e in store.log()] == ["AttemptRecord", "TraceClose", "AttemptRecord"]
        assert store.online and store.pending == 0
