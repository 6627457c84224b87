"""``AllToolsFailedError`` counts the tools that failed, not their attempts: a tool tried three
times (its retries) was "all 3 tools failed", and a call whose deadline passed before any tool ran
was "all 0 tools failed". One tool is "1 tool failed" (it was "all 1 tools failed")."""

from __future__ import annotations

import pytest

from toolrouter import AllToolsFailedError, ExecutorConfig, RetryPolicy, ToolMiddleware


def down(query: str) -> str:
    raise ConnectionError("down")


def test_retries_of_one_tool_are_attempts_of_one_tool() -> None:
    retry = RetryPolicy(max_retries=2, base_delay_s=0.0)
    tools = ToolMiddleware(seed=0, config=ExecutorConfig(retry=retry, circuit_breaker=None))
    tools.register(down, "search")
    with pytest.raises(AllToolsFailedError, match=r"^capability 'search': 1 tool failed \(3 attempts\): down: ") as info:
        tools.call("search", "q")
    assert len(info.value.attempts) == 3


def test_a_call_that_tried_no_tool_says_so() -> None:
    tools = ToolMiddleware(seed=0)
    tools.register(down, "search")
    with pytest.raises(AllToolsFailedError, match=r"^capability 'search': no tool could be tried; skipped down \(deadline passed\)$"):
        tools.route("search", deadline_s=1e-9).run("q")
