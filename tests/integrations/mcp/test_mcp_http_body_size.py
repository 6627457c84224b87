"""A request to the gateway may have as many bytes over streamable HTTP as over stdio: the MCP SDK's
default bound on a body (4 MiB) answered a call with 5 MiB of arguments with 413, where over
stdio a message may have 64 MiB. A larger one is refused, as over stdio, with an error naming
its size and the limit (the SDK's 413 said only "Request body too large")."""

from __future__ import annotations

import json
import socket

import anyio
import mcp_types as types
import pytest

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import _MAX_MESSAGE_BYTES, Gateway
from mcp_harness import free_port, serving_here

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


def gateway() -> Gateway:
    return Gateway(GatewayConfig.model_validate({"mcpServers": {"down": {"command": "false"}}}))


async def test_a_call_over_4_mib_is_taken_over_http_as_over_stdio() -> None:
    text = "a" * (5 * 1024 * 1024)
    assert len(text) < _MAX_MESSAGE_BYTES
    async with serving_here(gateway()) as (session, _):
        result = await session.call_tool("search", {"text": text})
    # read and answered by the gateway (no server serves the tool), not refused as too large
    assert result.is_error and "search" in result.content[0].text


def post_declaring(port: int, size: int) -> tuple[bytes, bytes]:
    """The status line and the body of the answer to a POST that declares ``size`` bytes and sends none."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        head = f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        conn.sendall(f"{head}Accept: application/json, text/event-stream\r\nContent-Length: {size}\r\n\r\n".encode())
        answer = b""
        while chunk := conn.recv(65536):  # until the server closes the connection
            answer += chunk
    head_bytes, _, body = answer.partition(b"\r\n\r\n")
    return head_bytes.split(b"\r\n")[0], body


async def test_a_body_over_the_limit_is_refused_naming_its_size_and_the_limit() -> None:
    port = free_port()
    size = _MAX_MESSAGE_BYTES + 1
    async with serving_here(gateway(), port=port):
        status, body = await anyio.to_thread.run_sync(post_declaring, port, size)
    assert b" 413 " in status
    error = json.loads(body)["error"]
    assert error["code"] == types.INVALID_REQUEST
    assert error["message"] == f"the message is {size} bytes, over the gateway's limit of {_MAX_MESSAGE_BYTES} bytes for one message"
