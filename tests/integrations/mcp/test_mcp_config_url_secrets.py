"""A server's URL may carry a key (``?token=...``, a password before the host): a config error
quotes it with the password and the query's values masked, as it hides the values of ``env`` and
``headers``, since the gateway's stderr ends in its client's logs. It was quoted whole."""

from __future__ import annotations

import pytest

from integrations.mcp import ConfigError
from integrations.mcp.config import check_config


@pytest.mark.parametrize(
    ("server", "message"),
    [
        ({"url": "https://gw:pw1@h/mcp?token=key1&team=key2", "args": ["x"]}, "args is a setting of a stdio server"),
        ({"url": "ftp://gw:pw1@h/mcp?token=key1&team=key2"}, "url: expected an http:// or https:// URL with a host"),
    ],
)
def test_a_server_urls_password_and_query_values_are_masked_in_a_config_error(server, message) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        check_config({"mcpServers": {"a": server}}, "gateway.json")
    text = str(info.value)
    assert not any(secret in text for secret in ("pw1", "key1", "key2"))
    assert "gw:***@h/mcp?token=***&team=***" in text
