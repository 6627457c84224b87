"""A bad ``retry`` of ``route``, or ``config`` of the middleware and the plan executor, is refused
naming the argument, each wrong field under it and the value given there: pydantic's "validation
error for RetryPolicy" named no argument."""

from __future__ import annotations

import pytest

from toolrouter import PlanExecutor, ToolMiddleware


def search(query: str) -> str:
    return query


@pytest.mark.parametrize(
    "retry, error, message",
    [
        ({"max_retries": -1}, ValueError, r"^retry\.max_retries: Input should be greater than or equal to 0 \(got -1\)$"),
        ({"retries": 2}, ValueError, r"^retry\.retries: Extra inputs are not permitted \(got 2\)$"),
        (3, TypeError, r"^retry: expected RetryPolicy\(\.\.\.\) or a mapping of its fields, got 3$"),
    ],
)
def test_a_bad_retry_is_refused_naming_it(retry, error, message) -> None:  # type: ignore[no-untyped-def]
    tools = ToolMiddleware(seed=0)
    tools.register(search, "search")
    with pytest.raises(error, match=message):
        tools.route("search", retry=retry)
    assert tools.route("search", retry={"max_retries": 2}).config.retry.max_retries == 2


@pytest.mark.parametrize("make", [lambda config: ToolMiddleware(seed=0, config=config), lambda config: PlanExecutor({}, config=config)])
def test_a_bad_config_is_refused_naming_it(make) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match=r"^config\.retry\.max_retries: Input should be greater than or equal to 0 \(got -1\)$"):
        make({"retry": {"max_retries": -1}})
    with pytest.raises(TypeError, match=r"^config: expected ExecutorConfig\(\.\.\.\) or a mapping of its fields, got 30$"):
        make(30)
    assert make({"timeout_s": 5}).config.timeout_s == 5

