"""A server that could never be started or reached as configured (no program, a NUL character
for the process, an environment variable name with '=', an HTTP header the HTTP client refuses,
a URL without a host) is a config error naming the server and the setting, values of env and
headers not shown, where each attempt to start it failed (and a refused header's error quoted its
value, a token, into the logs)."""

from __future__ import annotations

import pytest

from integrations.mcp.config import ConfigError, check_config


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"command": ""}, "servers.a.command: expected the name or path of the program to run"),
        ({"command": "  "}, "servers.a.command: expected the name or path of the program to run"),
        ({"command": "x", "args": ["-c", "a\x00b"]}, "servers.a.args: a NUL character cannot be passed to a process"),
        ({"command": "x", "cwd": "a\x00"}, "servers.a.cwd: a NUL character cannot be passed to a process"),
        ({"command": "x", "env": {"KEY=": "sk-secret"}}, "servers.a.env: variable name 'KEY=': not empty, without '='"),
        ({"command": "x", "env": {"": "sk-secret"}}, "servers.a.env: variable name '': not empty"),
        ({"command": "x", "env": {"KEY": "sk-secret\x00"}}, "servers.a.env: the value of 'KEY' has a NUL character"),
        ({"url": "http://h/mcp", "headers": {"X Key": "tok-secret"}}, "servers.a.headers: header name 'X Key': "),
        ({"url": "http://h/mcp", "headers": {"Authorization": "Bearer tok-secret "}},
         "servers.a.headers: the value of header 'Authorization': printable ASCII without spaces at its ends"),
        ({"url": "http://h/mcp", "headers": {"X": "tok-secret\r\nInjected: 1"}}, "the value of header 'X': "),
        ({"url": "http://h/mcp", "headers": {"X": "tok-secrét"}}, "the value of header 'X': "),
        ({"url": "http://"}, "url: expected an http:// or https:// URL with a host, got 'http://'"),
        ({"url": "https:///mcp"}, "url: expected an http:// or https:// URL with a host, got 'https:///mcp'"),
    ],
)  # fmt: skip
def test_a_server_that_could_never_start_is_a_config_error(server: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_config({"servers": {"a": server}}, "gateway.toml")
    assert str(info.value).startswith("gateway.toml: ") and message in str(info.value)
    assert "secret" not in str(info.value)


def test_what_processes_and_http_clients_take_is_accepted() -> None:
    config = check_config({"servers": {
        "a": {"command": "npx", "args": ["-y", "pkg", ""], "env": {"A_B": "x=1", "EMPTY": ""}},
        "b": {"url": "https://h.example:8443/mcp?x=1", "headers": {"Authorization": "Bearer a.b-c", "X-Tab": "a\tb", "X-E": ""}},
    }})  # fmt: skip
    assert config.servers["a"].env == {"A_B": "x=1", "EMPTY": ""}
    assert config.servers["b"].headers["Authorization"] == "Bearer a.b-c"
