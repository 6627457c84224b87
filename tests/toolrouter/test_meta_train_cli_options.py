"""``toolrouter meta-train``: a bad option is reported under the option's own name."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.cli import app


@pytest.fixture(scope="module")
def url(tmp_path_factory) -> str:
    path: Path = tmp_path_factory.mktemp("meta_train") / "r.db"
    tools = [ToolProfile(tool_id=t, capabilities=["search"]) for t in ("a", "b")]
    with ToolMetaLearner(tools, policy="neural_linear", context_dim=8, seed=0, store=f"sqlite:///{path}") as router:
        for i in range(4):
            router.record_attempt(ExecutionResult(tool_id="ab"[i % 2], step="search", success=True), capability="search")
        router.save()
    return f"sqlite:///{path}"


@pytest.mark.parametrize(
    "option, value, said",
    [("--algorithm", "bogus", "algorithm: expected 'maml'"), ("--tasks", "bogus", "tasks: expected"),
     ("--time-budget", "-1", "time_budget_s: expected a finite number > 0"),
     ("--featurizer", "bogus", "featurizer: unknown name 'bogus'"),
     ("--snapshot", "nope", "has no router snapshot 'nope'")],
)
def test_a_bad_meta_train_option_is_reported_under_its_own_name(url: str, option: str, value: str, said: str) -> None:
    # a missing snapshot was blamed on --store, the others on no option at all ("Invalid value:")
    result = CliRunner().invoke(app, ["meta-train", "--store", url, option, value], env={"COLUMNS": "250"})
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {option}: " in result.output and said in result.output
