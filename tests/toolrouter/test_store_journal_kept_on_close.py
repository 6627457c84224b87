"""A store closed in an outage says how many records it left in its journal."""

from __future__ import annotations

from test_store import record
from test_store_postgres import block, unblock

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_pending_after_close_counts_what_the_journal_kept(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    # pending said 0 once the store was closed, though the records still waited on disk
    store = open_store(f"{pg_url}&timeout_s=0.5&retry_s=0.05")
    block(postgres_server, pg_database)
    try:
        assert store.append([record("a"), record("b")]) == [] and store.pending == 2
        store.close()
        assert store.pending == 2
    finally:
        unblock(postgres_server, pg_database)
    with open_store(pg_url) as later:  # adopts the journal the closed store left
        assert [r.tool_id for r in later.attempts()] == ["a", "b"]
    assert store.pending == 2  # what that store left; it has no say in what others wrote since
