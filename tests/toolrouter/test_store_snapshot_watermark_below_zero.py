"""A snapshot's watermark edited by hand below 0 (no ``put_snapshot`` writes one: it is an attempt
id) is named as a damaged row, in the SQLite and PostgreSQL stores alike: ``prunable`` gave it to
``toolrouter prune`` as the bound of what the snapshots hold, which ended in a traceback
("upto_id: expected an integer in [0, ...], got -5"), and ``toolrouter snapshots`` said prune would
delete "the attempts up to id -5"."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.errors import CorruptStateError
from toolrouter.store import AttemptRecord, SQLiteStore, Store, open_store

PROBLEM = r"snapshots row 'router': watermark: expected an attempt id, got -5 \(a damaged or hand-edited store"


def damaged(store: Store, edit: Callable[[], None]) -> int:
    """Store a snapshot, ``edit`` its watermark to -5, and check that every read names it."""
    (top,) = store.append([AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a",
                                         success=True, quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)])
    store.put_snapshot("router", b"state", top)
    edit()
    for read in (store.snapshot_infos, store.prunable, lambda: store.get_snapshot("router")):
        with pytest.raises(CorruptStateError, match=PROBLEM):
            read()
    return top


def test_an_sqlite_snapshot_watermark_below_zero_is_a_damaged_row(tmp_path) -> None:
    path = tmp_path / "r.db"

    def edit() -> None:
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("UPDATE snapshots SET watermark = -5")
        conn.close()

    with SQLiteStore(path) as store:
        top = damaged(store, edit)
    result = CliRunner().invoke(app, ["prune", "--store", f"sqlite:///{path}"])
    assert result.exit_code == 1 and "watermark: expected an attempt id, got -5" in result.output
    with SQLiteStore(path) as store:
        assert store.count() == 1  # nothing pruned
        assert store.put_snapshot("router", b"again", top) and store.prunable() == top  # a save mends it


def test_a_postgres_snapshot_watermark_below_zero_is_a_damaged_row(postgres_server, pg_database: str, pg_url: str) -> None:
    with open_store(pg_url) as store:
        top = damaged(store, lambda: postgres_server.sql("UPDATE toolrouter.snapshots SET watermark = -5", pg_database))
        assert store.put_snapshot("router", b"again", top) and store.prunable() == top  # a save mends it
