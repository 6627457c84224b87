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


def test_a_bad_option_value_is_one_line_naming_it_in_every_suite():
    for argv, message in [
        (["routing", "--seeds", "0"], "toolrouter bench routing: --seeds must be at least 1, got 0"),
        (["store", "--parts", "nope"], "toolrouter bench store: --parts: unknown ['nope']"),
        (["meta", "--sections", "nope"], "toolrouter bench meta: --sections: unknown ['nope']"),
    ]:
        result = runner.invoke(app, ["bench", *argv])
        assert result.exit_code == 2 and result.output.startswith(message), result.output
    # no seed or count of any suite takes a negative value or a word: argparse names them
    option = {suite: "--seeds" for suite in available_suites()}
    option.update(adapters="--batch", mcp="--calls", meta="--seed", planning="--seed", store="--seed")
    # each with its own bound: those that need at least one say so
    low = {suite: 1 if suite in ("adapters", "meta-router", "nas") else 0 for suite in available_suites()}
    for suite in available_suites():
        for value in ("-1", "x"):
            result = runner.invoke(app, ["bench", suite, option[suite], value])
            assert result.exit_code == 2, (suite, result.output)
            assert f"argument {option[suite]}: expected an integer >= {low[suite]}, got '{value}'" in result.output


def test_an_option_that_needs_at_least_one_refuses_zero_in_one_line():
    # torch refused 0 threads and a median of no seeds failed, each with a traceback; planning's
    # --tasks 0 ran the default number of tasks instead
    for argv in (
        ["meta-router", "--threads", "0"],
        ["meta-router", "--seeds", "0"],
        ["meta", "--threads", "0"],
        ["adapters", "--threads", "0"],
        ["planning", "--tasks", "0"],
        ["planning", "--bfcl", "nowhere", "--seeds", "0"],
        ["store", "--steps", "0"],  # was taken for the default, 400
        ["adapters", "--batch", "0"],
        ["adapters", "--lora-r", "0"],  # failed in pydantic's words, with a traceback
    ):
        result = runner.invoke(app, ["bench", *argv])
        assert result.exit_code == 2, (argv, result.output)
        assert f"argument {argv[-2]}: expected an integer >= 1, got '0'" in result.output, result.output


def test_meta_router_with_no_section_is_refused():
    # it measured nothing and succeeded
    result = runner.invoke(app, ["bench", "meta-router", "--sections", ","])
    assert result.exit_code == 2 and "toolrouter bench meta-router: error: --sections: none given" in result.output


def test_an_unknown_suite_is_named_as_the_suite() -> None:
    # it said "Invalid value: unknown suite ...", naming no argument
    result = runner.invoke(app, ["bench", "nosuite"], env={"COLUMNS": "300"})
    assert result.exit_code == 2 and "Invalid value for SUITE: unknown suite 'nosuite'" in result.output, result.output
