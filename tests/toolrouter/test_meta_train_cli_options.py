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


def test_a_reward_model_snapshot_given_as_the_router_is_reported_under_snapshot(url: str, tmp_path: Path) -> None:
    # the router refused the name with "Invalid value:", naming no option
    import shutil

    from toolrouter.store import open_store

    url = f"sqlite:///{shutil.copy(url.removeprefix('sqlite:///'), tmp_path / 'r.db')}"  # the module's store stays as it is
    with open_store(url) as store:
        store.put_snapshot("learner.reward_model", b"model", 4)
    result = CliRunner().invoke(app, ["meta-train", "--store", url, "--snapshot", "learner.reward_model"], env={"COLUMNS": "250"})
    assert result.exit_code == 2, result.output
    assert "Invalid value for --snapshot: snapshot_name: 'learner.reward_model' names the reward model snapshot" in result.output
