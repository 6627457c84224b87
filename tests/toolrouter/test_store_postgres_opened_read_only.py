"""A PostgreSQL store opened ``read_only`` (``toolrouter stats``, ``snapshots``) writes nothing to
the database, as an SQLite one does: its writes are refused naming the store, and an older schema is
refused instead of migrated."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.errors import StoreOpenError
from toolrouter.store import AttemptRecord, open_store

pytest.importorskip("psycopg")


def record() -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)


def test_a_read_only_store_reads_and_refuses_every_write_naming_the_store(pg_url: str) -> None:
    with open_store(pg_url) as writer:
        (top,) = writer.append([record()])
        writer.put_snapshot("learner", b"state", top)
    for create in (True, False):
        with open_store(pg_url, create=create, read_only=True) as store:
            assert store.count() == 1 and store.get_snapshot("learner").data == b"state"
            writes = [
                lambda: store.append([record()]), lambda: store.put_snapshot("other", b"x", 0), lambda: store.prune(top),
                lambda: store.delete_snapshot("learner"), lambda: store.claim("recheck", 1),
            ]
            for write in writes:
                with pytest.raises(ValueError, match=r"^store 'postgresql://.*': opened read-only \(read_only=True\); nothing was written$"):
                    write()
            assert store.pending == 0
    with open_store(pg_url) as store:
        assert store.count() == 1 and store.snapshot_names() == ["learner"] and store.claimed("recheck") == 0


def test_a_read_only_open_creates_and_migrates_nothing(pg_url: str, old_pg_store, pg_schema_version) -> None:
    with pytest.raises(StoreOpenError, match="no toolrouter store .*nothing was created"):
        open_store(pg_url, read_only=True)
    old_pg_store(10)
    with pytest.raises(StoreOpenError, match="has schema_version 10, .* opened read-only, it cannot be migrated"):
        open_store(pg_url, read_only=True)
    result = CliRunner().invoke(app, ["stats", "--store", pg_url], env={"COLUMNS": "400"})
    assert result.exit_code == 2 and "cannot be migrated" in " ".join(result.output.split()), result.output
    assert pg_schema_version() == 10
    with open_store(pg_url) as store:  # a store opened for writing migrates it, as before
        assert store.count() == 0
    assert pg_schema_version() > 10


def test_a_read_only_store_needs_no_writable_journal_dir(pg_url: str) -> None:
    # it never journals: toolrouter stats failed where the journal folder could not be made (a
    # read-only home), though the store was readable
    open_store(pg_url).close()
    unwritable = f"{pg_url.split('?')[0]}?journal_dir=/etc/passwd/journals"
    with pytest.raises(StoreOpenError, match="journal_dir: cannot make"):
        open_store(unwritable)
    with open_store(unwritable, read_only=True) as store:
        assert store.count() == 0
