"""``print_stats`` of a store URL reads an existing store only: a mistyped path was opened to
create, and printed the stats of the empty store it left there."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console

import integrations.mcp.cli as mcp_cli
from toolrouter import ToolMiddleware
from toolrouter.store import StoreOpenError


def test_stats_of_a_missing_store_name_it_and_create_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "gatewy.db"
    with pytest.raises(StoreOpenError, match="gatewy.db"):
        mcp_cli.print_stats(f"sqlite:///{missing}", console=Console(file=io.StringIO()))
    assert list(tmp_path.iterdir()) == []


def test_stats_of_a_store_url_read_what_it_holds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    tools = ToolMiddleware(seed=0, store=url)

    @tools.tool("search")
    def web(query: str) -> str:
        return "found"

    tools.call("search", "q")
    tools.learner.close()
    out = Console(file=io.StringIO(), width=400, color_system=None)
    mcp_cli.print_stats(url, console=out)
    assert ": 1 attempts" in out.file.getvalue()  # type: ignore[attr-defined]
