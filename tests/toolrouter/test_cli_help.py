"""`toolrouter --help` and its commands' help show their texts as written."""

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()


def _help(*command: str) -> str:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "250", "TERMINAL_WIDTH": "250"})
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize(
    "command, text",
    [
        ((), "toolrouter bench SUITE [options]; SUITE --help lists its options."),
        ((), 'many MCP servers behind one (pip install "toolrouter[mcp]").'),
        (("mcp",), 'many MCP servers behind one (pip install "toolrouter[mcp]").'),
    ],
)
def test_bracketed_words_of_a_help_text_are_shown(command, text):
    # a bracketed word is not taken for a style tag and dropped, nor shown with an escape
    shown = _help(*command)
    assert text in shown
    assert "\\[" not in shown


@pytest.mark.parametrize("suite", ["experts", "integrations"])
def test_a_suites_help_describes_it_in_whole_sentences(suite: str, capsys: pytest.CaptureFixture[str]) -> None:
    # the description was the docstring's first line, which stopped mid-sentence ("..., and the")
    import importlib

    module = importlib.import_module(f"toolrouter.bench.{suite}")
    with pytest.raises(SystemExit):
        module.main(["--help"])
    first_paragraph = " ".join(module.__doc__.split("\n\n")[0].split())
    assert first_paragraph.endswith(".") and first_paragraph in " ".join(capsys.readouterr().out.split())


def test_version_prints_the_installed_version() -> None:
    # there was no way to ask the command which release it is
    import toolrouter

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"toolrouter {toolrouter.__version__}\n", result.output


def test_every_option_of_every_suite_says_what_it_does() -> None:
    # `toolrouter bench meta --help` listed 24 options by name alone ("--meta-batch META_BATCH")
    import importlib

    from toolrouter.bench import available_suites

    silent = {
        suite: [action.option_strings[-1] for action in parser._actions if action.option_strings and not action.help]
        for suite in available_suites()
        for parser in [importlib.import_module(f"toolrouter.bench.{suite.replace('-', '_')}").build_parser()]
    }
    assert not {suite: options for suite, options in silent.items() if options}
