"""Counts that a run cannot do with zero of (batch sizes, widths, steps, tasks, calls, tools) are
refused in one line naming the option: 0 ended in a library's traceback (some after other sections
had run), was taken for the default (``--outcomes``, ``--max-steps`` of the recipe), or ran and
timed nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()

OPTIONS = [
    ("meta", name) for name in (
        "--max-steps", "--meta-batch", "--test-tasks", "--query-points", "--channels", "--train-way", "--train-shot",
        "--train-query", "--maml-channels", "--maml-meta-batch", "--maml-inner-steps", "--recipe-way",
        "--test-episodes", "--test-query", "--speed-tasks", "--speed-channels", "--speed-repeats",
    )
] + [
    ("meta-router", name) for name in (
        "--cs-calls", "--cs-families", "--cs-new-families", "--cs-history", "--cs-meta-steps", "--cs-tools", "--cs-dim",
        "--ds-tools", "--ds-routes", "--ds-requests", "--ds-calls", "--dr-replay-calls", "--dr-calls", "--dr-meta-steps",
        "--mt-hashing-dim", "--mt-tune-seeds", "--mt-tune-new", "--mt-episodes", "--mt-n-way", "--mt-ft-n-way",
        "--mt-ft-queries", "--mt-ft-patience", "--rb-hash-dim", "--rb-limit",
    )
] + [("store", "--outcomes")]


@pytest.mark.parametrize(("suite", "option"), OPTIONS)
def test_zero_is_refused_naming_the_option(suite: str, option: str) -> None:
    # the unknown option after it stops a suite that took the value before it runs anything
    result = runner.invoke(app, ["bench", suite, option, "0", "--no-such-option"])
    assert result.exit_code == 2, (suite, option, result.output)
    assert f"argument {option}: expected an integer >= 1, got '0'" in result.output, result.output


def test_routing_a_contextual_stream_without_a_context_is_refused(tmp_path: Path) -> None:
    # --synthetic-dim 0 ran the stationary stream again and reported it as the contextual one
    argv = ["bench", "routing", "--quick", "--part", "learning", "--streams", "contextual", "--no-peers", "--out", str(tmp_path)]
    result = runner.invoke(app, [*argv, "--synthetic-dim", "0"])
    assert result.exit_code == 2, result.output
    assert "toolrouter bench routing: --synthetic-dim must be at least 1, got 0" in result.output


@pytest.mark.parametrize("value", ["-1", "three"])
def test_a_negative_or_unreadable_positive_count_is_refused_with_its_own_bound(value: str) -> None:
    # it said "expected an integer >= 0", the bound of another kind of option, which 0 does not meet here
    result = runner.invoke(app, ["bench", "nas", "--seeds", value, "--no-such-option"])
    assert result.exit_code == 2, result.output
    assert f"argument --seeds: expected an integer >= 1, got '{value}'" in result.output, result.output
