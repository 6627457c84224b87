"""``toolrouter mcp stats`` as ``toolrouter stats``: names wrap on a narrow terminal, and after a
prune every server's tool still has a row with what was learned of it."""

from __future__ import annotations

from pathlib import Path

from mcp_harness import gateway_store
from typer.testing import CliRunner

from toolrouter.cli import app

runner = CliRunner()


def rows(output: str) -> dict[str, list[str]]:
    """server -> its row's cells, from a table printed wide enough not to wrap."""
    cells = [[c.strip() for c in line.split("│")[1:-1]] for line in output.splitlines() if line.startswith("│")]
    return {row[1]: row for row in cells}


def test_mcp_stats_on_an_80_column_terminal_cuts_no_name(tmp_path: Path) -> None:
    # capability, server and tool showed as "search_docu…", "primary_s…": servers could not be told apart
    result = runner.invoke(app, ["mcp", "stats", "--store", gateway_store(tmp_path, "search_documents_everywhere", ("primary_search_server", "flaky_search_server"))], terminal_width=80)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    body = [line for line in lines[next(i for i, line in enumerate(lines) if line.startswith("┡")) :] if line.startswith("│")]
    assert "…" not in result.output
    # a name wraps inside its cell: read the server column's cells top to bottom
    assert "".join(line.split("│")[2].strip() for line in body) == "flaky_search_serverprimary_search_server"
    tools = "".join(line.split("│")[3].strip() for line in body)
    assert tools == "search_documents_everywhere" * 2


def test_mcp_stats_after_a_prune_still_shows_what_the_snapshot_learned(tmp_path: Path) -> None:
    # with every attempt pruned the table was empty: nothing said what the gateway had learned
    store = gateway_store(tmp_path, "search_documents_everywhere", ("primary_search_server", "flaky_search_server"))
    before = rows(runner.invoke(app, ["mcp", "stats", "--store", store], env={"COLUMNS": "250"}).output)
    assert runner.invoke(app, ["prune", "--store", store]).exit_code == 0
    result = runner.invoke(app, ["mcp", "stats", "--store", store], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    after = rows(result.output)
    assert before["primary_search_server"][3:5] == ["12", "100%"]
    for server in ("primary_search_server", "flaky_search_server"):
        learned = before[server][7]
        assert learned != "-"
        assert after[server] == ["search_documents_everywhere", server, "search_documents_everywhere", "0", "-", "-", "-", learned]
    assert "0 attempts" in result.output and "over the attempts kept" in result.output
