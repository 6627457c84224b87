"""The gateway's config: TOML and JSON (the ``mcpServers`` shape of MCP clients), paths resolved
against the config's folder, and every mistake named with its field and value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import integrations.mcp.config as config_module
from integrations.mcp.backends import McpBackends
from integrations.mcp.config import ConfigError, GatewayConfig, ReconnectPolicy, load_config, split_tool_ref
from mcp_harness import config_error
from toolrouter import ToolMiddleware

TOML = """
[servers.search_a]
command = "python"
args = ["a.py"]
cwd = "servers"
timeout_s = 5

[servers.search_b]
url = "http://127.0.0.1:8765/mcp"
start = "lazy"

[router]
policy = "lin_ts"
store = "sqlite:///state/gateway.db"
deadline_s = 12

[grouping]
by_description = true
similarity_threshold = 0.7

[grouping.capabilities.web_search]
tools = ["search_a:search", "search_b:web_query"]
description = "Search the web."
"""


def test_a_toml_config_is_read_with_paths_relative_to_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(TOML)
    config = load_config(path)
    a, b = config.servers["search_a"], config.servers["search_b"]
    assert (a.transport, a.args, a.timeout_s, a.cwd) == ("stdio", ["a.py"], 5.0, str(tmp_path / "servers"))
    assert (b.transport, b.start, b.timeout_s) == ("http", "lazy", 30.0)
    assert config.router.store == f"sqlite:///{tmp_path / 'state' / 'gateway.db'}"
    assert (config.router.policy, config.router.deadline_s) == ("lin_ts", 12.0)
    assert config.grouping.capabilities["web_search"].tools == ["search_a:search", "search_b:web_query"]
    assert config.grouping.by_description and config.grouping.similarity_threshold == 0.7


def test_an_mcp_clients_json_config_is_accepted_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "claude_desktop_config.json"
    path.write_text(json.dumps({"mcpServers": {
        "files": {"command": "npx", "args": ["-y", "files-server"], "env": {"ROOT": "/data"}},
        "remote": {"type": "streamable-http", "url": "https://tools.example.test/mcp", "headers": {"Authorization": "x"}},
        "old": {"command": "old-server", "disabled": True},
        "notes": {"command": "notes-server", "autoApprove": ["read"], "alwaysAllow": ["list"]},  # client-side prompts
    }}))  # fmt: skip
    config = load_config(path)
    assert sorted(config.servers) == ["files", "notes", "remote"]  # a disabled server is left out
    assert config.servers["files"].env == {"ROOT": "/data"}
    assert config.router.store is None and config.router.policy == "gaussian_ts"
    assert config.router.circuit_breaker is not None and config.router.circuit_breaker.failure_threshold == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"servers": {"a": {"command": "x", "url": "http://h/mcp"}}}, "servers.a: give either command"),
        ({"servers": {"a": {}}}, "servers.a: give either command"),
        ({"servers": {"a": {"comand": "x"}}}, "servers.a.comand: not a known setting"),
        ({"servers": {"a": {"command": "x", "timeout_s": 0}}}, "servers.a.timeout_s: Input should be greater than 0 (got 0)"),
        ({"servers": {"a": {"command": "x", "cost_per_use": float("inf")}}},
         "servers.a.cost_per_use: Input should be a finite number (got Infinity)"),
        ({"servers": {"a b": {"command": "x"}}}, "server name 'a b'"),
        ({"servers": {"a": {"url": "ftp://h"}}}, "url: expected an http:// or https:// URL with a host, got 'ftp://h'"),
        ({"servers": {"a": {"type": "stdio", "url": "http://h/mcp"}}}, "type 'stdio' does not fit a server with url"),
        ({"servers": {}}, "no server to route to"),
        ({"servers": {"a": {"command": "x"}}, "router": {"policy": "nope"}}, "router.policy: unknown policy 'nope'"),
        ({"servers": {"a": {"command": "x"}}, "router": {"seed": -1}}, "router.seed: Input should be greater than or equal to 0 (got -1)"),
        ({"servers": {"a": {"command": "x"}}, "router": {"policy_options": {"window": 0}}},
         "router: policy_options: window: expected an integer >= 1, got 0"),
        ({"servers": {"a": {"command": "x"}}, "router": {"policy": "lin_ts", "policy_options": {"nope": 1}}},
         "router: policy_options: options: lin_ts does not accept ['nope'] (it takes ['context_dim', "),  # not the context_dim it adds
        ({"servers": {"a": {"command": "x"}}, "router": {"seed": True}}, "router.seed: Input should be a valid integer (got true)"),
        ({"servers": {"a": {"command": "x"}}, "router": {"policy": "lin_ts", "policy_options": {"context_dim": 8}}},
         "router: policy_options: context_dim is the featurizer's ('hashing'), not an option; got 8"),
        ({"servers": {"a": {"command": "x"}}, "servers2": {}}, "servers2: not a known setting"),
        ({"servers": {"a": {"command": "x"}}, "grouping": {"capabilities": {"s": {"tools": ["a-search"]}}}},
         "tool reference 'a-search': expected 'server:tool'"),
        ({"servers": {"a": {"command": "x"}}, "grouping": {"capabilities": {"s": {"tools": ["b:search"]}}}},
         "tool 'b:search' names server 'b', which is not among the servers ['a']"),
        ({"servers": {"a": {"command": "x"}}, "grouping": {"capabilities": {"s": {"tools": ["a:x"]}, "t": {"tools": ["a:x"]}}}},
         "tool 'a:x' is in two capabilities, 's' and 't'"),
        ({"servers": {"a": {"command": "x"}}, "mcpServers": {}}, "give servers or mcpServers, not both"),
    ],
)  # fmt: skip
def test_a_mistake_names_the_field_and_the_value(tmp_path: Path, data: dict, message: str) -> None:
    path, error = config_error(tmp_path, data)
    assert error.startswith(f"{path}: ")
    assert message in error


def test_a_config_that_is_not_a_table_is_named_once() -> None:
    # the whole config has no field of its own: the source names it, once
    with pytest.raises(ConfigError) as info:
        config_module.check_config([], source="gateway.json")
    assert str(info.value).startswith("gateway.json: Input should be a valid dictionary")


@pytest.mark.parametrize(
    "server",
    [
        {"command": "x", "url": "http://h/mcp", "env": {"API_KEY": "sk-secret"}, "headers": {"Authorization": "tok-secret"}},
        {"command": "x", "env": {"API_KEY": 5, "OTHER": "sk-secret"}},
        {"command": "x", "env": "API_KEY=sk-secret"},
        {"url": "http://h/mcp", "headers": {"Authorization": ["tok-secret"]}},
    ],
)
def test_a_mistake_does_not_show_the_values_of_env_or_headers(tmp_path: Path, server: dict) -> None:
    # MCP clients keep the gateway's stderr in their logs: secrets must not reach it
    _, error = config_error(tmp_path, {"servers": {"a": server}})
    assert "servers.a" in error and "secret" not in error
    with pytest.raises(ConfigError) as info:  # the servers of an in-process McpBackends too
        McpBackends(ToolMiddleware(seed=0), {"a": server})
    assert str(info.value).startswith("McpBackends: servers.a") and "secret" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("g.toml", "[servers.a\ncommand = 1", "not valid TOML"),
        ("g.json", "{", "not valid JSON"),
        ("g.yaml", "servers: {}", "expected a .toml or .json file, got suffix '.yaml'"),
        ("g.json", "[1]", "expected a table of settings at the top, got list"),
        ("g.toml", "\udcff[servers.a]", r"not UTF-8 text \(byte 0xff at offset 0\)"),
    ],
)
def test_an_unreadable_file_is_named(tmp_path: Path, name: str, text: str, message: str) -> None:
    (tmp_path / name).write_text(text, errors="surrogateescape")  # \udcff: the byte 0xff
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path / name)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize("name, text", [("g.toml", '[servers.a]\ncommand = "x"\n'), ("g.json", '{"servers": {"a": {"command": "x"}}}')])
def test_a_byte_order_mark_before_the_settings_is_not_content(tmp_path: Path, name: str, text: str) -> None:
    (tmp_path / name).write_text("\ufeff" + text, encoding="utf-8")
    assert load_config(tmp_path / name).servers["a"].command == "x"


def test_reconnection_backs_off_to_its_cap() -> None:
    policy = ReconnectPolicy(initial_delay_s=0.5, multiplier=2, max_delay_s=3, jitter=0)
    assert [policy.delay_s(n, 0.0) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    jittered = ReconnectPolicy(initial_delay_s=1, jitter=0.5)
    assert jittered.delay_s(1, 0.0) == 0.5 and jittered.delay_s(1, 0.999) == pytest.approx(0.9995)


def test_tool_references() -> None:
    assert split_tool_ref("srv:ns:tool") == ("srv", "ns:tool")
    for bad in ("tool", ":tool", "srv:", 3):
        with pytest.raises(ValueError, match="expected 'server:tool'"):
            split_tool_ref(bad)  # type: ignore[arg-type]


def test_the_schema_requires_servers() -> None:
    assert GatewayConfig.model_json_schema()["required"] == ["servers"]
