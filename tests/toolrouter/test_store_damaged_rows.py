"""A row edited by hand or damaged in an SQLite store is named when read: the store, the table, the
row's id and the column, as the project's corrupt-state error, not a bare ValueError."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from toolrouter import ToolMetaLearner
from toolrouter.errors import CorruptStateError
from toolrouter.store import AttemptRecord, SQLiteStore, ToolRemoval, TraceClose


def attempt(i: int) -> AttemptRecord:
    return AttemptRecord(
        task_id=f"t{i}", task_type="t", step="s", capability=None, tool_id="a", success=True, quality=1.0,
        cost=0.0, latency_s=0.0, utility=1.0, context=np.ones(2), trace_id="tr", depends_on=("x",),
    )


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "r.db"
    with SQLiteStore(path) as store:
        store.append([attempt(1), attempt(2), TraceClose(trace_id="tr", finished=True), ToolRemoval(tool_id="a", capabilities=("c",))])
    return path


def edit(path, statement: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(statement)
    conn.close()


@pytest.mark.parametrize(
    ("statement", "table", "problem"),
    [
        ("UPDATE attempts SET context = x'0102030405' WHERE id = 2", "attempts row 2", r"context: expected float64 bytes \(a multiple of 8\), got 5 bytes"),
        ("UPDATE attempts SET depends_on = '[x' WHERE id = 2", "attempts row 2", "depends_on: expected a JSON list of names, got '\\[x'"),
        ("UPDATE attempts SET quality = 'high' WHERE id = 2", "attempts row 2", "quality: expected a finite number, got 'high'"),
        ("UPDATE attempts SET timestamp = 'yesterday' WHERE id = 2", "attempts row 2", "timestamp: expected an ISO date and time, got 'yesterday'"),
        ("UPDATE tool_removals SET capabilities = '{}' WHERE id = 4", "tool_removals row 4", "capabilities: expected a JSON list of names"),
        ("UPDATE trace_closes SET timestamp = '' WHERE id = 3", "trace_closes row 3", "timestamp: expected an ISO date and time"),
        # text in an INTEGER column: bool("false") read the failed attempt as a success
        ("UPDATE attempts SET success = 'false' WHERE id = 2", "attempts row 2", "success: expected 0 or 1, got 'false'"),
        ("UPDATE attempts SET recheck = 'no' WHERE id = 2", "attempts row 2", "recheck: expected 0 or 1, got 'no'"),
        ("UPDATE trace_closes SET finished = 'no' WHERE id = 3", "trace_closes row 3", "finished: expected 0 or 1, got 'no'"),
    ],
)
def test_a_damaged_row_is_named_by_every_read_of_the_log(path, statement, table, problem) -> None:
    edit(path, statement)
    with SQLiteStore(path) as store:
        where = rf"^store {store.url!r}: {table}: {problem}.*damaged or hand-edited store"
        reads = [store.log, lambda: list(store.iter_log())]
        if table.startswith("attempts"):
            reads.append(store.attempts)
        for read in reads:
            with pytest.raises(CorruptStateError, match=where):
                read()
        assert [e.id for e in store.log(limit=1)] == [1]  # the rows before it still read


def test_a_router_catching_up_names_the_damaged_row(path) -> None:
    # every sync() failed with numpy's bare "buffer size must be a multiple of element size"
    edit(path, "UPDATE attempts SET context = x'01' WHERE id = 1")
    router = ToolMetaLearner([], store=f"sqlite:///{path}")
    try:
        with pytest.raises(CorruptStateError, match=r"attempts row 1: context: .*got 1 bytes"):
            router.sync()
    finally:
        router.close()


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("UPDATE snapshots SET created = 'later'", "created: expected an ISO date and time, got 'later'"),
        ("UPDATE snapshots SET watermark = 'two'", "watermark: expected an attempt id, got 'two'"),
        # snapshot_infos listed it as sound, its size the text's length in characters
        ("UPDATE snapshots SET data = 'état'", "data: expected bytes, got str 'état'"),
    ],
)
def test_a_damaged_snapshot_row_is_named_and_toolrouter_snapshots_says_so_in_one_line(path, statement, problem) -> None:
    # get_snapshot and snapshot_infos failed in datetime's or int()'s bare words: a traceback
    from typer.testing import CliRunner

    from toolrouter.cli import app

    with SQLiteStore(path) as store:
        store.put_snapshot("learner", b"state", 2)
    edit(path, statement)
    with SQLiteStore(path) as store:
        for read in (lambda: store.get_snapshot("learner"), store.snapshot_infos):
            with pytest.raises(CorruptStateError, match=rf"^store {store.url!r}: snapshots row 'learner': {problem}"):
                read()
    result = CliRunner().invoke(app, ["snapshots", "--store", f"sqlite:///{path}"], env={"COLUMNS": "300"})
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert f"snapshots row 'learner': {problem}" in result.output


def test_stats_of_a_store_with_a_damaged_prune_mark_says_it_is_damaged(path) -> None:
    # the mark's ValueError was taken for a router this command cannot rebuild (a custom policy):
    # the table printed, exit status 0
    from typer.testing import CliRunner

    from toolrouter.cli import app

    with SQLiteStore(path) as store:
        store.put_snapshot("learner", ToolMetaLearner([], store=store).state_bytes(), 0)
    edit(path, "INSERT INTO meta (key, value) VALUES ('pruned_upto', 'lots')")
    result = CliRunner().invoke(app, ["stats", "--store", f"sqlite:///{path}"], env={"COLUMNS": "300"})
    assert result.exit_code == 1, result.output
    assert f"store 'sqlite:///{path}': meta.pruned_upto: expected a whole number from 0, got 'lots'" in result.output
