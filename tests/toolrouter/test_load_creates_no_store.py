"""Loading a router from a store URL where there is no store yet creates none: without tools only a
snapshot makes the router, so the load failed ("no snapshot 'learner'") after leaving a new, empty
store behind at the URL (a typo of the file's name made one). With tools it rebuilds a router from
the store's log, and makes the store where there is none, as before."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.errors import StoreOpenError


def test_a_load_without_tools_from_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'rotuer.db'}"
    with pytest.raises(StoreOpenError, match=r"no SQLite store at .*rotuer\.db.*nothing was created"):
        ToolMetaLearner.load(url)
    assert list(tmp_path.iterdir()) == []


def test_a_load_with_tools_still_makes_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    with ToolMetaLearner.load(url, tools=[ToolProfile(tool_id="web", capabilities=["search"])]) as router:
        assert router.tools.keys() == {"web"} and router.store.count() == 0
    assert (tmp_path / "router.db").exists()
