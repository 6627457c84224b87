"""``toolrouter stats`` on an ordinary terminal: every route and tool is named in full."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.cli import app


def test_stats_on_an_80_column_terminal_cuts_no_route_or_tool_name(tmp_path: Path) -> None:
    # every route showed as "default…" and a long tool id lost its end: routes could not be told apart
    url = f"sqlite:///{tmp_path / 'r.db'}"
    tools = [ToolProfile(tool_id=t, capabilities=[c]) for t, c in (("web_search_primary", "search"), ("summarizer_v2", "summarize"))]
    with ToolMetaLearner(tools, seed=0, store=url) as router:
        for tool, cap in (("web_search_primary", "search"), ("summarizer_v2", "summarize")):
            router.record_attempt(ExecutionResult(tool_id=tool, step=cap, success=True), task_type="support", capability=cap)
        router.save()
    result = CliRunner().invoke(app, ["stats", "--store", url], terminal_width=80)
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    # a name wraps inside its cell: read the route column's cells top to bottom
    cells = [line.split("│")[1].strip() for line in result.output.splitlines() if line.startswith("│")]
    assert "".join(cells) == "support/searchsupport/summarize"
