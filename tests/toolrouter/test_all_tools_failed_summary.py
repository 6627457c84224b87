"""``AllToolsFailedError.summary``, what a model reads of a failed call, counts its attempts in words
that read right: one attempt was "1 attempts"."""

from __future__ import annotations

from toolrouter import AllToolsFailedError
from toolrouter.models import ExecutionResult


def _failed(tool_id: str) -> ExecutionResult:
    return ExecutionResult(tool_id=tool_id, step="s", success=False, cost=0.0, latency_s=0.0, error="ConnectionError: down")


def test_one_attempt_is_one_attempt() -> None:
    error = AllToolsFailedError("failed", [_failed("a")])
    assert error.summary("backend") == "every backend failed (1 attempt: a: ConnectionError: down)"


def test_several_attempts_are_attempts() -> None:
    error = AllToolsFailedError("failed", [_failed("a"), _failed("b")], [("c", "circuit open")])
    assert error.summary("server") == (
        "every server failed (2 attempts: a: ConnectionError: down; b: ConnectionError: down); skipped c (circuit open)"
    )
