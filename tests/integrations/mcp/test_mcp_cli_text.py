"""``toolrouter mcp tools | stats`` print names, paths and errors as they are: text from servers
and stores is not read as rich markup."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import integrations.mcp.cli as mcp_cli
from integrations.mcp.grouping import Capability, UpstreamTool
from toolrouter import ToolMiddleware


def console() -> Console:
    return Console(file=io.StringIO(), width=300, color_system=None)


def test_tools_prints_bracketed_names_and_errors_verbatim(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    schema = {"type": "object", "properties": {"page[size]": {"type": "integer"}, "filter[/x]": {"type": "string"}}}
    listed = UpstreamTool("api", "list[bold]", "List.", schema)
    capability = Capability("list[bold]", "List.", schema, None, (listed,), "alone")

    async def grouping(config: Any) -> tuple[list[Any], dict[str, str]]:  # no server to start
        return [capability], {"docs": "OSError: cannot open '[/tmp]'"}

    monkeypatch.setattr(mcp_cli, "_grouping", grouping)
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps({"mcpServers": {"api": {"command": "api"}, "docs": {"command": "docs"}}}))
    out = console()
    mcp_cli.print_tools(str(config), out)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "list[bold]" in text and "api:list[bold]" in text and "page[size], filter[/x]" in text
    assert "server 'docs' did not start: OSError: cannot open '[/tmp]'" in text


def test_stats_prints_bracketed_names_verbatim(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'gateway.db'}"
    tools = ToolMiddleware(seed=0, store=store, task_type="mcp")
    tools.register(lambda query: "ok", "search[/x]", tool_id="api/find[bold]")
    tools.call("search[/x]", "q")
    tools.learner.close()
    out = console()
    mcp_cli.print_stats(store, console=out)
    row = next(line for line in out.file.getvalue().splitlines() if "api" in line)  # type: ignore[attr-defined]
    assert [cell.strip() for cell in row.split("│")[1:4]] == ["search[/x]", "api", "find[bold]"]
