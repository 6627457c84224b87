"""An SQLite snapshot whose name was edited by hand into a blob (SQLite keeps one in a text column)
is named as a damaged row by what lists the snapshots: it was listed as ``b'router'``, which no name
reads or deletes (``toolrouter snapshots --drop router`` answered "no snapshot 'router'; it has
[b'router']"), while its watermark held ``prune`` back for good."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.store import SQLiteStore


def test_a_snapshot_name_that_is_no_text_is_named(tmp_path) -> None:
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        store.put_snapshot("router", b"state", 0)
        store.put_snapshot("other", b"x", 0)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE snapshots SET name = CAST(name AS BLOB) WHERE name = 'router'")
    conn.close()
    with SQLiteStore(path) as store:
        problem = r"snapshots row b'router': name: expected text, got b'router' \(a damaged or hand-edited store"
        for read in (store.snapshot_names, store.snapshot_infos, store.prunable, lambda: store.delete_snapshot("router")):
            with pytest.raises(CorruptStateError, match=problem):
                read()
        assert store.get_snapshot("other").data == b"x"
