"""Output that does not go to a terminal (a file, ``| grep``) is printed wide, as the benchmark
suites' is: a table row, the names in it and a note each stay on one line, where rich's 80
columns broke them across lines and a search for a tool's name found nothing."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.cli import app

NO_WIDTH = {"COLUMNS": None, "LINES": None}  # nothing tells rich a width: a plain pipe
TOOLS = ("web_search_primary_provider_with_a_long_name", "internal_knowledge_base_lookup_service_v2")
TASK = "customer_support_escalations"


def _store(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    profiles = [ToolProfile(tool_id=t, capabilities=["search"]) for t in TOOLS]
    with ToolMetaLearner(profiles, seed=0, store=url, snapshot_name=f"{TASK}_router_of_the_first_region") as router:
        for tool in TOOLS:
            router.record_attempt(ExecutionResult(tool_id=tool, step="search", success=True), task_type=TASK, capability="search")
        router.save()
    return url


def test_stats_and_snapshots_keep_each_row_on_one_line_when_piped(tmp_path: Path) -> None:
    url = _store(tmp_path)
    result = CliRunner().invoke(app, ["stats", "--store", url, "--snapshot", f"{TASK}_router_of_the_first_region"], env=NO_WIDTH)
    assert result.exit_code == 0, result.output
    for tool in TOOLS:
        [row] = [line for line in result.output.splitlines() if tool in line]
        assert f"{TASK}/search" in row and "100%" in row
    result = CliRunner().invoke(app, ["snapshots", "--store", url], env=NO_WIDTH)
    assert result.exit_code == 0, result.output
    assert any(f"{TASK}_router_of_the_first_region" in line and " 2 " in line for line in result.output.splitlines())


def test_the_demo_keeps_its_notes_on_one_line_when_piped() -> None:
    result = CliRunner().invoke(app, ["demo", "--calls", "20", "--store", "memory://"], env=NO_WIDTH)
    assert result.exit_code == 0, result.output
    lines = [line.strip() for line in result.output.splitlines()]
    assert any(line.startswith("memory:// keeps") and line.endswith("lets a rerun continue") for line in lines)
