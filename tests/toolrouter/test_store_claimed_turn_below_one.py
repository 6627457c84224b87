"""A claim's turn edited by hand below 1 (no ``claim`` writes one: turns count from 1) is named as a
damaged row by ``claimed``, in the SQLite and PostgreSQL stores alike: it was given back as the
highest turn claimed, a turn that never was."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.store import Store, SQLiteStore, open_store


def check(store: Store, edit: Callable[[int], None]) -> None:
    for turn in (0, -3):
        assert store.claim("recheck:web", 2)
        edit(turn)
        with pytest.raises(CorruptStateError, match=rf"claims row 'recheck:web': turn: expected a whole number from 1, got {turn} "):
            store.claimed("recheck:web")
        assert store.claim("recheck:web", 1) and store.claimed("recheck:web") == 1  # a claim mends it


def test_an_sqlite_claim_below_one_is_a_damaged_row(tmp_path) -> None:
    path = tmp_path / "r.db"

    def edit(turn: int) -> None:
        conn = sqlite3.connect(path)
        with conn:
            conn.execute("UPDATE claims SET turn = ? WHERE name = 'recheck:web'", (turn,))
        conn.close()

    with SQLiteStore(path) as store:
        check(store, edit)


def test_a_postgres_claim_below_one_is_a_damaged_row(postgres_server, pg_database: str, pg_url: str) -> None:
    with open_store(pg_url) as store:
        check(store, lambda turn: postgres_server.sql(f"UPDATE toolrouter.claims SET turn = {turn} WHERE name = 'recheck:web'", pg_database))
