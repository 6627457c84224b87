"""A snapshot longer than a PostgreSQL store can read back is refused naming the store, its size
and the limit, and nothing is written: PostgreSQL sends a bytea back as hex, in at most 1 GiB, so
one of more than about 512 MiB was written and never read again ("invalid memory alloc request
size"), while ``prune`` deleted the attempts it held."""

from __future__ import annotations

import re

import pytest
from test_store_postgres import block, unblock

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store

pytest.importorskip("psycopg")


def test_a_snapshot_it_could_not_read_back_is_refused_naming_its_size_and_the_limit(pg_url: str) -> None:
    with open_store(pg_url) as store:
        store.put_snapshot("router", b"state", 0)
        big = bytes(500_000_001)  # zeros mapped lazily by the system: the refusal reads none of them
        problem = rf"^data: 500000001 bytes, more than store {re.escape(repr(store.url))} keeps in one snapshot \(500000000 bytes"
        with pytest.raises(ValueError, match=problem):
            store.put_snapshot("router", big, 0)
        assert store.get_snapshot("router").data == b"state" and store.snapshot_names() == ["router"]


def test_a_snapshot_too_big_is_refused_as_such_during_an_outage(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    """The size was checked after the server was asked: during an outage the caller was told to
    try again later (``StoreUnavailableError``), which could never pass."""
    with open_store(f"{pg_url}&timeout_s=0.5") as store:
        block(postgres_server, pg_database)
        try:
            with pytest.raises(ValueError, match=r"^data: 500000001 bytes, more than store"):
                store.put_snapshot("router", bytes(500_000_001), 0)
        finally:
            unblock(postgres_server, pg_database)
