"""The gateway's and ``McpBackends``' constructors refuse a wrong argument at once, naming it."""

from __future__ import annotations

import pytest

from integrations.mcp import GatewayConfig, McpBackends
from integrations.mcp.gateway import Gateway
from toolrouter import ToolMiddleware

SERVERS = {"a": {"command": "python", "env": {"API_KEY": "sk-secret"}}}


def test_a_gateway_needs_a_checked_config_and_names_it_without_its_secrets() -> None:
    with pytest.raises(TypeError) as info:
        Gateway({"servers": SERVERS})  # type: ignore[arg-type]
    assert str(info.value) == "config: expected a GatewayConfig (load_config, GatewayConfig.model_validate), got dict"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"grouping": {"by_name": False}}, "grouping: expected a GroupingConfig or None, got {'by_name': False}"),
        ({"reconnect": {"max_delay_s": 1}}, "reconnect: expected a ReconnectPolicy or None, got {'max_delay_s': 1}"),
        ({"router": {"deadline_s": 5}}, "router: expected a RouterConfig or None, got {'deadline_s': 5}"),
        ({"featurizer": "hashing"}, "featurizer: expected a function of a text returning a vector, got 'hashing'"),
    ],
)
def test_mcp_backends_refuse_options_of_the_wrong_type(options: dict, message: str) -> None:
    tools = ToolMiddleware(seed=0)
    with pytest.raises(TypeError) as info:
        McpBackends(tools, SERVERS, **options)
    assert str(info.value) == message
    assert tools.tool_ids == []  # nothing registered


def test_mcp_backends_name_servers_of_the_wrong_type_without_their_secrets() -> None:
    with pytest.raises(TypeError) as info:
        McpBackends(ToolMiddleware(seed=0), [("a", SERVERS["a"])])  # type: ignore[arg-type]
    assert str(info.value) == "servers: expected a GatewayConfig or the servers by name, got list"
    config = GatewayConfig.model_validate({"servers": SERVERS})
    assert McpBackends(ToolMiddleware(seed=0), config).grouping.by_name  # the config's own options
