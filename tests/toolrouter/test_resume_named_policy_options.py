"""Resuming or loading a router, the saved policy named again keeps the saved policy options:
``policy_options`` left out are the snapshot's, whether or not ``policy`` is given."""

from pathlib import Path

import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"])]
OPTIONS = {"discount": 0.9}


def _learned(**kw) -> ToolMetaLearner:
    router = ToolMetaLearner(TOOLS, policy="gaussian_ts", policy_options=OPTIONS, seed=0, **kw)
    router.record_attempt(ExecutionResult(tool_id="web", step="search", success=True), capability="search")
    return router


def test_resuming_on_a_store_with_the_policy_named_keeps_its_options(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    router = _learned(store=url)
    router.save()
    router.close()
    with ToolMetaLearner(TOOLS, store=url, policy="gaussian_ts") as resumed:
        assert resumed.policy_for("default", "search").options["discount"] == 0.9
        assert resumed.tool_statistics()["web"].calls == 1
    with pytest.raises(ValueError, match="policy: the saved state used 'gaussian_ts', this router 'ucb1'"):
        ToolMetaLearner(TOOLS, store=url, policy="ucb1")  # another policy: refused, as before


def test_loading_a_file_with_the_policy_named_keeps_its_options(tmp_path: Path) -> None:
    path = tmp_path / "router.safetensors"
    _learned().save(path)
    loaded = ToolMetaLearner.load(path, policy="gaussian_ts")
    assert loaded.policy_for("default", "search").options["discount"] == 0.9
    assert loaded.state_bytes() == ToolMetaLearner.load(path).state_bytes()
