"""A snapshot's write that waits for a lock past ``timeout_s`` (another router writing the same
snapshot) was taken for an outage: the store went offline, logged ``store_unreachable``, and its
appends went to the journal until the next reconnect, though the server answered all along. It
raises ``StoreUnavailableError`` naming the operation, and the store stays online."""

from __future__ import annotations

import psycopg
import pytest
from test_store import record

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import StoreUnavailableError, open_store


def test_a_lock_waited_for_too_long_is_no_outage(postgres_server: LocalPostgres, pg_database: str, pg_url: str) -> None:
    with open_store(f"{pg_url}&timeout_s=0.5") as store, psycopg.connect(postgres_server.url(pg_database)) as holder:
        store.put_snapshot("learner", b"x", 0)
        holder.execute("SELECT 1 FROM toolrouter.snapshots WHERE name = 'learner' FOR UPDATE")  # another writer's
        with pytest.raises(StoreUnavailableError, match="put_snapshot: canceling statement due to lock timeout"):
            store.put_snapshot("learner", b"y", 0)
        holder.rollback()
        assert store.online
        assert store.append([record("x")])  # written, not journaled
        assert store.get_snapshot("learner").data == b"x"
