"""``prunable`` and ``toolrouter snapshots`` read what a snapshot says of itself (name, watermark,
when, size), not its bytes, which may be many megabytes per router."""

from __future__ import annotations

import re
from datetime import timezone
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.store import AttemptRecord, SnapshotInfo, SQLiteStore, Store, open_store

_BLOB = re.compile(r"(?<![(\w])data\b")  # the snapshots' bytes selected, not their length(data)


def _fill(store: Store) -> None:
    store.append([AttemptRecord("t", "x", "search", "search", "good", True, 1.0, 0.0, 0.0, 1.0) for _ in range(9)])
    store.put_snapshot("learner", b"s" * 300_000, 9)
    store.put_snapshot("old", b"o" * 7, 4)


def _statements(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements ``store`` runs from now on; reading a snapshot whole fails the test."""
    seen: list[str] = []
    if isinstance(store, SQLiteStore):
        store._conn.set_trace_callback(seen.append)
    else:
        execute = psycopg.Connection.execute

        def recorded(conn, query, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(str(query))
            return execute(conn, query, *args, **kwargs)

        monkeypatch.setattr(psycopg.Connection, "execute", recorded)

    def whole(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("a snapshot's bytes were read")

    monkeypatch.setattr(type(store), "get_snapshot", whole)
    return seen


@pytest.mark.parametrize("store", ["sqlite", "postgresql"], indirect=True)
def test_prunable_and_snapshot_infos_read_no_snapshot_bytes(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    # prunable read every snapshot whole (get_snapshot per name) for its watermark
    _fill(store)
    saved = {n: store.get_snapshot(n).created for n in ("learner", "old")}  # type: ignore[union-attr]
    seen = _statements(store, monkeypatch)
    assert store.prunable() == 4
    infos = store.snapshot_infos()
    assert infos == [SnapshotInfo("learner", 9, saved["learner"], 300_000), SnapshotInfo("old", 4, saved["old"], 7)]
    assert all(i.created.tzinfo == timezone.utc for i in infos)
    selects = [q for q in seen if q.lstrip().upper().startswith("SELECT")]
    assert selects and not [q for q in selects if _BLOB.search(q)]


def test_the_memory_store_lists_the_same_infos() -> None:
    with open_store("memory://") as store:
        _fill(store)
        assert [(i.name, i.watermark, i.size) for i in store.snapshot_infos()] == [("learner", 9, 300_000), ("old", 4, 7)]
        assert store.prunable() == 4


def test_toolrouter_snapshots_lists_sizes_without_reading_the_snapshots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with open_store(url) as st:
        _fill(st)
    monkeypatch.setattr(SQLiteStore, "get_snapshot", lambda *a, **k: pytest.fail("a snapshot's bytes were read"))
    listed = CliRunner().invoke(app, ["snapshots", "--store", url], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert re.search(r"learner\s*│\s*9\s*│.*│\s*300000", listed.output) and re.search(r"old\s*│\s*4\s*│.*│\s*7 ", listed.output)
    assert "held back by snapshot 'old'" in listed.output
    pruned = CliRunner().invoke(app, ["prune", "--store", url])
    assert pruned.exit_code == 0 and "deleted 4 attempts up to id 4; 5 kept" in pruned.output, pruned.output
