"""A PostgreSQL snapshot whose creation time no ``datetime`` holds (``infinity``, a year past 9999:
edited by hand) is named as a damaged row, as in SQLite: the driver's ``DataError`` failed the read,
which the store called the server's refusal (``StoreUnavailableError``, "timestamp too large"),
naming no snapshot, so a router would take it for a passing outage and retry for good."""

from __future__ import annotations

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.store import open_store

pytest.importorskip("psycopg")


@pytest.mark.parametrize("value", ["infinity", "10000-01-01"])
def test_a_snapshot_time_no_datetime_holds_is_named_as_a_damaged_row(postgres_server, pg_database, pg_url, value) -> None:
    with open_store(pg_url) as store:
        store.put_snapshot("other", b"x", 0)
        store.put_snapshot("router", b"state", 0)
        postgres_server.sql(f"UPDATE toolrouter.snapshots SET created = '{value}' WHERE name = 'router'", pg_database)
        for read in (store.snapshot_infos, store.prunable, lambda: store.get_snapshot("router")):
            with pytest.raises(CorruptStateError, match=r"snapshots row 'router': created: .*damaged or hand-edited"):
                read()
        assert store.get_snapshot("other").data == b"x" and store.online  # the others read; no outage
        assert store.put_snapshot("router", b"again", 0) and store.get_snapshot("router").data == b"again"  # a save mends it
