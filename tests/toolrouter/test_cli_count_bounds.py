"""``toolrouter demo --calls`` and ``toolrouter meta-train --steps`` are bounded: a typo (an extra
0 or three) was accepted and ran for hours. Refused before anything runs, naming the option and
the limit; zero and negative counts too."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import MAX_DEMO_CALLS, MAX_META_STEPS, app

runner = CliRunner()


@pytest.mark.parametrize("calls", [str(MAX_DEMO_CALLS + 1), "10" * 20, "0", "-3"])
def test_demo_refuses_calls_out_of_bounds(calls: str, tmp_path: Path) -> None:
    db = tmp_path / "demo.db"
    result = runner.invoke(app, ["demo", "--calls", calls, "--store", f"sqlite:///{db}"], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    limit = str(MAX_DEMO_CALLS) if int(calls) > 0 else "1"
    assert "'--calls'" in result.output and limit in result.output
    assert not db.exists()  # nothing ran


@pytest.mark.parametrize("steps", [str(MAX_META_STEPS + 1), "10" * 20, "0", "-3"])
def test_meta_train_refuses_steps_out_of_bounds(steps: str, tmp_path: Path) -> None:
    db = tmp_path / "router.db"
    result = runner.invoke(app, ["meta-train", "--store", f"sqlite:///{db}", "--steps", steps], env={"COLUMNS": "200"})
    assert result.exit_code == 2, result.output
    limit = str(MAX_META_STEPS) if int(steps) > 0 else "1"
    assert "'--steps'" in result.output and limit in result.output
    assert not db.exists()
