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
