"""Deleting a snapshot: the snapshot of a router no longer used stops holding ``prune`` back, in
every store and from the command line (``toolrouter snapshots --drop``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from two_search_tools import TOOLS
from typer.testing import CliRunner

from toolrouter import ExecutionResult, ToolMetaLearner, UnknownSnapshotError
from toolrouter.cli import app
from toolrouter.store import AttemptRecord, open_store

def test_a_deleted_snapshot_no_longer_holds_prune_back(store) -> None:
    store.append([AttemptRecord("t", "x", "search", "search", "good", True, 1.0, 0.0, 0.0, 1.0) for _ in range(40)])
    store.put_snapshot("abandoned", b"old", 3)
    store.put_snapshot("learner", b"new", 40)
    assert store.prunable() == 3
    with pytest.raises(UnknownSnapshotError, match=r"name: store '.*' has no snapshot 'nope'; it has \['abandoned', 'learner'\]"):
        store.delete_snapshot("nope")
    with pytest.raises(KeyError):  # what a caller of a mapping expects
        store.delete_snapshot("nope")
    with pytest.raises(TypeError, match="name: expected a str, got 7"):
        store.delete_snapshot(7)
    assert store.snapshot_names() == ["abandoned", "learner"]  # a refused delete changes nothing

    store.delete_snapshot("abandoned")
    assert store.snapshot_names() == ["learner"] and store.get_snapshot("abandoned") is None
    assert store.prunable() == 40
    with pytest.raises(UnknownSnapshotError, match=r"has no snapshot 'abandoned'; it has \['learner'\]"):
        store.delete_snapshot("abandoned")
    assert store.put_snapshot("abandoned", b"again", 1)  # the name may be used again, from any watermark


def test_toolrouter_snapshots_lists_and_drops_the_snapshot_of_a_router_no_longer_used(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    runner = CliRunner()
    with ToolMetaLearner(TOOLS, seed=0, store=url, snapshot_name="old[router]") as old:
        old.record_attempt(ExecutionResult(tool_id="good", step="search", success=True), capability="search")
        old.save()  # holds attempt 1 only
    with ToolMetaLearner(TOOLS, seed=0, store=url) as router:
        for _ in range(10):
            router.record_attempt(ExecutionResult(tool_id="bad", step="search", success=False), capability="search")
        router.save()

    listed = runner.invoke(app, ["snapshots", "--store", url], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "old[router]" in listed.output and "held back by snapshot 'old[router]'" in listed.output
    unknown = runner.invoke(app, ["snapshots", "--store", url, "--drop", "old[router]", "--drop", "nope"], env={"COLUMNS": "250"})
    assert unknown.exit_code == 2 and "Invalid value for --drop" in unknown.output and "no snapshot 'nope'" in unknown.output
    with open_store(url) as st:
        assert st.snapshot_names() == ["learner", "old[router]"]  # nothing deleted

    dropped = runner.invoke(app, ["snapshots", "--store", url, "--drop", "old[router]"], env={"COLUMNS": "250"})
    assert dropped.exit_code == 0, dropped.output
    assert "deleted snapshot 'old[router]'" in dropped.output and "held back by snapshot 'learner'" in dropped.output
    pruned = runner.invoke(app, ["prune", "--store", url])
    assert pruned.exit_code == 0 and "deleted 11 attempts up to id 11; 0 kept" in pruned.output
