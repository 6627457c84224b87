"""A store opened read-only (``read_only=True``; ``toolrouter stats``, ``snapshots`` and ``mcp stats``)
uses SQLite's read-only open: a file one may read but not write is read, and nothing is written to
it. The test machine runs as root, where file permissions do not bind, so these tests check what a
read-only open refuses to write, and that the file's bytes do not change."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.errors import StoreOpenError
from toolrouter.store import AttemptRecord, SQLiteStore, open_store


def record() -> AttemptRecord:
    return AttemptRecord(
        task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
        quality=1.0, cost=0.0, latency_s=0.0, utility=1.0,
    )


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        store.append([record()])
        store.put_snapshot("learner", b"state", 1)
    return path


def test_a_read_only_store_reads_and_refuses_every_write_naming_the_store(path) -> None:
    before = digest(path)
    store = open_store(f"sqlite:///{path}", read_only=True)
    assert store.count() == 1 and store.get_snapshot("learner").data == b"state" and store.store_id
    writes = [
        lambda: store.append([record()]), lambda: store.put_snapshot("other", b"x", 0), lambda: store.prune(1),
        lambda: store.delete_snapshot("learner"), lambda: store.claim("recheck", 1),
    ]
    for write in writes:
        with pytest.raises(ValueError, match=r"^store 'sqlite:///.*': opened read-only \(read_only=True\); nothing was written$"):
            write()
    assert store.pending == 0 and store.count() == 1 and store.snapshot_names() == ["learner"]
    store.close()
    assert digest(path) == before


def test_a_read_only_open_creates_no_store(tmp_path) -> None:
    with pytest.raises(StoreOpenError, match="no SQLite store at .*nothing was created"):
        open_store(f"sqlite:///{tmp_path / 'none.db'}", read_only=True)
    with pytest.raises(TypeError, match=r"^read_only: expected True or False, got 'yes'$"):
        SQLiteStore(tmp_path / "r.db", read_only="yes")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["stats"], ["mcp", "stats"], ["snapshots"]])
def test_the_reading_commands_refuse_a_store_of_an_older_schema_instead_of_migrating_it(path, command) -> None:
    # stats opened the file for writing and migrated it: refused on a file one may not write
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("ALTER TABLE tool_removals DROP COLUMN capabilities")
        conn.execute("ALTER TABLE attempts DROP COLUMN conversation_id")
        conn.execute("UPDATE meta SET value = '8' WHERE key = 'schema_version'")
    conn.close()
    before = digest(path)
    result = CliRunner().invoke(app, [*command, "--store", f"sqlite:///{path}"], env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output
    assert "has schema_version 8" in " ".join(result.output.split())
    assert "cannot be migrated" in " ".join(result.output.split())
    assert digest(path) == before
    with SQLiteStore(path) as store:  # a store opened for writing migrates it, as before
        assert store.count() == 1


def test_snapshots_without_drop_writes_nothing_and_with_drop_deletes(path) -> None:
    before = digest(path)
    result = CliRunner().invoke(app, ["snapshots", "--store", f"sqlite:///{path}"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "learner" in result.output and digest(path) == before
    result = CliRunner().invoke(app, ["snapshots", "--store", f"sqlite:///{path}", "--drop", "learner"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    with SQLiteStore(path) as store:
        assert store.snapshot_names() == []


def test_where_sqlite_cannot_make_its_shared_memory_file_the_store_is_read_unless_a_log_waits(path, monkeypatch) -> None:
    # as root a directory is always writable: SQLite's answer for a read-only directory
    # (SQLITE_READONLY_DIRECTORY, at the first read) is given by the first read here
    first_read = SQLiteStore._check_not_foreign
    reads = []

    def read(self) -> None:
        reads.append(self)
        if len(reads) == 1:
            exc = sqlite3.OperationalError("attempt to write a readonly database")
            exc.sqlite_errorcode = 1544
            raise exc
        first_read(self)

    monkeypatch.setattr(SQLiteStore, "_check_not_foreign", read)
    with SQLiteStore(path, read_only=True) as store:  # read as an unchanging file, no -shm made
        assert store.count() == 1 and not (path.parent / "r.db-shm").exists()
    reads.clear()
    (path.parent / "r.db-wal").write_bytes(b"x" * 32)  # writes a reader as unchanging would miss
    with pytest.raises(StoreOpenError, match=r"r\.db-wal' holds writes not yet in the database"):
        SQLiteStore(path, read_only=True)


def test_a_read_only_store_leaves_no_log_files_beside_the_database(path) -> None:
    # SQLite's read-only open makes the WAL's -wal and -shm files and cannot remove them at close
    before = digest(path)
    with open_store(f"sqlite:///{path}", read_only=True) as store:
        assert store.count() == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["r.db"] and digest(path) == before
    with SQLiteStore(path) as writer:  # a writer's files stay while it has them open
        with open_store(f"sqlite:///{path}", read_only=True) as store:
            assert store.count() == 1
        writer.append([record()])
        assert sorted(p.name for p in path.parent.iterdir()) == ["r.db", "r.db-shm", "r.db-wal"]
    with open_store(f"sqlite:///{path}", read_only=True) as store:
        assert store.count() == 2
    assert sorted(p.name for p in path.parent.iterdir()) == ["r.db"]


@pytest.mark.parametrize("url", ["memory://", "sqlite:///:memory:"])
def test_a_store_of_one_process_opened_read_only_is_refused_naming_read_only(url) -> None:
    # the error said create=False, an argument the caller never gave
    with pytest.raises(StoreOpenError, match=r"new, empty \w+ at every open \(read_only=True\)$"):
        open_store(url, read_only=True)
    with pytest.raises(StoreOpenError, match=r"new, empty \w+ at every open \(create=False\)$"):
        open_store(url, create=False)
