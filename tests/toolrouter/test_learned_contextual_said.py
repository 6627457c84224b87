"""Under a contextual policy the "learned" column of ``toolrouter demo`` and ``toolrouter stats``
is '-' on every row (what it learned of a tool depends on the request), and the output says so:
it said only "learned: the policy's posterior mean", next to a column of dashes."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.demo import print_report, run_demo
from cli_output import said

NOTE = "'-' under a contextual policy, {policy}: what it learned depends on the request"


@pytest.mark.parametrize(("policy", "contextual"), [("linucb", True), ("gaussian_ts", False)])
def test_the_demo_says_why_learned_is_missing(policy: str, contextual: bool) -> None:
    report = run_demo(calls=20, policy=policy, progress=False)
    out = io.StringIO()
    print_report(report, Console(file=out, width=300))
    assert all(r.learned_utility is None for r in report.rows) == contextual
    assert (NOTE.format(policy=policy) in out.getvalue()) == contextual, out.getvalue()


@pytest.mark.parametrize(("policy", "contextual"), [("lin_ts", True), ("gaussian_ts", False)])
def test_stats_says_why_learned_is_missing(policy: str, contextual: bool, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--calls", "20", "--policy", policy, "--store", url]).exit_code == 0
    result = runner.invoke(app, ["stats", "--store", url], terminal_width=300)
    assert result.exit_code == 0, result.output
    shown = said(result.output)
    assert "learned: the policy's posterior mean utility" in shown
    assert (NOTE.format(policy=policy) in shown) == contextual, shown


def test_mcp_stats_says_why_learned_is_missing(tmp_path: Path) -> None:
    pytest.importorskip("mcp")
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["demo", "--calls", "20", "--policy", "linucb", "--store", url]).exit_code == 0
    result = runner.invoke(app, ["mcp", "stats", "--store", url], terminal_width=300)
    assert result.exit_code == 0, result.output
    assert NOTE.format(policy="linucb") in said(result.output), result.output
