"""A setting of the other transport (env, args or cwd for a server reached by url, headers for a
stdio server) is a config error naming it, values of env and headers not shown: it was accepted
and dropped, the server run without the key or token its author meant it to get. Empty ones, as
clients write them, are accepted."""

from __future__ import annotations

import pytest

from integrations.mcp.config import ConfigError, check_config


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"url": "http://h/mcp", "env": {"API_KEY": "sk-secret"}}, "servers.a: env is a setting of a stdio server (command), not of one with url"),
        ({"type": "sse", "url": "http://h/sse", "args": ["--verbose"]}, "servers.a: args is a setting of a stdio server"),
        ({"url": "http://h/mcp", "cwd": "/srv"}, "servers.a: cwd is a setting of a stdio server"),
        ({"command": "x", "headers": {"Authorization": "Bearer tok-secret"}},
         "servers.a: headers is a setting of a server reached by url, not of one with command"),
    ],
)  # fmt: skip
def test_a_setting_of_the_other_transport_is_a_config_error(server: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_config({"servers": {"a": server}}, "gateway.toml")
    assert str(info.value).startswith(f"gateway.toml: {message}")
    assert "secret" not in str(info.value)


def test_empty_settings_of_the_other_transport_are_accepted() -> None:
    servers = {"a": {"url": "http://h/mcp", "args": [], "env": {}}, "b": {"command": "x", "headers": {}}}
    assert {n: s.transport for n, s in check_config({"servers": servers}).servers.items()} == {"a": "http", "b": "stdio"}
