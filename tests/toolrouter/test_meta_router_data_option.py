"""``toolrouter bench meta-router --data``: a folder without a chosen section's dataset is refused
before the first section runs (the sections before it ran, for minutes at full size, and the run
then failed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.bench import _meta_router_coldstart, _meta_router_drift
from toolrouter.cli import app


@pytest.mark.parametrize(("section", "dataset"), [("metatool", "MetaTool"), ("routerbench", "RouterBench")])
def test_a_data_folder_without_a_sections_dataset_is_refused_before_any_section_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, section: str, dataset: str
) -> None:
    ran: list[str] = []
    monkeypatch.setattr(_meta_router_coldstart, "run", lambda args: ran.append("coldstart"))
    result = CliRunner().invoke(
        app, ["bench", "meta-router", "--quick", "--sections", f"coldstart,{section}", "--data", str(tmp_path)]
    )
    assert result.exit_code == 2, result.output
    assert ran == []
    expected = (
        f"toolrouter bench meta-router: --data: no {dataset} folder at {str(tmp_path / section)!r}, "
        f"which section {section} reads; get it with: toolrouter data fetch {section}"
    )
    assert expected in " ".join(result.output.split()), result.output


@pytest.mark.parametrize("argv", [["--dr-replays", "mbpp"], ["--dr-split", "train"], ["--dr-replay-calls", "500"]])
def test_drift_replays_asked_for_without_their_data_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    # without RouterBench the drift section skips its replays (its synthetic world needs no data),
    # but not replays the command line asks for: they were skipped, and the run succeeded
    ran: list[str] = []
    monkeypatch.setattr(_meta_router_drift, "run", lambda args: ran.append("drift"))
    result = CliRunner().invoke(app, ["bench", "meta-router", "--quick", "--sections", "drift", "--data", str(tmp_path), *argv])
    assert result.exit_code == 2, result.output
    assert ran == []
    expected = f"--data: no RouterBench folder at {str(tmp_path / 'routerbench')!r}, which section drift reads"
    assert expected in " ".join(result.output.split()), result.output


@pytest.mark.parametrize("argv", [[], ["--dr-replays", ""], ["--dr-calls", "300"]])
def test_drift_runs_without_replays_not_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]) -> None:
    ran: list[str] = []
    monkeypatch.setattr(_meta_router_drift, "run", lambda args: ran.append("drift"))
    result = CliRunner().invoke(app, ["bench", "meta-router", "--quick", "--sections", "drift", "--data", str(tmp_path), *argv])
    assert result.exit_code == 0, result.output
    assert ran == ["drift"]
