"""An SQLite store file this process may read but not write (or SQLite's -wal or -shm file beside
it) is refused when opened for writing, naming it: SQLite opened the store read-only without a
word, so a router started on it routed on while every attempt waited in memory, to be lost when it
closed. Opened read-only, a store it may read is read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_store_errors import permissions_bind

from toolrouter.errors import StoreOpenError
from toolrouter.store import AttemptRecord, SQLiteStore, open_store


@pytest.fixture
def path(tmp_path: Path) -> Path:
    if os.name != "posix" or not permissions_bind(tmp_path):
        pytest.skip("file permissions do not bind this process")
    made = tmp_path / "r.db"
    with SQLiteStore(made) as store:
        store.append([AttemptRecord("t", "q", "s", None, "a", True, 1.0, 0.0, 0.0, 1.0)])
    return made


def test_a_file_this_process_may_not_write_is_refused_unless_read_only(path: Path) -> None:
    path.chmod(0o444)
    try:
        with pytest.raises(StoreOpenError, match=r"r\.db' cannot be opened for reading and writing \(this process may not write it\); .* \(read_only=True reads it\)$"):
            open_store(f"sqlite:///{path}")
        with open_store(f"sqlite:///{path}", read_only=True) as store:
            assert store.count() == 1
    finally:
        path.chmod(0o644)


def test_a_shared_memory_file_this_process_may_not_write_is_refused(path: Path) -> None:
    shm = Path(f"{path}-shm")  # left by another user's reader, say
    shm.touch(0o444)
    with pytest.raises(StoreOpenError, match=r"r\.db-shm' cannot be opened for reading and writing \(this process may not write it\)"):
        open_store(f"sqlite:///{path}")
    shm.unlink()
    with open_store(f"sqlite:///{path}") as store:
        assert store.count() == 1
