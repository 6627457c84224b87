"""A router given a store URL and a bad argument refuses it and leaves no store behind: the
constructor created the store (an empty SQLite file) before it checked its other arguments. A store
that exists is opened first and keeps what it holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter import ToolMetaLearner, ToolProfile

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"])]


@pytest.mark.parametrize("bad", [{"policy": "nope"}, {"seed": -1}, {"sync_every": 0}])
def test_bad_arguments_create_no_store(tmp_path: Path, bad: dict) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        ToolMetaLearner(TOOLS, store=f"sqlite:///{tmp_path / 'r.db'}", **bad)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_store_still_fills_in_what_is_left_out(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with ToolMetaLearner(TOOLS, store=url, policy="ucb1", seed=3) as router:
        router.save()
    with ToolMetaLearner(TOOLS, store=url) as router:  # the snapshot's policy and seed
        assert (router.policy_name, router.seed) == ("ucb1", 3)
    with pytest.raises(ValueError, match="policy"):
        ToolMetaLearner(TOOLS, store=url, policy="nope")
    with ToolMetaLearner(TOOLS, store=url) as router:
        assert router.policy_name == "ucb1"


def test_a_load_with_tools_and_a_bad_argument_creates_no_store(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sync_every"):
        ToolMetaLearner.load(f"sqlite:///{tmp_path / 'r.db'}", tools=TOOLS, sync_every=0)
    assert list(tmp_path.iterdir()) == []
    with ToolMetaLearner.load(f"sqlite:///{tmp_path / 'r.db'}", tools=TOOLS) as router:  # made when all is well
        assert router.store is not None and router.store.count() == 0
