"""``toolrouter bench nas``, the suites' ``--json`` files and routing's ``--out`` folder: option
values a run cannot use are refused in one line naming the option, before the run (they ended in
tracebacks, ran nothing and succeeded, or lost the figures after the run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()
NB201 = Path(__file__).resolve().parents[3] / "shared" / "data" / "nasbench201" / "nb201_cifar10.csv"


def refused(argv: list[str], expected: str) -> None:
    result = runner.invoke(app, ["bench", *argv])
    assert result.exit_code == 2, (argv, result.output)
    assert "Traceback" not in result.output and expected in result.output, result.output


@pytest.fixture()
def three_cells(tmp_path: Path) -> Path:
    table = tmp_path / "three.csv"
    table.write_text(
        "cellstr,cifar10-val,cifar10-test\n"
        + "".join(f"|nor_conv_3x3~0|+|{op}~0|none~1|+|none~0|none~1|none~2|,50,50\n"
                  for op in ("none", "skip_connect", "nor_conv_1x1")),
        encoding="utf-8",
    )
    return table


@pytest.mark.parametrize("budgets", ["abc", "0", ",", "5,x"])
def test_budgets_that_are_not_query_counts_are_refused(three_cells: Path, budgets: str) -> None:
    expected = f"toolrouter bench nas: --budgets: expected comma-separated query counts >= 1, got {budgets!r}"
    refused(["nas", "--data", str(three_cells), "--budgets", budgets, "--seeds", "1"], expected)


@pytest.mark.skipif(not NB201.exists(), reason="shared NAS-Bench-201 table not present")
def test_budgets_beyond_the_cells_are_refused() -> None:
    # a search cannot make more distinct queries than there are cells: it ran for ages
    refused(["nas", "--data", str(NB201), "--budgets", "100,20000", "--seeds", "1"],
            f"toolrouter bench nas: --budgets: 20000 queries, more than the 15625 cells of {str(NB201)!r}")


def test_a_table_without_every_cell_is_refused_naming_it(three_cells: Path) -> None:
    # every trial asking for a missing cell failed: the search ended in AllTrialsFailedError
    refused(["nas", "--data", str(three_cells), "--budgets", "2", "--seeds", "1", "--algorithms", "random"],
            f"toolrouter bench nas: {three_cells}: table: 3 of the 15625 cells of the space; a tabular benchmark needs every cell")


def test_algorithms_none_or_unknown_are_refused(three_cells: Path) -> None:
    refused(["nas", "--data", str(three_cells), "--algorithms", ","], "toolrouter bench nas: --algorithms: none given; choose from")
    refused(["nas", "--data", str(three_cells), "--algorithms", "random,annealing"],
            "toolrouter bench nas: --algorithms: unknown ['annealing']; choose from")


def test_no_seeds_is_refused() -> None:
    refused(["nas", "--seeds", "0", "--no-such-option"], "argument --seeds: expected an integer >= 1, got '0'")


@pytest.mark.parametrize(("suite", "option"), [
    ("nas", "--json"), ("continual", "--json"), ("planning", "--json"), ("meta-router", "--mt-json"),
])
def test_a_json_file_that_cannot_be_written_is_refused_before_the_run(tmp_path: Path, suite: str, option: str) -> None:
    # the unknown option after it stops a suite that took the value before it runs anything
    missing = tmp_path / "no" / "figures.json"
    refused([suite, option, str(missing), "--no-such-option"],
            f"argument {option}: no folder {str(missing.parent)!r} to write 'figures.json' in")
    refused([suite, option, str(tmp_path), "--no-such-option"], f"argument {option}: expected a file name, got the folder")


def test_a_figures_folder_that_is_a_file_is_refused_before_the_run(tmp_path: Path) -> None:
    # the PNG of the first stream failed to save after its learning had run
    file = tmp_path / "figures"
    file.write_text("")
    refused(["routing", "--out", str(file), "--no-such-option"], f"argument --out: expected a folder, got the file {str(file)!r}")
