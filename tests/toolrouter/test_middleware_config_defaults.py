"""``ToolMiddleware(config=...)``: a mapping updates the middleware's defaults (``MIDDLEWARE_CONFIG``:
no retries, no circuit breakers), and a config model is checked as ``PlanExecutor`` checks it. A
mapping started from ``ExecutorConfig``'s defaults: ``{"timeout_s": 5}`` alone brought a retry of
every failure and circuit breakers that took a tool out; and a model made with
``model_copy(update=...)`` was taken unchecked (a timeout of 0 timed out every try, each learned as
the tool's failure)."""

from __future__ import annotations

import pytest

from toolrouter import AllToolsFailedError, ExecutorConfig, RetryPolicy, ToolMiddleware
from toolrouter.attempts import CircuitBreakerConfig
from toolrouter.learner import ToolMetaLearner
from toolrouter.middleware import MIDDLEWARE_CONFIG


def down(query: str) -> str:
    raise ConnectionError("down")


def test_a_mapping_updates_the_middleware_defaults() -> None:
    with ToolMiddleware(seed=0, config={"timeout_s": 5}) as tools:
        assert tools.config == MIDDLEWARE_CONFIG.model_copy(update={"timeout_s": 5.0})
        tools.register(down, "search")
        for _ in range(4):  # past the default breaker's 3 failures in a row
            with pytest.raises(AllToolsFailedError) as info:
                tools.call("search", "q")
            assert len(info.value.attempts) == 1 and not info.value.skipped  # no retry, no open circuit


def test_a_mapping_may_set_nested_fields_and_a_misspelt_one_is_refused() -> None:
    with ToolMiddleware(seed=0, config={"retry": {"max_retries": 2}}) as tools:
        assert tools.config.retry == RetryPolicy(max_retries=2) and tools.config.circuit_breaker is None
    with pytest.raises(ValueError, match=r"^config\.timeout: "):
        ToolMiddleware(seed=0, config={"timeout": 5})


def test_a_model_replaces_the_defaults_whole() -> None:
    with ToolMiddleware(seed=0, config=ExecutorConfig(timeout_s=5)) as tools:
        assert tools.config == ExecutorConfig(timeout_s=5)


@pytest.mark.parametrize("update, field", [
    ({"timeout_s": 0}, "timeout_s"),
    ({"retry": {"base_delay_s": -1.0}}, "retry.base_delay_s"),
    ({"circuit_breaker": CircuitBreakerConfig().model_copy(update={"failure_threshold": 0})}, "circuit_breaker.failure_threshold"),
    ({"max_concurrency": 0}, "max_concurrency"),
])
def test_a_copy_with_a_bad_update_is_refused_naming_the_field(update: dict, field: str) -> None:
    learner = ToolMetaLearner(seed=0)
    with pytest.raises(ValueError, match=rf"^config\.{field}: "):
        ToolMiddleware(learner, config=MIDDLEWARE_CONFIG.model_copy(update=update))
    assert not learner.closed and not learner.tools  # the router passed in is left as it was
    learner.close()
