"""Usage errors name the option the user typed: the tour's bad --scale, --steps, --seed or --plots
read "Invalid value: scale: ...", and meta-train on a router saved with another policy "Invalid
value: policy: ...", naming no option."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.cli import app
from cli_output import said

runner = CliRunner()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--scale", "0"], "Invalid value for --scale: scale: expected a finite number in (0, 100.0]"),
        (["--steps", "maml,bogus"], "Invalid value for --steps: steps: unknown steps ['bogus']"),
        (["--seed", str(2**40)], "Invalid value for --seed: seed: expected an integer in [0, 4294967295]"),
    ],
)
def test_a_bad_tour_option_is_named(argv: list[str], expected: str) -> None:
    result = runner.invoke(app, ["demo", "--tour", *argv])
    assert result.exit_code == 2 and expected in said(result.output), result.output


def test_a_plots_folder_that_is_a_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "figures").write_text("")
    result = runner.invoke(app, ["demo", "--tour", "--plots", str(tmp_path / "figures")])
    assert result.exit_code == 2 and "Invalid value for --plots: plots: cannot write figures into" in said(result.output)


def test_meta_train_on_a_router_of_another_policy_names_the_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    with ToolMetaLearner([ToolProfile(tool_id="t", capabilities=["c"])], seed=0, store=url) as router:
        router.record_attempt(ExecutionResult(tool_id="t", step="c", success=True), capability="c")
        router.save()
    result = runner.invoke(app, ["meta-train", "--store", url, "--steps", "1"])
    assert result.exit_code == 2
    assert "Invalid value for --store: policy: meta_train needs policy='neural_linear'" in said(result.output), result.output
