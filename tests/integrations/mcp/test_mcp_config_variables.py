"""A config file's server settings name environment variables as MCP clients' configs do:
``${NAME}``, ``${NAME:-default}`` (unset or empty), ``$${`` for a literal ``${``; in command, args,
cwd, url and the values of env and headers. An unset variable without a default is a
ConfigError naming it, the server and the setting; they went to the server as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from integrations.mcp import ConfigError, load_config


@pytest.fixture(autouse=True)
def variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TR_TEST_KEY", "sk-secret")
    monkeypatch.setenv("TR_TEST_EMPTY", "")
    monkeypatch.delenv("TR_TEST_UNSET", raising=False)


def test_variables_are_expanded_in_a_clients_json_config(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    files = {
        "command": "${TR_TEST_UNSET:-npx}",
        "args": ["--key=${TR_TEST_KEY}", "${TR_TEST_EMPTY:-fallback}", "${TR_TEST_EMPTY}", "$${TR_TEST_KEY}", "a$b"],
        "env": {"API_KEY": "${TR_TEST_KEY}", "MODE": "${TR_TEST_UNSET:-}"},
        "cwd": "${TR_TEST_UNSET:-work}",
    }
    remote = {"url": "http://${TR_TEST_UNSET:-127.0.0.1}:9000/mcp", "headers": {"Authorization": "Bearer ${TR_TEST_KEY}"}}
    path.write_text(json.dumps({"mcpServers": {"files": files, "remote": remote}}))
    servers = load_config(path).servers
    assert servers["files"].command == "npx"
    assert servers["files"].args == ["--key=sk-secret", "fallback", "", "${TR_TEST_KEY}", "a$b"]
    assert servers["files"].env == {"API_KEY": "sk-secret", "MODE": ""}
    assert servers["files"].cwd == str(tmp_path / "work")
    assert servers["remote"].url == "http://127.0.0.1:9000/mcp"
    assert servers["remote"].headers == {"Authorization": "Bearer sk-secret"}


def test_variables_are_expanded_in_a_toml_config(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text('[servers.search]\ncommand = "search-server"\nenv = { SEARCH_API_KEY = "${TR_TEST_KEY}" }\n')
    assert load_config(path).servers["search"].env == {"SEARCH_API_KEY": "sk-secret"}


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"command": "x", "env": {"API_KEY": "${TR_TEST_UNSET}"}},
         "servers.search.env.API_KEY: the environment variable 'TR_TEST_UNSET' is not set (give it, or a default: "
         "${TR_TEST_UNSET:-default})"),
        ({"url": "http://h/mcp", "headers": {"X-Key": "${TR_TEST_UNSET}"}},
         "servers.search.headers.X-Key: the environment variable 'TR_TEST_UNSET' is not set"),
        ({"command": "x", "args": ["ok", "${TR_TEST_UNSET}"]},
         "servers.search.args.1: the environment variable 'TR_TEST_UNSET' is not set"),
        ({"command": "x", "args": ["${TR TEST}"]}, "servers.search.args.0: '${' starts no variable"),
        ({"command": "${TR_TEST_UNSET:-${TR_TEST_KEY}}"}, "servers.search.command: '${' starts no variable"),
    ],
)  # fmt: skip
def test_an_unset_variable_or_a_broken_reference_is_a_config_error_naming_it(
    tmp_path: Path, server: dict[str, object], message: str
) -> None:
    path = tmp_path / "gateway.json"
    server = {**server, "env": {**server.get("env", {}), "OTHER": "${TR_TEST_KEY}"}} if "command" in server else server
    path.write_text(json.dumps({"servers": {"search": server}}))
    with pytest.raises(ConfigError, match="^" + re.escape(f"{path}: ")) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert "sk-secret" not in str(caught.value)


def test_a_disabled_server_may_name_a_variable_that_is_unset(tmp_path: Path) -> None:
    # disabled for want of its key: the config loads, the server left out
    path = tmp_path / "mcp.json"
    servers = {
        "github": {"command": "gh-server", "env": {"TOKEN": "${TR_TEST_UNSET}"}, "disabled": True},
        "files": {"command": "files-server", "env": {"KEY": "${TR_TEST_KEY}"}},
    }
    path.write_text(json.dumps({"mcpServers": servers}))
    config = load_config(path)
    assert list(config.servers) == ["files"] and config.servers["files"].env == {"KEY": "sk-secret"}
