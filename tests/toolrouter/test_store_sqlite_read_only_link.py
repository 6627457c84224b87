"""A read-only SQLite store opened through a symbolic link removes at its close the -wal and -shm
files its open made: SQLite makes them beside the file the link names, where they were not looked for."""

from __future__ import annotations

import os
from pathlib import Path

from toolrouter.store import SQLiteStore


def test_a_read_only_store_opened_through_a_link_leaves_no_wal_files(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    SQLiteStore(tmp_path / "real" / "r.db").close()
    os.symlink(os.path.join("real", "r.db"), tmp_path / "link.db")
    store = SQLiteStore(tmp_path / "link.db", read_only=True)
    assert store.count() == 0
    store.close()
    assert sorted(os.listdir(tmp_path / "real")) == ["r.db"]
    with SQLiteStore(tmp_path / "link.db", read_only=True) as again:  # still a store, read through the link
        assert again.count() == 0
