"""A store opened read-only whose ``meta.schema_version`` is newer than this code reads, or is no
version at all, is refused as an open for writing refuses it (and as the PostgreSQL store does):
"upgrade toolrouter", or the field and the value named. Both were told to open the file once with
write access to migrate it, which refuses it again."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from toolrouter.errors import StoreOpenError
from toolrouter.store import SQLiteStore, open_store


def _stored_version(tmp_path: Path, value: str) -> Path:
    path = tmp_path / "r.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (value,))
    conn.close()
    return path


@pytest.mark.parametrize("read_only", [False, True])
def test_a_newer_store_is_refused_asking_for_an_upgrade(tmp_path: Path, read_only: bool) -> None:
    path = _stored_version(tmp_path, "11")
    with pytest.raises(StoreOpenError, match=r"has schema_version 11, this toolrouter reads up to 10: upgrade toolrouter$"):
        open_store(f"sqlite:///{path}", read_only=read_only)


def test_a_read_only_open_names_a_schema_version_that_is_no_version(tmp_path: Path) -> None:
    path = _stored_version(tmp_path, "seven")
    with pytest.raises(StoreOpenError, match=r"meta\.schema_version: expected a whole number from 1, got 'seven' \(a damaged"):
        open_store(f"sqlite:///{path}", read_only=True)


def test_a_read_only_open_of_an_older_store_still_asks_for_a_write_access_open(tmp_path: Path) -> None:
    path = _stored_version(tmp_path, "9")
    with pytest.raises(StoreOpenError, match=r"has schema_version 9, this toolrouter reads 10; opened read-only, it cannot be migrated"):
        open_store(f"sqlite:///{path}", read_only=True)
