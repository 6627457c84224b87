"""``toolrouter meta-train`` closes the router it loads, whether meta-training ends well or not."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_stats_closes_router import loads_recorded
from typer.testing import CliRunner

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.cli import app


@pytest.fixture()
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[ToolMetaLearner]]:
    """A store with a neural_linear router saved, and the routers the command loads from it."""
    url = f"sqlite:///{tmp_path / 'r.db'}"
    tools = [ToolProfile(tool_id=t, capabilities=["search"]) for t in ("a", "b")]
    with ToolMetaLearner(tools, policy="neural_linear", context_dim=8, seed=0, store=url) as router:
        for i in range(4):
            router.record_attempt(ExecutionResult(tool_id="ab"[i % 2], step="search", success=True), capability="search")
        router.save()
    return url, loads_recorded(monkeypatch)


@pytest.mark.parametrize("options, exit_code", [(["--steps", "2"], 0), (["--algorithm", "bogus"], 2)])
def test_the_router_is_closed(loaded: tuple[str, list[ToolMetaLearner]], options: list[str], exit_code: int) -> None:
    url, routers = loaded
    result = CliRunner().invoke(app, ["meta-train", "--store", url, *options], env={"COLUMNS": "200"})
    assert result.exit_code == exit_code, result.output
    assert len(routers) == 1 and routers[0].closed
