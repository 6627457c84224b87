"""``toolrouter bench planning --structure-config`` with a field or value StructureConfig refuses,
and ``toolrouter bench continual`` with no stream or no strategy, are one line naming the option
(a pydantic traceback; a run that measured nothing and succeeded)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()
BFCL = Path(__file__).resolve().parents[3] / "shared" / "data" / "bfcl"


def refused(argv: list[str], expected: str) -> None:
    result = runner.invoke(app, ["bench", *argv])
    assert result.exit_code == 2, (argv, result.output)
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith(f"toolrouter bench {argv[0]}: {expected}"), result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("config", "expected"), [
    ('{"no_such_field": 1}', "--structure-config: no_such_field: Extra inputs are not permitted"),
    ('{"ridge": -1}', "--structure-config: ridge: Input should be greater than 0"),
])
def test_a_structure_config_pydantic_refuses_is_one_line(tmp_path: Path, config: str, expected: str) -> None:
    refused(["planning", "--quick", "--bfcl", str(tmp_path), "--structure-config", config], expected)


@pytest.mark.parametrize(("argv", "expected"), [
    (["--streams", ",", "--strategies", "naive"], "error: --streams: none given"),
    (["--strategies", " , ", "--streams", "split-task"], "error: --strategies: none given"),
    (["--strategies", "naive,naive", "--streams", "split-task"], "error: --strategies: ['naive'] given more than once"),
])
def test_continual_with_nothing_to_run_is_refused(argv: list[str], expected: str) -> None:
    refused(["continual", "--quick", *argv], expected)
