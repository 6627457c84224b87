"""``toolrouter demo --store URL`` that cannot be used is the store's fault alone, and the error
says ``--store``: it said "Invalid value for --store / --policy" for a folder that does not exist,
sending the user to a policy that had nothing to do with it. A store saved with another policy is
both options' (change either), and still says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from cli_output import said

runner = CliRunner()


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        ("sqlite:///{tmp}/no-such-folder/demo.db", "directory '{tmp}/no-such-folder' does not exist"),
        ("sqlite:///{tmp}", "'{tmp}' is a directory, not a database file"),
        ("{tmp}/demo.db", "expected a URL such as 'sqlite:///router.db' or 'memory://'"),
    ],
)
def test_a_store_that_cannot_be_used_is_named_alone(store: str, expected: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--calls", "5", "--store", store.format(tmp=tmp_path)], terminal_width=300)
    assert result.exit_code == 2, result.output
    shown = said(result.output)
    assert "Invalid value for --store: store" in shown, shown
    # a long path is wrapped at the box's width, anywhere
    assert "".join(expected.format(tmp=tmp_path).split()) in "".join(shown.split()), shown


def test_a_store_saved_with_another_policy_names_both_options(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert runner.invoke(app, ["demo", "--calls", "5", "--store", url]).exit_code == 0
    result = runner.invoke(app, ["demo", "--calls", "5", "--store", url, "--policy", "ucb1"], terminal_width=300)
    assert result.exit_code == 2, result.output
    assert "Invalid value for --store / --policy: policy: the saved state used 'gaussian_ts'" in said(result.output)
