"""A tool skipped without a try (its circuit open) leaves its place under ``max_attempts`` to the
next one: a call capped at one tool whose first-ranked tool's circuit was open failed with no
attempt ("all 0 tools failed") while a healthy tool went untried, and the router, hearing of no
attempt, kept ranking the broken tool first until its circuit closed."""

from __future__ import annotations

import pytest

from toolrouter import AllToolsFailedError, CircuitBreakerConfig, ExecutorConfig, ToolMiddleware


def down(query: str) -> str:
    raise ConnectionError("down")


def test_a_call_capped_at_one_tool_calls_the_next_when_the_first_circuit_is_open() -> None:
    config = ExecutorConfig(retry={"max_retries": 0}, circuit_breaker=CircuitBreakerConfig(failure_threshold=1, reset_timeout_s=600))
    tools = ToolMiddleware(seed=0, config=config, max_attempts=1)
    tools.register(down, "search", reliability=0.99)
    tools.register(lambda query: query, "search", tool_id="backup", reliability=0.3)
    with pytest.raises(AllToolsFailedError) as info:
        tools.call("search", "q")  # the first-ranked tool fails: its circuit opens
    assert [a.tool_id for a in info.value.attempts] == ["down"]
    assert info.value.skipped == [("backup", "max attempts reached")]
    outcome = tools.route("search").run("q")
    assert (outcome.value, [a.tool_id for a in outcome.attempts]) == ("q", ["backup"])


def test_the_tools_past_the_cap_are_still_skipped_when_one_was_skipped_untried() -> None:
    config = ExecutorConfig(retry={"max_retries": 0}, circuit_breaker=CircuitBreakerConfig(failure_threshold=1, reset_timeout_s=600))
    tools = ToolMiddleware(seed=0, config=config, max_attempts=1)
    for name, reliability in (("first", 0.99), ("second", 0.5), ("third", 0.01)):
        tools.register(down, "search", tool_id=name, reliability=reliability)
    tools._breakers.get("first").record_failure()  # down, as its breaker has seen
    with pytest.raises(AllToolsFailedError) as info:
        tools.call("search", "q")
    assert [a.tool_id for a in info.value.attempts] == ["second"]
    assert info.value.skipped == [("first", "circuit open"), ("third", "max attempts reached")]
