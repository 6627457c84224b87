"""A router given a store URL opens it once when it fails for a reason other than there being no
store yet: it probed for an existing store with ``create=False``, took any ``StoreOpenError`` for
"none yet" and opened the URL again to create it (a refused login tried twice, a registered factory
called twice). Only ``NoStoreError`` means "none yet"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.store import NoStoreError, StoreOpenError, open_store, register_store
from toolrouter.store import _FACTORIES

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"])]


@pytest.fixture
def refusing() -> Iterator[list[str]]:
    calls: list[str] = []

    def factory(url: str) -> object:
        calls.append(url)
        raise StoreOpenError(f"store {url!r}: login refused")

    register_store("refusing", factory)
    yield calls
    del _FACTORIES["refusing"]


@pytest.mark.parametrize("tools", [TOOLS, None])
def test_a_refused_open_is_tried_once(refusing: list[str], tools: list | None) -> None:
    with pytest.raises(StoreOpenError, match="login refused"):
        ToolMetaLearner(tools, store="refusing://db")
    assert refusing == ["refusing://db"]


def test_no_store_yet_is_its_own_error_and_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    for read_only in (False, True):
        with pytest.raises(NoStoreError, match="no SQLite store"):
            open_store(url, create=False, read_only=read_only)
    for memory in ("memory://", "sqlite:///:memory:"):  # a new, empty store at every open
        with pytest.raises(NoStoreError, match="empty"):
            open_store(memory, create=False)
        with ToolMetaLearner(TOOLS, store=memory) as router:
            assert router.store is not None and router.store.count() == 0
    assert list(tmp_path.iterdir()) == []
    with ToolMetaLearner(TOOLS, store=url) as router:  # none yet: the router creates it
        assert router.store is not None and router.store.count() == 0
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreOpenError, match="directory") as refused:  # not "none yet"
        ToolMetaLearner(TOOLS, store=f"sqlite:///{tmp_path / 'dir.db'}")
    assert not isinstance(refused.value, NoStoreError)


def test_a_database_without_a_store_is_no_store_yet(pg_url: str) -> None:
    with pytest.raises(NoStoreError, match="holds no toolrouter store"):
        open_store(pg_url, create=False)
    with ToolMetaLearner(TOOLS, store=pg_url) as router:  # none yet: the router creates it
        assert router.store is not None and router.store.count() == 0
