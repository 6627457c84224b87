"""A store whose ``meta.schema_version`` is not a whole number (damaged, edited by hand) is refused
with ``StoreOpenError`` naming the store, the field and the value, and is left as it was (it failed
with int()'s bare "invalid literal for int() with base 10")."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from toolrouter.errors import CorruptStateError, StoreOpenError
from toolrouter.store import SQLiteStore, open_store


@pytest.mark.parametrize("value", ["seven", "7.0", "", "-3"])
def test_sqlite_names_a_schema_version_that_is_no_version(tmp_path: Path, value: object) -> None:
    path = tmp_path / "r.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (value,))
    conn.commit()
    with pytest.raises(StoreOpenError, match=rf"store 'sqlite:///.*r\.db': .*meta\.schema_version: expected a whole number from 1, got {value!r}"):
        open_store(f"sqlite:///{path}")
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == value  # unchanged
    conn.close()


def test_postgresql_names_a_schema_version_that_is_no_version(pg_url: str, pg_database: str, postgres_server) -> None:  # type: ignore[no-untyped-def]
    open_store(pg_url).close()
    postgres_server.sql("UPDATE toolrouter.meta SET value = 'seven' WHERE key = 'schema_version'", pg_database)
    with pytest.raises(StoreOpenError, match=r"store 'postgresql://.*: toolrouter\.meta\.schema_version: expected a whole number from 1, got 'seven'"):
        open_store(pg_url)


def test_a_pruned_upto_that_is_no_number_is_named() -> None:
    # read by the same check as schema_version: it failed with int()'s bare "invalid literal"
    store = SQLiteStore(":memory:")
    store._conn.execute("INSERT INTO meta (key, value) VALUES ('pruned_upto', 'lots')")
    with pytest.raises(CorruptStateError, match=r"^store .sqlite:///:memory:.: meta\.pruned_upto: expected a whole number from 0, got .lots."):
        store.pruned_upto()
    store.close()
