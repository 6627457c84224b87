"""A config made with ``ExecutorConfig.model_copy(update=...)`` (the way to change a frozen one) holds
the update unchecked: the executor checks it as it checks one it is given as a mapping. A timeout
of 0 timed out every try, each learned as the tool's failure; a retry given as a dict failed the
run with an AttributeError."""

import pytest

from toolrouter.executor import CircuitBreakerConfig, ExecutorConfig, PlanExecutor, RetryPolicy
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

TOOLS = {"a": lambda request: "done"}


@pytest.mark.parametrize("update, field", [
    ({"timeout_s": 0}, "timeout_s"),
    ({"tool_timeouts_s": {"a": -1.0}}, "tool_timeouts_s.a"),
    ({"retry": {"base_delay_s": -1.0}}, "retry.base_delay_s"),
    ({"retry": RetryPolicy().model_copy(update={"max_retries": -1})}, "retry.max_retries"),
    ({"circuit_breaker": CircuitBreakerConfig().model_copy(update={"failure_threshold": 0})}, "circuit_breaker.failure_threshold"),
    ({"max_concurrency": 0}, "max_concurrency"),
    ({"timeout": 5.0}, "timeout"),  # a misspelt field, else ignored
])
def test_a_copy_with_a_bad_update_is_refused_naming_the_field(update, field):
    config = ExecutorConfig().model_copy(update=update)
    with pytest.raises(ValueError, match=rf"^config\.{field}: "):
        PlanExecutor(TOOLS, config)


def test_a_copy_with_a_sound_update_runs_by_it():
    plan = assign_tools(build_task_graph([TaskStep(step_id="s", capability="s")]), {"s": [Candidate("a", 0.9)]})
    config = ExecutorConfig().model_copy(update={"retry": {"max_retries": 0}, "timeout_s": 2.0, "circuit_breaker": None})
    with PlanExecutor(TOOLS, config) as executor:
        assert executor.config.retry == RetryPolicy(max_retries=0) and executor.config.timeout_s == 2.0
        assert executor.breakers == {} and executor.run(plan).outputs == {"s": "done"}


def test_another_model_is_refused_as_not_a_config():
    with pytest.raises(TypeError, match="config: expected ExecutorConfig"):
        PlanExecutor(TOOLS, RetryPolicy())
