"""The tour (run_meta_learning_demo and ``toolrouter demo --tour``) at a tiny size: every step runs,
measures, returns its figure, and draws its plot."""

from __future__ import annotations

import logging
import math
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from integrations.experts import run_meta_learning_demo
from integrations.experts.tour import TOUR_STEPS

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _numbers(value: Any) -> list[float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, list):
        return [x for v in value for x in _numbers(v)]
    return []


def test_every_step_runs_measures_and_plots(tmp_path: Path) -> None:
    results = run_meta_learning_demo(scale=0.02, seed=0, progress=False, plots=tmp_path)
    assert list(results) == ["seconds", *TOUR_STEPS]
    for step in TOUR_STEPS:
        out = results[step]
        assert isinstance(out["figure"], str) and out["figure"]
        numbers = _numbers({k: v for k, v in out.items() if k not in ("curve", "curves")})
        assert numbers and all(math.isfinite(x) for x in numbers), step
        assert (tmp_path / f"{step}.png").stat().st_size > 1000
    assert set(results["seconds"]) == {*TOUR_STEPS, "total"}
    assert 0 <= results["expert_system"]["expensive_first_share_last_window"] <= 1
    assert results["adapters"]["trainable_share"] < 0.5
    assert results["adapters"]["first_task_adapters_off"] == results["adapters"]["first_task"]  # the base is untouched
    # a step's figures come from the seed alone: not from the steps run before it, nor from the
    # caller's random draws (the architecture search initialised its networks from them)
    torch.manual_seed(1)
    alone = run_meta_learning_demo(scale=0.02, seed=0, progress=False, steps=["architecture_search"])
    assert alone["architecture_search"] == results["architecture_search"]


def test_a_step_subset_and_bad_arguments() -> None:
    assert list(run_meta_learning_demo(scale=0.02, progress=False, steps=["tool_optimization"])) == ["seconds", "tool_optimization"]
    with pytest.raises(ValueError, match=r"steps: unknown steps \['vision'\]"):
        run_meta_learning_demo(steps=["vision"])
    with pytest.raises(ValueError, match=r"scale: expected a finite number in \(0, 100.0\], got 0"):
        run_meta_learning_demo(scale=0)
    for seed in ("0", -1, 1.5, True, 2**32):
        with pytest.raises(ValueError, match="seed: expected an integer in"):
            run_meta_learning_demo(scale=0.02, progress=False, seed=seed)  # type: ignore[arg-type]


@pytest.mark.parametrize(("steps", "message"), [
    ([], "got none"),
    (["maml", "adapters", "maml"], r"got \['maml'\] more than once"),
    ("maml", r"got the string 'maml'; write \['maml'\]"),
])
def test_no_repeated_or_string_steps(steps: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_meta_learning_demo(steps=steps, progress=False)  # type: ignore[arg-type]


def test_a_plots_folder_that_cannot_be_written_is_refused_before_any_step(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    taken = tmp_path / "figures"
    taken.write_text("a file, not a folder")
    for plots in (taken, taken / "sub"):
        with pytest.raises(ValueError, match=f"plots: cannot write figures into '{plots}'"):
            run_meta_learning_demo(steps=["maml"], plots=plots, progress=False)


def test_without_matplotlib_the_plots_are_skipped_and_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # as if not installed
    caplog.set_level(logging.WARNING, logger="integrations.experts.tour")
    run_meta_learning_demo(scale=0.02, progress=False, steps=["tool_optimization"], plots=tmp_path / "plots")
    assert not (tmp_path / "plots").exists()
    assert "tour_plots_skipped" in caplog.text and "matplotlib is not installed" in caplog.text


def test_the_cli_tour(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from toolrouter.cli import app

    done = CliRunner().invoke(app, ["demo", "--tour", "--scale", "0.02", "--steps", "tool_optimization,adapters", "--plots", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert "tool_optimization" in done.output and "LoRA trains" in done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adapters.png", "tool_optimization.png"]
    bad = CliRunner().invoke(app, ["demo", "--tour", "--steps", "vision"])
    assert bad.exit_code != 0 and "unknown steps ['vision']" in bad.output
    empty = CliRunner().invoke(app, ["demo", "--tour", "--steps", " , "])
    assert empty.exit_code == 2 and "name each step to run once, got none" in empty.output
    # an option of the other run is refused rather than ignored
    without_tour = CliRunner().invoke(app, ["demo", "--steps", "maml", "--scale", "0.02"])
    assert without_tour.exit_code == 2 and "--scale, --steps: only for the tour (--tour)" in without_tour.output
    with_tour = CliRunner().invoke(app, ["demo", "--tour", "--calls", "50", "--store", "memory://"])
    assert with_tour.exit_code == 2 and "--calls, --store: not for the tour (--tour)" in with_tour.output
