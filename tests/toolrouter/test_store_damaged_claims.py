"""A claim, a snapshot or the prune mark of an SQLite store edited by hand into text (SQLite keeps
text in an INTEGER or BLOB column) is named as damaged: text compares above every number, so the
claim was never granted again and the snapshot never replaced, without a word; ``claimed`` and
``get_snapshot`` failed in int()'s and bytes()' bare words; and prune read the mark as 0."""

from __future__ import annotations

import sqlite3

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.store import AttemptRecord, SQLiteStore


def record() -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)


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
            with pytest.raises(CorruptStateError, match=r"claims row 'recheck:web': turn: expected a whole number from 1, got 'one'") as info:
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


def test_a_prune_mark_that_is_no_number_is_named_by_prune_and_kept(tmp_path) -> None:
    # prune read it through CAST, as 0, and replaced it with its own lower mark: a router that had
    # read past that mark took the attempts pruned before for never written
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        store.append([record() for _ in range(4)])
        assert store.prune(3) == 3
    edit(path, "UPDATE meta SET value = 'lots' WHERE key = 'pruned_upto'")
    with SQLiteStore(path) as store:
        with pytest.raises(CorruptStateError, match=r"meta\.pruned_upto: expected a whole number from 0, got 'lots'") as info:
            store.prune(4)
        assert repr(store.url) in str(info.value) and store.count() == 1  # nothing deleted
        assert store.append([record()])  # the store goes on: the failed prune left no transaction open
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'pruned_upto'").fetchone() == ("lots",)
    conn.close()
