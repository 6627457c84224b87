"""A learning MCP gateway: many MCP servers behind one, each call routed to the server that serves
it best (``toolrouter mcp serve CONFIG``), and the same for agents that run in-process.

Needs the official MCP Python SDK: ``pip install "toolrouter[mcp]"``; without it, importing this
package raises ``ImportError`` naming the extra.

- ``config``: the gateway's config (TOML or JSON, or an MCP client's ``mcpServers`` JSON).
- ``grouping``: which upstream tools serve one capability, and the one schema the client sees.
- ``upstream``: one upstream server's connection (stdio, streamable HTTP or HTTP+SSE), kept alive
  (reconnected with backoff).
- ``backends``: ``McpBackends``, the upstream tools as backends of a ``ToolMiddleware``: routed,
  falling back, every attempt recorded. In-process agents use it directly.
- ``gateway``: ``Gateway``, the MCP server in front (stdio or streamable HTTP).
- ``cli``: what ``toolrouter mcp serve | tools | stats`` do (the grouping printed, the store's figures
  per capability and server).
"""

from integrations._extras import require

require("mcp", "mcp")

from integrations.mcp.backends import McpBackends  # noqa: E402
from integrations.mcp.config import (  # noqa: E402
    ConfigError,
    ExplicitCapability,
    GatewayConfig,
    GroupingConfig,
    ReconnectPolicy,
    RouterConfig,
    ServerConfig,
    load_config,
)
from integrations.mcp.gateway import Gateway  # noqa: E402
from integrations.mcp.grouping import Capability, GroupingError, UpstreamTool, group_tools  # noqa: E402
from integrations.mcp.upstream import ResultTooLargeError, UpstreamToolError, UpstreamUnavailableError  # noqa: E402

__all__ = [
    "Capability",
    "ConfigError",
    "ExplicitCapability",
    "Gateway",
    "GatewayConfig",
    "GroupingConfig",
    "GroupingError",
    "McpBackends",
    "ReconnectPolicy",
    "ResultTooLargeError",
    "RouterConfig",
    "ServerConfig",
    "UpstreamTool",
    "UpstreamToolError",
    "UpstreamUnavailableError",
    "group_tools",
    "load_config",
]
