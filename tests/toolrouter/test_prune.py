"""Pruning a store: the attempts every snapshot holds go, a router opened afterwards learns
exactly what it would have learned from the whole log, and ``toolrouter prune`` refuses to delete
what a snapshot does not hold."""

from __future__ import annotations

import shutil
from pathlib import Path

from two_search_tools import TOOLS, figures, learn
from typer.testing import CliRunner

from toolrouter import ToolMetaLearner
from toolrouter.cli import app
from toolrouter.store import open_store
from cli_output import said

runner = CliRunner()
def test_a_router_opened_after_pruning_has_learned_the_same(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router = ToolMetaLearner(TOOLS, seed=0, store=url)
    learn(router, 30)
    router.save()  # snapshot: holds the first 30 attempts
    learn(router, 12)
    router.store.close()
    shutil.copy(tmp_path / "r.db", tmp_path / "whole.db")

    empty = runner.invoke(app, ["prune", "--store", f"sqlite:///{tmp_path / 'none.db'}"])
    assert empty.exit_code != 0 and "no SQLite store" in said(empty.output)
    above = runner.invoke(app, ["prune", "--store", url, "--upto", "31"])
    assert above.exit_code != 0 and "31 is above 30" in above.output
    done = runner.invoke(app, ["prune", "--store", url])
    assert done.exit_code == 0, done.output
    assert "deleted 30 attempts up to id 30; 12 kept" in done.output

    with open_store(url) as store:
        assert store.count() == 12 and store.attempts()[0].id == 31
    pruned = ToolMetaLearner.load(url)
    whole = ToolMetaLearner.load(f"sqlite:///{tmp_path / 'whole.db'}")
    assert figures(pruned) == figures(whole)
    assert sum(calls for calls, _, _ in figures(pruned).values()) == 42


def test_prune_refuses_a_store_without_a_snapshot(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    router = ToolMetaLearner(TOOLS, seed=0, store=url)
    learn(router, 5)
    router.store.close()
    refused = runner.invoke(app, ["prune", "--store", url])
    assert refused.exit_code != 0 and "has no snapshot" in refused.output
    with open_store(url) as store:
        assert store.count() == 5


def test_a_router_saves_a_snapshot_every_n_attempts_and_an_outage_defers_it(tmp_path: Path) -> None:
    import pytest

    from toolrouter.store import MemoryStore, StoreUnavailableError

    url = f"sqlite:///{tmp_path / 'r.db'}"
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match=f"snapshot_every: expected an integer >= 1, got {bad!r}"):
            ToolMetaLearner(TOOLS, seed=0, store=url, snapshot_every=bad)
    router = ToolMetaLearner(TOOLS, seed=0, store=url, snapshot_every=10)
    learn(router, 9)
    assert router.store.get_snapshot("learner") is None
    learn(router, 16)
    assert router.store.get_snapshot("learner").watermark == 20  # saved at 10 and at 20
    router.save()  # a manual save restarts the count
    learn(router, 9)
    assert router.store.get_snapshot("learner").watermark == 25
    router.close()

    class Flaky(MemoryStore):
        down = True

        def put_snapshot(self, name: str, data: bytes, watermark: int) -> bool:
            if self.down:
                self.down = False
                raise StoreUnavailableError("store 'memory://': the server restarts")
            return super().put_snapshot(name, data, watermark)

    store = Flaky()
    router = ToolMetaLearner(TOOLS, seed=0, store=store, snapshot_every=3)
    learn(router, 3)  # the save fails: the attempts are recorded all the same
    assert store.count() == 3 and store.get_snapshot("learner") is None
    learn(router, 1)  # and the next attempt saves
    assert store.get_snapshot("learner").watermark == 4


def test_a_snapshot_due_while_the_store_holds_attempts_back_does_not_wait_for_it(tmp_path: Path, monkeypatch) -> None:
    # every call once the count was reached saved, and the save waited the store's timeout for the
    # lock (a server store's for its outage), for as long as that lasted
    import sqlite3

    from toolrouter.store import SQLiteStore

    path = tmp_path / "r.db"
    store = SQLiteStore(path, timeout_s=0.2)
    router = ToolMetaLearner(TOOLS, seed=0, store=store, snapshot_every=3)
    learn(router, 1)
    flushes = []
    flush = SQLiteStore.flush
    monkeypatch.setattr(SQLiteStore, "flush", lambda self: (flushes.append(store.pending), flush(self))[1])
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # a job holds the file
    learn(router, 6)  # the count is reached twice meanwhile
    assert flushes == [] and store.pending == 6 and store.get_snapshot("learner") is None
    other.execute("ROLLBACK")
    learn(router, 1)  # the first attempt written saves, with every attempt before it
    assert flushes == [0] and store.pending == 0 and store.get_snapshot("learner").watermark == 8
    router.close()
