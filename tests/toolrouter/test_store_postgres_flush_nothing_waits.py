"""``flush`` during an outage when nothing waits in the journal. A read-only store journals
nothing: its flush waited ``timeout_s`` and then raised that "0 attempts ... wait in the journal",
so that ``router.save(path)`` of a router on it failed during an outage; it returns at once, as the
SQLite store's does. A store that writes still raises (the server is away: what it appends next
waits), saying that nothing waits yet rather than that 0 attempts do."""

from __future__ import annotations

import pytest
from test_store_postgres import block, unblock

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import StoreUnavailableError, open_store


def test_a_flush_in_an_outage_with_nothing_in_the_journal(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    with open_store(f"{pg_url}&timeout_s=0.2") as writer, open_store(f"{pg_url}&timeout_s=0.2", read_only=True) as reader:
        block(postgres_server, pg_database)
        try:
            for store in (writer, reader):
                with pytest.raises(StoreUnavailableError):
                    store.count()  # finds the outage
                assert not store.online
            reader.flush(timeout_s=1)  # nothing can wait
            with pytest.raises(StoreUnavailableError, match=r"the server is unreachable; nothing waits in the journal") as info:
                writer.flush(timeout_s=0)
            assert "0 attempts" not in str(info.value)
        finally:
            unblock(postgres_server, pg_database)
