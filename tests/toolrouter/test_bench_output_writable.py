"""A figures folder (``--out``) or file (``--json``) where nothing can be written is refused before
the run, naming the option: a folder under a file, or on a file system that takes no new entry
(``/proc``), passed the check and failed when the figures were saved, after the run."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.bench._args import output_file, output_folder
from toolrouter.cli import app

runner = CliRunner()
PROC = Path("/proc")
needs_proc = pytest.mark.skipif(not (PROC / "self").is_dir(), reason="needs Linux's /proc")


def refused(argv: list[str], expected: str) -> None:
    # the unknown option after it stops a suite that took the value before it runs anything
    result = runner.invoke(app, ["bench", *argv, "--no-such-option"])
    assert result.exit_code == 2, (argv, result.output)
    assert "Traceback" not in result.output and expected in result.output, result.output


def test_a_figures_folder_under_a_file_is_refused_before_the_run(tmp_path: Path) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("")
    refused(["routing", "--out", str(file / "figures")], f"argument --out: {str(file)!r} is a file, not a folder to write in")


@needs_proc
def test_a_figures_folder_that_cannot_be_made_is_refused_before_the_run() -> None:
    refused(["routing", "--out", "/proc/toolrouter-figures/run"], "argument --out: cannot write in '/proc'")


@needs_proc
@pytest.mark.parametrize(("suite", "option"), [("nas", "--json"), ("continual", "--json"), ("planning", "--json")])
def test_a_json_file_in_a_folder_that_takes_no_file_is_refused_before_the_run(suite: str, option: str) -> None:
    refused([suite, option, "/proc/figures.json"], f"argument {option}: cannot write in '/proc'")


def test_writable_places_are_taken_and_left_as_they_were(tmp_path: Path) -> None:
    assert output_folder(str(tmp_path / "new" / "figures")) == tmp_path / "new" / "figures"
    assert output_folder(str(tmp_path)) == tmp_path
    assert output_file(str(tmp_path / "figures.json")) == str(tmp_path / "figures.json")
    assert list(tmp_path.iterdir()) == []  # nothing made by the checks


def test_the_default_figures_folder_is_checked_before_the_learning_part(tmp_path: Path, monkeypatch) -> None:
    # the default, bench_out in the working folder, is no argument argparse checks
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bench_out").write_text("")
    argv = ["bench", "routing", "--quick", "--part", "learning", "--streams", "stationary", "--no-peers", "--horizon", "5"]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert "toolrouter bench routing: --out: expected a folder, got the file 'bench_out'" in result.output
    assert "regret" not in result.output  # refused before the run, not after it
    assert runner.invoke(app, ["bench", "routing", "--quick", "--part", "overhead", "--repeats", "1", "--tools", "2"]).exit_code == 0
