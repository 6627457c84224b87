"""What waits in memory for an SQLite store whose file was deleted is said to be lost when the store
closes, not promised to be written: its error told to reopen the store (a store opened then is a
new one, and what waited in the old one was lost with it), and the docs listed a deleted file among
the outages after which every later append writes what waits."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import toolrouter.store.sqlite
from toolrouter.store import AttemptRecord, SQLiteStore, StoreUnavailableError


def _record() -> AttemptRecord:
    return AttemptRecord("t", "q", "s", None, "a", True, 1.0, 0.0, 0.0, 1.0)


def test_a_deleted_files_error_says_what_waits_is_lost_at_close(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    store = SQLiteStore(path)
    store.append([_record()])
    os.remove(path)
    assert store.append([_record()]) == []
    with SQLiteStore(path) as anew:  # a store opened now is another store: what waits is not written there
        assert anew.append([_record()]) == [1] and store.append([_record()]) == []
    with pytest.raises(StoreUnavailableError, match=r"was deleted or replaced since the store opened it: nothing more is "
                       r"written to it, and what waits in memory is lost when the store closes"):
        store.flush()
    with pytest.raises(StoreUnavailableError, match="they are lost$"):
        store.close()
    with SQLiteStore(path) as anew:
        assert anew.count() == 1


def test_the_docs_do_not_promise_to_write_what_waits_for_a_deleted_file() -> None:
    said = " ".join((toolrouter.store.sqlite.__doc__ or "").split())
    assert "the file was deleted or replaced since the store opened it) are not lost" not in said
    assert "they are lost when the store closes" in said
