"""A middleware's or an executor's ``config`` is fixed when it is made: their circuit breakers and
backoff jitter are built from it, so a config assigned later applied in part (a middleware made
without breakers and given ``failure_threshold=1`` later kept counting to the default 3, its
breakers made with the default). Assigning one now raises ``AttributeError`` naming ``config``,
and the config in use is left as it was."""

from __future__ import annotations

import pytest

from toolrouter import ExecutorConfig, ToolMiddleware
from toolrouter.attempts import CircuitBreakerConfig
from toolrouter.executor import PlanExecutor

OTHER = ExecutorConfig(circuit_breaker=CircuitBreakerConfig(failure_threshold=1))


def test_a_middleware_config_cannot_be_replaced() -> None:
    with ToolMiddleware(seed=0, config={"timeout_s": 5}) as tools:
        before = tools.config
        with pytest.raises(AttributeError, match="config"):
            tools.config = OTHER
        assert tools.config is before


def test_an_executor_config_cannot_be_replaced() -> None:
    with PlanExecutor({"a": lambda request: "done"}) as executor:
        before = executor.config
        with pytest.raises(AttributeError, match="config"):
            executor.config = OTHER
        assert executor.config is before
