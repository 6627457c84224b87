"""``toolrouter mcp tools`` closes the router it lists the tools with once the servers stop."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from integrations.mcp import cli
from toolrouter import ToolMiddleware


def test_listing_the_tools_closes_its_middleware(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[ToolMiddleware] = []

    class Recorded(ToolMiddleware):  # the real middleware, each one kept
        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(cli, "ToolMiddleware", Recorded)
    config = tmp_path / "gateway.json"
    config.write_text(json.dumps({"mcpServers": {"a": {"command": str(tmp_path / "missing-server")}}}))
    with pytest.raises(cli.NoServerStartedError, match="none of the 1 servers"):
        cli.print_tools(str(config), Console(file=io.StringIO()))
    assert len(made) == 1
    with pytest.raises(ValueError, match="closed"):
        made[0].register(lambda query: query, "search", tool_id="local")
