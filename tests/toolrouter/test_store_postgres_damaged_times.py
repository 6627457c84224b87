"""A PostgreSQL row whose time no ``datetime`` holds (``infinity``, a year past 9999: edited by hand)
is named as a damaged row, as in SQLite: the driver's ``DataError`` failed the whole read, which the
store took for an outage, so every router's catch-up was deferred for good (``sync_deferred``) and
the routers sharing the store stopped learning from each other without an error."""

from __future__ import annotations

import pytest
from test_store import record

from toolrouter.errors import CorruptStateError
from toolrouter.store import TraceClose, open_store


@pytest.mark.parametrize(("table", "value"), [("attempts", "infinity"), ("trace_closes", "10000-01-01")])
def test_a_time_no_datetime_holds_is_named_as_a_damaged_row(postgres_server, pg_database, pg_url, table, value) -> None:
    with open_store(pg_url) as store:
        ids = store.append([record("a"), record("b"), TraceClose(trace_id="t", finished=True)])
        damaged = ids[1] if table == "attempts" else ids[2]
        postgres_server.sql(f"UPDATE toolrouter.{table} SET timestamp = '{value}' WHERE id = {damaged}", pg_database)
        reads = [store.log, *([store.attempts] if table == "attempts" else [])]
        for read in reads:
            with pytest.raises(CorruptStateError, match=rf"{table} row {damaged}: timestamp: .*damaged or hand-edited"):
                read()
        assert [e.id for e in store.log(limit=1)] == ids[:1] and store.online  # the rows before it read; no outage
