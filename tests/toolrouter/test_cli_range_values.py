"""Every bounded option of the ``toolrouter`` command refuses a value out of its range naming the
option and the value given: typer's own check said only "Input should be greater than or equal
to 1". So does every numeric option text that is no number of its kind: typer said only "Input
should be a valid integer"."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--calls", "0"], "Invalid value for '--calls': expected an integer in [1, 1000000], got 0"),
        (["demo", "--calls", "1000001"], "Invalid value for '--calls': expected an integer in [1, 1000000], got 1000001"),
        (["demo", "--seed", "-7"], "Invalid value for '--seed': expected an integer in [0, 340282366920938463463374607431768211455], got -7"),
        (["meta-train", "--store", "sqlite:///x.db", "--steps", "-2"], "Invalid value for '--steps': expected an integer in [1, 20000], got -2"),
        (["meta-train", "--store", "sqlite:///x.db", "--seed", "-1"], "Invalid value for '--seed': expected an integer >= 0, got -1"),
        (["prune", "--store", "sqlite:///x.db", "--upto", "-5"], "Invalid value for '--upto': expected an integer >= 0, got -5"),
        (["data", "fetch", "--timeout", "0.0001"], "Invalid value for '--timeout': expected a number >= 0.001, got 0.0001"),
    ],
)
def test_a_value_out_of_range_is_named(args: list[str], message: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # refused before any store is opened or made
    result = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 2 and message in result.output, result.output
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--calls", "abc"], "Invalid value for '--calls': expected an integer in [1, 1000000], got 'abc'"),
        (["demo", "--calls", "1.5"], "Invalid value for '--calls': expected an integer in [1, 1000000], got '1.5'"),
        (["meta-train", "--store", "sqlite:///x.db", "--seed", "x"], "Invalid value for '--seed': expected an integer >= 0, got 'x'"),
        (["prune", "--store", "sqlite:///x.db", "--upto", ""], "Invalid value for '--upto': expected an integer >= 0, got ''"),
        (["data", "fetch", "--timeout", "soon"], "Invalid value for '--timeout': expected a number >= 0.001, got 'soon'"),
        (["demo", "--tour", "--scale", "big"], "Invalid value for '--scale': expected a number, got 'big'"),
        (["meta-train", "--store", "sqlite:///x.db", "--time-budget", "1h"], "Invalid value for '--time-budget': expected a number, got '1h'"),
    ],
)
def test_a_value_that_is_no_number_is_named(args: list[str], message: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, args, env={"COLUMNS": "300"})
    assert result.exit_code == 2 and message in result.output, result.output
    assert list(tmp_path.iterdir()) == []


def test_numbers_of_each_kind_still_parse(tmp_path) -> None:
    result = runner.invoke(app, ["prune", "--store", f"sqlite:///{tmp_path / 'x.db'}", "--upto", "12"], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "no SQLite store" in result.output, result.output  # past the parse, to the store
    result = runner.invoke(app, ["demo", "--scale", "2.5"], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "--scale: only for the tour" in result.output, result.output


def test_the_range_is_in_the_help() -> None:
    result = runner.invoke(app, ["demo", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0 and "How many routed calls the agent makes. (in [1, 1000000])" in result.output
