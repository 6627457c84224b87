"""A store whose identity row was deleted (by hand, or damaged) is refused naming the store and
the row, as a damaged ``schema_version`` is: it failed with ``'NoneType' object is not
subscriptable``, naming nothing. It is not made anew: saved state names the store by it."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter.errors import StoreOpenError
from toolrouter.store import SQLiteStore, open_store


def test_an_sqlite_store_without_its_store_id_is_refused_naming_it(tmp_path) -> None:
    path = tmp_path / "r.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM meta WHERE key = 'store_id'")
    conn.close()
    for read_only in (False, True):
        with pytest.raises(StoreOpenError, match=r"^store 'sqlite:///.*r\.db': .*meta\.store_id is missing \(a damaged or hand-edited store"):
            open_store(f"sqlite:///{path}", read_only=read_only)


def test_a_postgresql_store_without_its_store_id_is_refused_naming_it(postgres_server, pg_database: str, pg_url: str) -> None:
    pytest.importorskip("psycopg")
    open_store(pg_url).close()
    postgres_server.sql("DELETE FROM toolrouter.meta WHERE key = 'store_id'", pg_database)
    with pytest.raises(StoreOpenError, match=r"^store 'postgresql://.*': toolrouter\.meta\.store_id is missing"):
        open_store(pg_url)
