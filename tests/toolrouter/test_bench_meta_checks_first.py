"""``toolrouter bench meta``: a bad option of the sinusoid or omniglot section, or an Omniglot path
that does not exist, stops the run before the first section (omniglot runs last: its options were
read after correctness, speed and sinusoid had run, minutes at full size)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.bench import _meta_correctness
from toolrouter.cli import app


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--methods", "protonet,bogus"], "--methods: unknown ['bogus']"),
        (["--methods", "recipe", "--recipe-options", "{bad"], "--recipe-options: not JSON"),
        (["--val-alphabets", "Balinese"], "--val-alphabets: ['Balinese'] are also --test-alphabets"),
        (["--omniglot", "MISSING"], "--omniglot: 'MISSING' does not exist; get it with: toolrouter data fetch omniglot"),
        (["--sinusoid-methods", "maml,bogus"], "--sinusoid-methods: unknown ['bogus']"),
        (["--meta-lr-schedule", "linear"], "--meta-lr-schedule: expected 'constant' or 'cosine', got 'linear'"),
    ],
)
def test_a_bad_option_of_a_later_section_stops_the_run_before_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: str
) -> None:
    ran: list[str] = []
    monkeypatch.setattr(_meta_correctness, "run", lambda args: ran.append("correctness"))
    argv = [str(tmp_path / "none.zip") if a == "MISSING" else a for a in argv]
    expected = expected.replace("MISSING", str(tmp_path / "none.zip"))
    if "--omniglot" not in argv:
        argv += ["--omniglot", str(tmp_path)]  # exists: only the option under test is wrong
    result = CliRunner().invoke(app, ["bench", "meta", "--quick", "--sections", "correctness,sinusoid,omniglot", *argv])
    assert result.exit_code == 2, result.output
    assert ran == [] and f"toolrouter bench meta: {expected}" in " ".join(result.output.split()), result.output
