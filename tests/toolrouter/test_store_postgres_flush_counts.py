"""``PostgresStore.flush`` counts what waits in the journal as every kind of record it may be: a
tool removal and a trace close waiting were "2 attempts or trace closes", as the SQLite store's
message said before it was put right."""

from __future__ import annotations

import pytest
from test_store_postgres import block, unblock

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import StoreUnavailableError, ToolRemoval, TraceClose, open_store

pytest.importorskip("psycopg")


def test_what_waits_in_the_journal_is_counted_as_every_kind_of_record(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    with open_store(f"{pg_url}&timeout_s=0.5&retry_s=0.05") as store:
        block(postgres_server, pg_database)
        try:
            assert store.append([ToolRemoval(tool_id="a"), TraceClose(trace_id="t", finished=True)]) == []
            with pytest.raises(StoreUnavailableError, match=r"; 2 attempts, trace closes or tool removals wait in the journal "):
                store.flush(timeout_s=0)
        finally:
            unblock(postgres_server, pg_database)
        store.flush(timeout_s=10)
