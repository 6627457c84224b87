"""The middleware draws its retries' backoff jitter from ``ExecutorConfig.seed``, as a plan
executor does: every middleware drew from one generator seeded 0, whatever its config said, so
``seed=None`` (no two processes in lockstep) and any other seed were ignored."""

from __future__ import annotations

import random
import time

import pytest

from toolrouter import AllToolsFailedError, ExecutorConfig, RetryPolicy, ToolMiddleware

RETRY = RetryPolicy(max_retries=3, base_delay_s=1.0, jitter=1.0)


def down(query: str) -> str:
    raise ConnectionError("down")


def waits(monkeypatch: pytest.MonkeyPatch, seed: int | None) -> list[float]:
    """The backoff waits of one call whose only tool keeps failing."""
    tools = ToolMiddleware(seed=0, config=ExecutorConfig(timeout_s=None, retry=RETRY, seed=seed, circuit_breaker=None))
    tools.register(down, "search")
    slept: list[float] = []
    monkeypatch.setattr(time, "sleep", slept.append)  # the waits asked for, without waiting
    with pytest.raises(AllToolsFailedError):
        tools.call("search", "q")
    monkeypatch.undo()
    return slept


def test_the_backoff_jitter_follows_the_configured_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    assert waits(monkeypatch, 7) == [RETRY.delay_s(k, rng) for k in range(3)]
    assert waits(monkeypatch, None) != waits(monkeypatch, None)  # unseeded: each middleware its own
