"""A snapshot longer than SQLite keeps in one value is refused naming the store, its size and the
limit, and nothing is written: it failed in SQLite's bare words ("string or blob too big"), which
named no store, and no size or limit."""

from __future__ import annotations

import re

import pytest

from toolrouter.store import SQLiteStore


def test_a_snapshot_over_sqlites_length_limit_is_refused_naming_its_size_and_the_limit(tmp_path) -> None:
    with SQLiteStore(tmp_path / "r.db") as store:
        store.put_snapshot("router", b"state", 0)
        big = bytes(1_000_000_001)  # zeros mapped lazily by the system: the refusal reads none of them
        problem = rf"^data: 1000000001 bytes, more than store {re.escape(repr(store.url))} keeps in one snapshot \(1000000000 bytes"
        with pytest.raises(ValueError, match=problem):
            store.put_snapshot("router", big, 0)
        assert store.get_snapshot("router").data == b"state"
