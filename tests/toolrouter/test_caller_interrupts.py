"""A Ctrl-C or an exit while a routed call's tool runs is its caller's interruption: the try is
recorded as cancelled by the caller, not learned from (no count, no breaker failure), and raised."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from toolrouter import CircuitBreakerConfig, ExecutorConfig, ToolMiddleware
from toolrouter.models import CANCELLED_BY_CALLER


def _ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)  # as the terminal sends it: handled in the main thread


@pytest.mark.usefixtures("ctrl_c_raises")
@pytest.mark.parametrize("timeout_s", [None, 5.0])  # None: the tool runs in the calling thread
def test_ctrl_c_while_a_tool_runs_is_the_callers_cancellation(timeout_s: float | None) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    config = ExecutorConfig(timeout_s=timeout_s, circuit_breaker=CircuitBreakerConfig(failure_threshold=1))
    mw = ToolMiddleware(store="memory://", seed=0, config=config)
    interrupted = threading.Event()

    def slow() -> str:
        _ctrl_c()
        interrupted.wait(5.0)  # a worker thread waits until the caller is gone; the calling thread never waits
        return "late"

    mw.register(slow, "x", tool_id="slow", reliability=1.0)
    mw.register(lambda: "backup", "x", tool_id="backup", reliability=0.01)
    try:
        with pytest.raises(KeyboardInterrupt):
            mw.call("x")
    finally:
        interrupted.set()
    assert [(a.tool_id, a.success, a.error) for a in mw.learner.store.attempts()] == [("slow", False, CANCELLED_BY_CALLER)]
    assert mw.learner.tool_statistics()["slow"].calls == 0
    assert mw.breakers["slow"].allow()  # not counted as the tool's failure: its circuit stays closed


def test_an_exit_in_a_tool_is_the_callers() -> None:
    mw = ToolMiddleware(store="memory://", seed=0)

    def exits() -> str:
        raise SystemExit(3)

    mw.register(exits, "x", tool_id="exits", reliability=1.0)
    with pytest.raises(SystemExit):
        mw.call("x")
    assert [(a.tool_id, a.error) for a in mw.learner.store.attempts()] == [("exits", CANCELLED_BY_CALLER)]
    assert mw.learner.tool_statistics()["exits"].calls == 0
