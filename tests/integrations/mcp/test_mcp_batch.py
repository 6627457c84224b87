"""A JSON-RPC batch sent to the gateway over stdio is answered: the SDK takes no batch (MCP
allowed them in protocol 2025-03-26 only) and dropped the line, its client waiting for ever."""

from __future__ import annotations

import json
from typing import Any

import mcp_types as types

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway, _DirectAnswers


class Written:
    """What the gateway writes to its client, line by line."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def send(self, text: str) -> None:
        self.lines.append(text)


def test_each_request_of_a_batch_gets_an_invalid_request_error_in_one_array() -> None:
    gateway = Gateway(GatewayConfig.model_validate({"mcpServers": {"a": {"command": "x"}}}))
    out = Written()
    answers = _DirectAnswers(gateway, out)  # type: ignore[arg-type]
    try:
        batch = [
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "search", "arguments": {}}},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},  # a notification: no answer
            {"jsonrpc": "2.0", "id": "two", "method": "tools/list"},
            {"jsonrpc": "2.0", "id": 3, "result": {}},  # a response: no answer
        ]
        line = json.dumps(batch) + "\n"
        assert not answers.take(line)  # not a call the gateway answers itself
        assert answers.refuse_malformed(line)  # kept from the SDK, which would drop it unanswered
        assert answers.refuse_malformed("[]\n") and answers.refuse_malformed('[{"jsonrpc": "2.0", "method": "m"}]\n')
        assert len(out.lines) == 1 and out.lines[0].endswith("\n")  # nothing to answer in the other two
        replies: list[Any] = json.loads(out.lines[0])
        assert [(r["jsonrpc"], r["id"], r["error"]["code"]) for r in replies] == [
            ("2.0", 1, types.INVALID_REQUEST),
            ("2.0", "two", types.INVALID_REQUEST),
        ]
        assert "no JSON-RPC batch" in replies[0]["error"]["message"]
    finally:
        gateway.middleware.close()
