"""A tool whose function is unbound (``detach``, ``unregister``) before its call's retry is skipped
there: the retry was recorded as a failure of the tool ("no longer registered") that never ran,
and the router, which keeps a detached tool, learned it."""

from __future__ import annotations

import pytest

from toolrouter import AllToolsFailedError, ExecutorConfig, RetryPolicy, ToolMiddleware


@pytest.mark.parametrize("how", ["detach", "unregister"])
def test_a_tool_unbound_before_its_retry_is_skipped_not_recorded_as_failing(how: str) -> None:
    retry_once = ExecutorConfig(retry=RetryPolicy(max_retries=1, base_delay_s=0.0), circuit_breaker=None)
    tools = ToolMiddleware(seed=0, store="memory://", config=retry_once)

    def flaky() -> str:
        getattr(tools, how)("flaky")  # another thread's, while this try runs
        raise ConnectionError("down")

    tools.register(flaky, "search")
    with pytest.raises(AllToolsFailedError) as failed:
        tools.call("search")
    assert [(a.tool_id, a.error) for a in failed.value.attempts] == [("flaky", "ConnectionError: down")]
    assert failed.value.skipped == [("flaky", "no longer registered")]
    assert [a.error for a in tools.learner.store.attempts()] == ["ConnectionError: down"]
    if how == "detach":  # the router keeps the tool, and what it learned of its one try
        assert tools.learner.tool_statistics()["flaky"].calls == 1
