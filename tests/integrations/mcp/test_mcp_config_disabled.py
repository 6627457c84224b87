"""A server turned off with ``disabled = true`` (as MCP clients' configs do) is left out together
with its tools in the explicit groups: the groups go on with the other servers' tools, where the
config was refused because a group named a server "not among the servers"."""

from __future__ import annotations

import json
from pathlib import Path

from integrations.mcp.config import GatewayConfig, load_config


def test_a_disabled_servers_tools_leave_the_groups_that_name_them(tmp_path: Path) -> None:
    path = tmp_path / "gateway.json"
    path.write_text(json.dumps({
        "mcpServers": {"a": {"command": "a"}, "b": {"command": "b", "disabled": True}},
        "grouping": {"capabilities": {
            "find": {"tools": ["a:search", "b:search"], "description": "Find pages."},
            "only_b": {"tools": ["b:lookup"]},
        }},
    }))  # fmt: skip
    config = load_config(path)
    assert sorted(config.servers) == ["a"]
    assert {name: group.tools for name, group in config.grouping.capabilities.items()} == {"find": ["a:search"]}
    assert config.grouping.capabilities["find"].description == "Find pages."
    # it reads as the servers it serves: dumped and read again, it is the same config
    assert GatewayConfig.model_validate(config.model_dump()) == config
