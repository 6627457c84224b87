"""A suite's ``--json`` file is strict JSON, written whole: ``json.dump`` wrote a NaN (the
forgetting of some runs of ``bench continual --quick``) as ``NaN``, which JSON parsers other than
Python's refuse, and a write cut short left half a file in place of the last."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.bench import continual
from toolrouter.bench._args import write_json
from toolrouter.cli import app


def strict_load(path: Path) -> object:
    def refuse(constant: str) -> object:
        raise AssertionError(f"{constant} is not JSON")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse)


def test_bench_continual_writes_an_undefined_measure_null(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def run_drift(seed: int, batches: int) -> dict[str, dict[str, float]]:
        # an adapter whose errors could not be measured; the training itself is not what is tested
        return {"ewc": {"new": 0.5, "old_before_shift": float("nan"), "old_after_shift": float("inf")}}

    monkeypatch.setattr(continual, "run_drift", run_drift)
    path = tmp_path / "continual.json"
    result = CliRunner().invoke(app, ["bench", "continual", "--streams", "drift", "--seeds", "1", "--json", str(path)])
    assert result.exit_code == 0, result.output
    assert strict_load(path) == {"drift": [{"ewc": {"new": 0.5, "old_before_shift": None, "old_after_shift": None}}]}


def test_nan_and_infinities_are_written_null(tmp_path: Path) -> None:
    path = tmp_path / "figures.json"
    write_json(path, {"split-task": [{"seed": 0, "forgetting": float("nan"), "lead": (float("inf"), -float("inf"), 0.5)}]})
    assert strict_load(path) == {"split-task": [{"seed": 0, "forgetting": None, "lead": [None, None, 0.5]}]}


def test_a_write_that_fails_leaves_the_last_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "figures.json"
    path.write_text('{"runs": 3}', encoding="utf-8")
    with pytest.raises(TypeError):
        write_json(path, {"runs": [1, object()]})
    assert strict_load(path) == {"runs": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figures.json"]
