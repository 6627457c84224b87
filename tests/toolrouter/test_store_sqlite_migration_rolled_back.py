"""A migration that SQLite rolled back itself (a statement that failed with its whole transaction:
a full disk, an interrupt) is reported in SQLite's words: a second ROLLBACK failed with "cannot
rollback - no transaction is active", which hid why the store could not be opened."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter.errors import StoreOpenError
from toolrouter.store import SQLiteStore
from toolrouter.store.sqlite import _SCHEMA


class InterruptedMigration(SQLiteStore):
    """A store whose migration's insert of the store's identity is interrupted as it starts, which
    rolls the whole transaction back (as SQLite does on some disk-full errors)."""

    def _connect(self, *args, **kwargs) -> sqlite3.Connection:
        conn = super()._connect(*args, **kwargs)
        conn.set_trace_callback(lambda sql: sql.startswith("INSERT") and "store_id" in sql and conn.interrupt())
        return conn


def test_a_migration_rolled_back_by_sqlite_reports_why(tmp_path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(_SCHEMA)
    conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', '4')")  # before store ids
    conn.commit()
    conn.close()
    with pytest.raises(StoreOpenError, match="interrupted"):
        InterruptedMigration(path)
    store = SQLiteStore(path)  # nothing half-done: the migration runs whole at the next open
    try:
        assert store.count() == 0 and store.store_id
    finally:
        store.close()
