"""A claim or a snapshot row of an SQLite store whose column was edited by hand into text (SQLite
keeps text in an INTEGER or BLOB column) is named as a damaged row: text compares above every
number, so the claim was never granted again and the snapshot never replaced, without a word, and
``claimed`` and ``get_snapshot`` failed in int()'s and bytes()' bare words."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.store import SQLiteStore


def edit(path, statement: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(statement)
    conn.close()


def test_a_claim_whose_turn_is_text_is_a_damaged_row(tmp_path) -> None:
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        assert store.claim("recheck:web", 1)
    edit(path, "UPDATE claims SET turn = 'one' WHERE name = 'recheck:web'")
    with SQLiteStore(path) as store:
        for read in (lambda: store.claim("recheck:web", 2), lambda: store.claimed("recheck:web")):
            with pytest.raises(CorruptStateError, match=r"claims row 'recheck:web': turn: expected a whole number, got 'one'") as info:
                read()
            assert repr(store.url) in str(info.value)
        assert store.claim("recheck:other", 1) and store.claimed("recheck:other") == 1  # the others go on
        edit(path, "UPDATE claims SET turn = 3 WHERE name = 'recheck:web'")  # repaired
        assert not store.claim("recheck:web", 2) and store.claim("recheck:web", 4)


def test_a_snapshot_whose_watermark_is_text_is_named_when_put_again(tmp_path) -> None:
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        assert store.put_snapshot("router", b"old", 0)
    edit(path, "UPDATE snapshots SET watermark = 'zero' WHERE name = 'router'")
    with SQLiteStore(path) as store:
        with pytest.raises(CorruptStateError, match=r"snapshots row 'router': watermark: expected an attempt id, got 'zero'"):
            store.put_snapshot("router", b"new", 0)
        assert store.put_snapshot("other", b"x", 0)  # the others go on
        edit(path, "UPDATE snapshots SET watermark = 0 WHERE name = 'router'")  # repaired
        assert store.put_snapshot("router", b"new", 0) and store.get_snapshot("router").data == b"new"


def test_a_snapshot_whose_data_is_text_is_named_when_read(tmp_path) -> None:
    # bytes() of the text failed in its bare words ("string argument without an encoding"), a
    # TypeError from a router's load that named neither the store nor the snapshot
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        assert store.put_snapshot("router", b"state", 0)
    edit(path, "UPDATE snapshots SET data = 'state' WHERE name = 'router'")
    with SQLiteStore(path) as store:
        with pytest.raises(CorruptStateError, match=r"snapshots row 'router': data: expected bytes, got str 'state'") as info:
            store.get_snapshot("router")
        assert repr(store.url) in str(info.value)
