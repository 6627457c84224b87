"""``toolrouter bench meta-router``: every chosen section's options are checked before the first
section runs, and a bad one is one line naming it (a typo in a later section's option stopped the
run after the earlier sections had run, with a traceback or a bare message; an unknown cold-start
scenario ran the new-tool scenario under its name)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()


def refused(argv: list[str], expected: str) -> None:
    # "coldstart" comes first: it would run before a later section's option was read
    result = runner.invoke(app, ["bench", "meta-router", "--quick", *argv])
    assert result.exit_code == 2, (argv, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"toolrouter bench meta-router: {expected}"), result.stderr
    assert "== " not in result.stdout and "|" not in result.stdout  # nothing ran


@pytest.mark.parametrize(("argv", "expected"), [
    (["--sections", "coldstart", "--cs-scenarios", "new family,new-tool"], "--cs-scenarios: unknown ['new-tool']; choose from"),
    (["--sections", "coldstart", "--cs-scenarios", ","], "--cs-scenarios: none given; choose from"),
    (["--sections", "coldstart,drift", "--dr-policies", "gaussian_ts,thompson"], "--dr-policies: unknown ['thompson']; choose from"),
    (["--sections", "coldstart,drift", "--dr-detectors", "adwin"], "--dr-detectors: unknown ['adwin']; choose from"),
    # "," replayed nothing and printed empty tables; a repeat was replayed twice
    (["--sections", "coldstart,drift", "--dr-policies", ","], "--dr-policies: none given; choose from"),
    (["--sections", "coldstart,drift", "--dr-detectors", "none,none"], "--dr-detectors: ['none'] given more than once"),
    (["--sections", "coldstart,drift", "--dr-replays", "mbpp,mbpp"], "--dr-replays: ['mbpp'] given more than once"),
    (["--sections", "coldstart,metatool", "--mt-shots", "0,x"], "--mt-shots: expected comma-separated integers >= 0, got '0,x'"),
    (["--sections", "coldstart,metatool", "--mt-candidates", "4-0.5"], "--mt-candidates: expected refine_steps:known_tool_weight pairs"),
    (["--sections", "coldstart,routerbench", "--rb-policies", "nope"], "--rb-policies: unknown ['nope']; choose from"),
    (["--sections", "coldstart,routerbench", "--rb-policies", "gaussian_ts"], "--rb-policies: unknown ['gaussian_ts']; choose from"),
    # "," was "unknown or non-contextual []", and a repeat ran the policy twice
    (["--sections", "coldstart,routerbench", "--rb-policies", ","], "--rb-policies: none given; choose from"),
    (["--sections", "coldstart,routerbench", "--rb-policies", "lin_ts,lin_ts"], "--rb-policies: ['lin_ts'] given more than once"),
    # a repeated dataset or design was run and scored twice
    (["--sections", "coldstart,routerbench", "--rb-evals", "mbpp,mbpp"], "--rb-evals: ['mbpp'] given more than once"),
    (["--sections", "coldstart,routerbench", "--rb-designs", "qc,qc"], "--rb-designs: ['qc'] given more than once"),
    (["--sections", "coldstart,routerbench", "--rb-evals", ","], "--rb-evals: none given; choose from"),
])
def test_a_later_sections_bad_option_stops_the_run_before_any_section(argv: list[str], expected: str) -> None:
    refused(argv, expected)


@pytest.mark.parametrize(("suite", "sections"), [("meta-router", "drift_state,drift_state"), ("integrations", "overhead,overhead")])
def test_a_section_named_twice_is_refused(suite: str, sections: str) -> None:
    # the section ran twice
    result = runner.invoke(app, ["bench", suite, "--quick", "--sections", sections])
    assert result.exit_code == 2, result.output
    assert f"error: --sections: ['{sections.split(',')[0]}'] given more than once" in result.output, result.output
