"""A Ctrl-C that comes while a try's value is judged (its quality function runs in the calling
thread: a slow grader) is the caller's interruption, as one while the tool runs: the try, whose
tool ran and cost, is recorded as cancelled by the caller, then raised. It was recorded nowhere."""

from __future__ import annotations

import asyncio

import pytest

from toolrouter import CircuitBreakerConfig, ExecutorConfig, ToolMiddleware
from toolrouter.models import CANCELLED_BY_CALLER


def interrupted_judge(value: str) -> float:
    raise KeyboardInterrupt  # as a Ctrl-C delivered while the grader runs


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_a_ctrl_c_while_the_value_is_judged_records_the_try_as_cancelled(driver: str) -> None:
    config = ExecutorConfig(circuit_breaker=CircuitBreakerConfig(failure_threshold=1))
    tools = ToolMiddleware(store="memory://", seed=0, config=config)
    tools.register(lambda text: text, "echo", tool_id="echo", cost_per_use=2.0, quality=interrupted_judge)
    with pytest.raises(KeyboardInterrupt):
        if driver == "sync":
            tools.call("echo", "hi")
        else:
            asyncio.run(tools.acall("echo", "hi"))
    attempts = tools.learner.store.attempts()
    assert [(a.tool_id, a.success, a.error, a.cost) for a in attempts] == [("echo", False, CANCELLED_BY_CALLER, 2.0)]
    assert tools.learner.tool_statistics()["echo"].calls == 0  # not learned from: the caller's choice
    assert tools.breakers["echo"].allow()  # nor the tool's failure
