"""A data path that does not exist is named by the option that gave it (or whose default it is):
the loaders' own wording, "path: no MetaTool folder at ...", named an option no suite has."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app


@pytest.mark.parametrize(
    ("argv", "option", "missing"),
    [
        (["experts", "--quick", "--data", "{tmp}"], "--data", "no MetaTool folder at '{tmp}/metatool'"),
        (["integrations", "--quick", "--sections", "shortlist", "--data", "{tmp}"], "--data",
         "no MetaTool folder at '{tmp}/metatool'"),
        (["nas", "--quick", "--data", "{tmp}/nb201.csv"], "--data", "no NAS-Bench-201 CSV at '{tmp}/nb201.csv'"),
        (["routing", "--quick", "--part", "learning", "--streams", "routerbench", "--no-peers", "--out", "{tmp}",
          "--routerbench", "{tmp}/rb"], "--routerbench", "no RouterBench folder at '{tmp}/rb'"),
        (["planning", "--quick", "--bfcl", "{tmp}/bfcl"], "--bfcl", "no BFCL folder at '{tmp}/bfcl'"),
    ],
)
def test_a_missing_data_path_is_named_by_its_option(argv: list[str], option: str, missing: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", *(a.format(tmp=tmp_path) for a in argv)])
    assert result.exit_code == 2, result.output
    assert f"toolrouter bench {argv[0]}: {option}: {missing.format(tmp=tmp_path)}" in result.stderr, result.stderr
    assert "path:" not in result.stderr


def test_the_default_data_folder_is_named_by_the_option_that_replaces_it(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TOOLROUTER_DATA", str(tmp_path))
    result = CliRunner().invoke(app, ["bench", "experts", "--quick"])
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == (
        f"toolrouter bench experts: --data: no MetaTool folder at {str(tmp_path / 'metatool')!r}; "
        "get it with: toolrouter data fetch metatool"
    )
