"""``toolrouter bench routing``: options of a part that ``--part`` skips, or of the RouterBench
stream that ``--streams`` leaves out, are refused in one line (they were ignored without a word:
``--part overhead --routerbench /no/such/folder`` ran and succeeded)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--part", "overhead", "--streams", "routerbench", "--routerbench", "/no/such/folder"],
         "--streams, --routerbench: only for the learning part, which --part overhead skips"),
        (["--part", "overhead", "--seeds", "3", "--out", "figures"],
         "--seeds, --out: only for the learning part, which --part overhead skips"),
        (["--part", "learning", "--tools", "5", "--repeats", "10"],
         "--tools, --repeats: only for the overhead part, which --part learning skips"),
        (["--streams", "stationary,drifting", "--cost-weight", "3", "--skip-incomplete"],
         "--skip-incomplete, --cost-weight: only for the routerbench stream, which --streams leaves out"),
        (["--part", "learning", "--streams", "contextual", "--routerbench", "/no/such/folder"],
         "--routerbench: only for the routerbench stream, which --streams leaves out"),
    ],
)
def test_options_the_run_would_not_read_are_refused(argv: list[str], expected: str) -> None:
    result = CliRunner().invoke(app, ["bench", "routing", "--quick", *argv])
    assert result.exit_code == 2, result.output
    assert f"toolrouter bench routing: {expected}" in result.output, result.output


@pytest.mark.parametrize("argv", [["--streams", "routerbench"], ["--streams", "stationary,routerbench"], ["--passes", "3"]])
def test_a_replay_asked_for_without_its_data_is_refused(argv: list[str], tmp_path, monkeypatch) -> None:
    # without its default folder the replay is skipped, with a note, only where the command line
    # did not ask for it: `--streams routerbench` measured nothing, and succeeded
    monkeypatch.setenv("TOOLROUTER_DATA", str(tmp_path))
    result = CliRunner().invoke(app, ["bench", "routing", "--quick", "--part", "learning", "--no-peers", *argv])
    assert result.exit_code == 2, result.output
    assert f"no RouterBench folder at {str(tmp_path / 'routerbench')!r}" in result.output
    assert "toolrouter data fetch routerbench" in result.output and "Traceback" not in result.output


def test_the_default_streams_skip_a_missing_replay(tmp_path, monkeypatch) -> None:
    from toolrouter.bench import routing

    monkeypatch.setenv("TOOLROUTER_DATA", str(tmp_path))
    args = routing.parse_with_quick(routing.build_parser(), ["--quick"], routing.QUICK)
    args.streams = list(routing.STREAMS)
    assert [s.name for s in routing._streams(args)] == ["stationary", "drifting", "contextual"]


@pytest.mark.parametrize(
    ("streams", "expected"),
    [(",", "--streams: none given; choose from ['stationary', 'drifting', 'contextual', 'routerbench']"),
     ("stationary,bandit", "--streams: unknown ['bandit']; choose from ['stationary', "),
     ("stationary,stationary", "--streams: ['stationary'] given more than once")],
)
def test_streams_are_read_as_every_suite_reads_its_lists(streams: str, expected: str) -> None:
    result = CliRunner().invoke(app, ["bench", "routing", "--quick", "--part", "learning", "--streams", streams])
    assert result.exit_code == 2, result.output
    assert f"toolrouter bench routing: {expected}" in result.output, result.output
