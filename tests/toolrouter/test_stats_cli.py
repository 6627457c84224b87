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


def _rows(output: str) -> dict[str, list[str]]:
    """tool -> its row's cells, from a table printed wide enough not to wrap."""
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")]
    return {row[1]: row for row in cells}


def test_stats_after_a_prune_still_shows_what_the_snapshot_learned_of_each_tool(tmp_path: Path) -> None:
    # with every attempt pruned the table was empty: nothing said what the router had learned
    url = f"sqlite:///{tmp_path / 'r.db'}"
    tools = [ToolProfile(tool_id=t, capabilities=["search"]) for t in ("good", "bad", "untried")]
    with ToolMetaLearner(tools, seed=0, store=url) as router:
        for i in range(12):
            tool = ("good", "bad")[i % 2]
            router.record_attempt(ExecutionResult(tool_id=tool, step="search", success=tool == "good"), capability="search")
        router.save()
    before = _rows(CliRunner().invoke(app, ["stats", "--store", url], env={"COLUMNS": "200"}).output)
    assert CliRunner().invoke(app, ["prune", "--store", url]).exit_code == 0
    result = CliRunner().invoke(app, ["stats", "--store", url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    after = _rows(result.output)
    assert before["good"][2:4] == ["6", "100%"]
    for tool in ("good", "bad"):  # the kept attempts: none; what was learned: as before
        assert after[tool] == ["default/search", tool, "0", "-", "-", before[tool][5], "-", "-"]
    assert after["untried"][2] == "0" and after["untried"][5] != "-"  # a tool not tried yet: its prior


def test_stats_and_prune_print_names_as_they_are_not_as_markup(tmp_path: Path) -> None:
    # names went through rich markup: "page[size]" showed as "page", and a "[/x]" stopped the command
    url = f"sqlite:///{tmp_path / 'r[bold].db'}"
    tools = [ToolProfile(tool_id=t, capabilities=["search"]) for t in ("page[size]", "web[/x]")]
    with ToolMetaLearner(tools, seed=0, store=url) as router:
        for tool in ("page[size]", "web[/x]"):
            router.record_attempt(ExecutionResult(tool_id=tool, step="search", success=True), task_type="t[bold]", capability="search")
        router.save()
    result = CliRunner().invoke(app, ["stats", "--store", url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = _rows(result.output)
    assert set(rows) == {"page[size]", "web[/x]"} and rows["web[/x]"][0] == "t[bold]/search"
    result = CliRunner().invoke(app, ["prune", "--store", url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert f"{url}: deleted 2 attempts" in result.output
