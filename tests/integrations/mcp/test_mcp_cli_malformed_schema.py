"""``toolrouter mcp tools`` prints a tool whose server gave malformed properties or required (a
tool alone keeps its schema as it is): it failed the command, or starred the wrong arguments."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

import integrations.mcp.cli as mcp_cli
from integrations.mcp.grouping import Capability, UpstreamTool

STRING = {"type": "string"}


@pytest.mark.parametrize(
    ("schema", "shown"),
    [
        ({"type": "object", "properties": [1, 2]}, "-"),
        ({"type": "object", "properties": {"q": STRING}, "required": [{"name": "q"}]}, "q"),
        ({"type": "object", "properties": {"q": STRING, "query": STRING}, "required": "query"}, "q, query"),
    ],
)
def test_tools_prints_a_malformed_schema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schema: Any, shown: str) -> None:
    capability = Capability("find", "Find.", schema, None, (UpstreamTool("api", "find", "Find.", schema),), "alone")

    async def grouping(config: Any) -> tuple[list[Any], dict[str, str]]:  # no server to start
        return [capability], {}

    monkeypatch.setattr(mcp_cli, "_grouping", grouping)
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps({"mcpServers": {"api": {"command": "api"}}}))
    out = Console(file=io.StringIO(), width=300, color_system=None)
    mcp_cli.print_tools(str(config), out)
    row = next(line for line in out.file.getvalue().splitlines() if "api:find" in line)  # type: ignore[attr-defined]
    assert row.split("│")[4].strip() == shown
