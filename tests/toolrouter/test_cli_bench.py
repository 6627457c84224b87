"""`toolrouter bench`: suite discovery and dispatch."""

from typer.testing import CliRunner

from toolrouter.bench import available_suites, run_suite
from toolrouter.cli import app

runner = CliRunner()


def test_bare_bench_lists_every_suite():
    result = runner.invoke(app, ["bench"])
    assert result.exit_code == 0
    for suite in ("routing", "planning", "meta", "adapters", "continual", "nas"):
        assert suite in available_suites()
        assert suite in result.output


def test_unknown_suite_is_a_clear_error():
    result = runner.invoke(app, ["bench", "no-such-suite"])
    assert result.exit_code != 0
    assert "no-such-suite" in result.output


def test_suite_help_reaches_the_suite_parser():
    result = runner.invoke(app, ["bench", "routing", "--help"])
    assert result.exit_code == 0
    assert "--part" in result.output  # an option only the routing suite's own parser knows


def test_run_suite_rejects_unknown_names():
    import pytest

    with pytest.raises(ValueError, match="no-such-suite"):
        run_suite("no-such-suite", [])
