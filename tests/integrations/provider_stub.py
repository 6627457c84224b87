"""A scripted model-provider server on 127.0.0.1 for offline end-to-end tests of real SDK clients.

``ScriptedProvider(responses)`` answers each POST with the next scripted JSON body (a dict, or a
function of the request body that returns one) and keeps every request body it received. It
serves from a daemon thread, answers 500 once its script is spent, and stops on leaving the
``with`` block.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Scripted = dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]]


class ScriptedProvider:
    """An OpenAI- or Anthropic-compatible stub: scripted answers, recorded requests."""

    def __init__(self, responses: list[Scripted]) -> None:
        self.responses = list(responses)
        self.requests: list[tuple[str, dict[str, Any]]] = []  # (path, JSON body)
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                provider.requests.append((self.path, body))
                if provider.responses:
                    scripted = provider.responses.pop(0)
                    answer, status = (scripted(body) if callable(scripted) else scripted), 200
                else:
                    answer, status = {"error": {"message": "the script is spent"}}, 500
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """The server's root URL."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "ScriptedProvider":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
