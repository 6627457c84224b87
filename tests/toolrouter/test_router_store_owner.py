"""Who closes a router's store: the router closes one it opened from a URL; a ``Store`` passed in
is its owner's, as a router passed to a middleware is: the router's ``close`` leaves it open for
its owner, and takes nothing more to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter import ToolMetaLearner, ToolMiddleware, ToolProfile
from toolrouter.models import ExecutionResult
from toolrouter.store import SQLiteStore

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"])]


def record(router: ToolMetaLearner) -> None:
    router.record_attempt(ExecutionResult(tool_id="web", step="search", success=True), capability="search")


def test_a_store_passed_in_stays_open_after_the_router_closes(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "r.db") as store:
        router = ToolMetaLearner(TOOLS, seed=0, store=store)
        record(router)
        router.close()
        assert router.closed and store.count() == 1  # the caller's store still reads
        for use in (lambda: record(router), router.save, router.sync):
            with pytest.raises(ValueError, match=r"r\.db'?: closed by ToolMetaLearner.close\(\)"):
                use()
        assert store.count() == 1 and store.snapshot_names() == []  # nothing of the closed router's
        again = ToolMetaLearner(TOOLS, seed=0, store=store)  # its owner opens another router on it
        record(again)
        again.close()
        assert store.count() == 2


def test_a_store_the_router_opened_is_closed_with_it(tmp_path: Path) -> None:
    router = ToolMetaLearner(TOOLS, seed=0, store=f"sqlite:///{tmp_path / 'r.db'}")
    router.save()
    router.close()
    with pytest.raises(ValueError, match=r"r\.db'?: closed$"):
        router.store.count()
    loaded = ToolMetaLearner.load(f"sqlite:///{tmp_path / 'r.db'}")  # opened by load: the router's too
    loaded.close()
    with pytest.raises(ValueError, match=r"r\.db'?: closed$"):
        loaded.store.count()


def test_loading_onto_a_store_passed_in_leaves_it_to_its_owner(tmp_path: Path) -> None:
    with SQLiteStore(tmp_path / "r.db") as store:
        ToolMetaLearner(TOOLS, seed=0, store=store).save()
        ToolMetaLearner.load(store).close()
        ToolMetaLearner(TOOLS, seed=0).save(tmp_path / "r.safetensors")
        ToolMetaLearner.load(tmp_path / "r.safetensors", store=store).close()
        with ToolMiddleware(store=store, seed=0) as tools:
            tools.register(lambda q: q, "search", tool_id="web")
            assert tools.call("search", "q") == "q"
        assert store.count() == 1 and store.snapshot_names() == ["learner"]
