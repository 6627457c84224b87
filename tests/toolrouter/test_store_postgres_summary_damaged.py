"""``summary`` (``toolrouter stats``) of a PostgreSQL store with a number edited by hand into what
no append keeps (NaN, inf) names the row and the column, as every read of the log does and as the
SQLite store's summary does, instead of averaging it in SQL into a NaN or infinite mean."""

from __future__ import annotations

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.store import AttemptRecord, open_store

pytest.importorskip("psycopg")


def attempt(i: int) -> AttemptRecord:
    return AttemptRecord(task_id=f"t{i}", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.5 * i, latency_s=0.25, utility=1.0)


@pytest.mark.parametrize(("column", "value"), [("utility", "NaN"), ("cost", "Infinity"), ("latency_s", "-Infinity")])
def test_summary_names_the_damaged_row(postgres_server, pg_database, pg_url, column, value) -> None:
    with open_store(pg_url) as store:
        ids = store.append([attempt(1), attempt(2)])
        assert [(s.calls, s.mean_cost) for s in store.summary()] == [(2, 0.75)]
        postgres_server.sql(f"UPDATE toolrouter.attempts SET {column} = '{value}' WHERE id = {ids[1]}", pg_database)
        with pytest.raises(CorruptStateError, match=rf"attempts row {ids[1]}: {column}: expected a finite number"):
            store.summary()
