"""Connecting to an HTTP+SSE server is bounded by its ``connect_timeout_s``, as the other
transports are: a server that takes the TCP connection and never answers, or opens the event
stream and never sends its endpoint, is down naming the bound, where the connect hung for the
stream's read timeout (300 s) and the gateway's start with it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import anyio
import pytest

from integrations.mcp import McpBackends, ServerConfig
from toolrouter import ToolMiddleware

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

EVENT_STREAM = b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-store\r\n\r\n"


@pytest.fixture
def silent_port() -> Iterator[tuple[int, list[bytes]]]:
    """A port on 127.0.0.1 that takes connections and never answers; a request it reads whose
    path ends in ``/stream`` gets the head of an event stream, and no event."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    requests: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)
            request = conn.recv(65536)
            requests.append(request)
            if request.split(b" ", 2)[1:2] == [b"/stream"]:
                conn.sendall(EVENT_STREAM)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], requests
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the accept (close alone does not)
        listener.close()
        for conn in held:
            conn.close()
        thread.join(timeout=5)


@pytest.mark.parametrize("path", ["/sse", "/stream"])
async def test_an_sse_server_that_never_answers_is_down_after_connect_timeout_s(
    silent_port: tuple[int, list[bytes]], path: str
) -> None:
    port, requests = silent_port
    mute = ServerConfig(type="sse", url=f"http://127.0.0.1:{port}{path}", connect_timeout_s=0.3)
    with anyio.fail_after(10):  # the connect hung for 300 s
        async with McpBackends(ToolMiddleware(seed=0), {"mute": mute}) as mcp:
            upstream = mcp.upstreams["mute"]
            assert requests and requests[0].startswith(f"GET {path} ".encode())
            assert (upstream.state, upstream.connections) == ("down", 0)
            assert upstream.last_error == (
                "TimeoutError: no answer to opening the connection within connect_timeout_s (0.3 s)"
            )
            result = await mcp.call("search", {"query": "q"})
            assert result.is_error and result.content[0].text.startswith("unknown tool 'search'")
