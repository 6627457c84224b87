"""A request body sent over streamable HTTP without a stated length (chunked) and over the
gateway's bound on a message is refused as one that states its length is: 413 with a JSON-RPC
error naming the limit. It got the SDK's plain-text "Request body too large", which an MCP client
reads as "Server returned an error response". One under the bound is served as it was."""

from __future__ import annotations

import json
import socket

import anyio
import mcp_types as types
import pytest

from integrations.mcp import gateway as gateway_module
from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway
from mcp_harness import free_port, serving_here

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

LIMIT = 1000


def post_chunked(port: int, body: bytes) -> tuple[bytes, bytes]:
    """The status line and the body of the answer to a POST of ``body`` in chunks of 100 bytes,
    sent in one write (the server has it all when it answers: closing with some of it unread, it
    would reset the connection, the answer perhaps lost)."""
    head = f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\n"
    head += "Accept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunks = [body[start : start + 100] for start in range(0, len(body), 100)]
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(head.encode() + b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n")
        answer = b""
        while chunk := conn.recv(65536):  # until the server closes the connection
            answer += chunk
    head_bytes, _, answer_body = answer.partition(b"\r\n\r\n")
    return head_bytes.split(b"\r\n")[0], answer_body


def initialize(padding: int) -> bytes:
    params = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "x" * padding, "version": "1"}}
    return json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}).encode()


async def test_a_chunked_body_over_the_limit_is_refused_naming_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gateway_module, "_MAX_MESSAGE_BYTES", LIMIT)
    port = free_port()
    gateway = Gateway(GatewayConfig.model_validate({"mcpServers": {"down": {"command": "false"}}}))
    async with serving_here(gateway, port=port):
        under = initialize(LIMIT - 300)
        assert len(under) <= LIMIT
        status, body = await anyio.to_thread.run_sync(post_chunked, port, under)
        assert b" 200 " in status and b'"serverInfo"' in body  # read whole, and served
        status, body = await anyio.to_thread.run_sync(post_chunked, port, initialize(3 * LIMIT))
    assert b" 413 " in status
    error = json.loads(body)["error"]
    assert error["code"] == types.INVALID_REQUEST
    assert error["message"] == f"the message is over the gateway's limit of {LIMIT} bytes for one message"
