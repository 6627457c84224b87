"""A blank snapshot name, which the router refuses, is refused by every store and by the commands
that read one, naming the field."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.store import AttemptRecord, MemoryStore, SQLiteStore


def record() -> AttemptRecord:
    return AttemptRecord(
        task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
        quality=1.0, cost=0.0, latency_s=0.0, utility=1.0,
    )


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@pytest.mark.parametrize("name", ["", "  "])
def test_a_blank_snapshot_name_is_refused_by_the_stores_leaving_them_unchanged(tmp_path, kind, name) -> None:
    # put_snapshot kept a snapshot no router could name, get_snapshot answered None
    store = MemoryStore() if kind == "memory" else SQLiteStore(tmp_path / "r.db")
    with store:
        store.append([record()])
        for call in (lambda: store.put_snapshot(name, b"x", 1), lambda: store.get_snapshot(name), lambda: store.delete_snapshot(name)):
            with pytest.raises(ValueError, match=r"^name: expected a non-empty snapshot name, got "):
                call()
        assert store.snapshot_names() == []


def test_stats_of_an_empty_snapshot_name_is_a_usage_error_naming_the_option(tmp_path) -> None:
    with SQLiteStore(tmp_path / "r.db") as made:
        made.append([record()])
    result = CliRunner().invoke(app, ["stats", "--store", f"sqlite:///{tmp_path / 'r.db'}", "--snapshot", ""])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.exception
    assert "Invalid value for --snapshot: name: expected a non-empty snapshot name" in " ".join(result.output.split())
