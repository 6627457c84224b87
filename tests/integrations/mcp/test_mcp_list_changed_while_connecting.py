"""A ``notifications/tools/list_changed`` that a server sends while the gateway connects to it
(before its listing is answered) has the tools listed again once connected: it was dropped, the
tool it announced never served; and once the server had been reconnected, such a notification
went to the task group of the connection gone, after which no change of its tools was heard."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import anyio
import pytest

from integrations.mcp import McpBackends, ReconnectPolicy
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

#: A server listing tool ``a`` that, while it answers its first tools/list, adds tool ``b<n>``
#: (``n``: which start of the server this is) and says so before the answer, which lists ``a`` only.
EARLY = """
import json, os, sys
folder = sys.argv[1]
start = len(os.listdir(folder)) + 1
open(os.path.join(folder, f"{os.getpid()}.pid"), "w").write(str(start))
tools = ["a"]
def send(message):
    sys.stdout.write(json.dumps(message) + "\\n")
    sys.stdout.flush()
for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue
    if message["method"] == "initialize":
        version = message["params"]["protocolVersion"]
        result = {"protocolVersion": version, "capabilities": {"tools": {"listChanged": True}},
                  "serverInfo": {"name": "early", "version": "1"}}
    elif message["method"] == "tools/list":
        result = {"tools": [{"name": name, "inputSchema": {"type": "object"}} for name in tools]}
        if tools == ["a"]:
            tools.append(f"b{start}")
            send({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"})
    else:
        result = {"content": [{"type": "text", "text": message["params"]["name"]}]}
    send({"jsonrpc": "2.0", "id": message["id"], "result": result})
"""


async def served(mcp: McpBackends, tool: str) -> None:
    with anyio.fail_after(10):  # it was never served
        while tool not in mcp.capabilities:
            await anyio.sleep(0.02)


async def test_a_change_told_while_connecting_is_listed_once_connected_and_after_a_reconnection(tmp_path: Path) -> None:
    server = {"command": sys.executable, "args": ["-c", EARLY, str(tmp_path)]}
    reconnect = ReconnectPolicy(initial_delay_s=0.05, jitter=0.0)
    async with McpBackends(ToolMiddleware(seed=0), {"early": server}, reconnect=reconnect) as mcp:
        await served(mcp, "b1")
        assert (await mcp.call("b1", {})).content[0].text == "b1"
        [first] = [int(p.stem) for p in tmp_path.glob("*.pid")]
        os.kill(first, signal.SIGKILL)
        await served(mcp, "b2")  # the second start's, announced while reconnecting
        assert mcp.upstreams["early"].connections == 2
