"""A half-open circuit's probe whose attempt could not be recorded (the caller's record raised: a
store error, a Ctrl-C in a callback) ended without a verdict: its place is freed. It stayed
taken, so every later call skipped the tool as "circuit open", for good."""

from __future__ import annotations

import time

import pytest

from toolrouter import CircuitBreakerConfig, ExecutorConfig, ToolMiddleware
from toolrouter.attempts import Binding, CallSpec, CircuitBreakers, attempt_loop
from toolrouter.executor import PlanExecutor, RetryPolicy
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

BREAKER = CircuitBreakerConfig(failure_threshold=1, reset_timeout_s=10.0)
CONFIG = ExecutorConfig(timeout_s=5.0, retry=RetryPolicy(max_retries=0), circuit_breaker=BREAKER)


def test_a_plan_probe_cut_by_its_callback_frees_its_place() -> None:
    now = [0.0]
    up = [False]

    def tool(request):
        if not up[0]:
            raise ConnectionError("down")
        return "up"

    def interrupt(result):
        raise KeyboardInterrupt

    plan = assign_tools(build_task_graph([TaskStep(step_id="s", capability="s")]), {"s": [Candidate("t", 0.9)]})
    with PlanExecutor({"t": tool}, CONFIG, clock=lambda: now[0]) as ex:
        assert not ex.run(plan).succeeded
        now[0], up[0] = 10.0, True  # half-open: one probe may go
        with pytest.raises(KeyboardInterrupt):
            ex.run(plan, on_attempt=interrupt)
        run = ex.run(plan)
    assert run.outputs == {"s": "up"} and run.steps["s"].skipped_tools == []


def test_a_routed_probe_whose_record_failed_frees_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    up = [False]

    def tool():
        if not up[0]:
            raise ConnectionError("down")
        return "up"

    quick = CONFIG.model_copy(update={"circuit_breaker": BREAKER.model_copy(update={"reset_timeout_s": 0.01})})
    with ToolMiddleware(store="memory://", seed=0, config=quick) as mw:
        mw.register(tool, "x", tool_id="t")
        routed = mw.route("x", trace_id="request-1")
        with pytest.raises(Exception, match="1 tool failed"):
            routed()
        time.sleep(0.02)  # its reset time has passed: one probe may go
        up[0] = True
        record = mw.learner.record_attempt

        def unavailable(*args, **kwargs):
            monkeypatch.setattr(mw.learner, "record_attempt", record)  # only this once
            raise OSError("store unavailable")

        monkeypatch.setattr(mw.learner, "record_attempt", unavailable)
        with pytest.raises(OSError):
            mw.route("x", trace_id="request-2")()
        assert mw.route("x", trace_id="request-3")() == "up"


def test_a_probe_whose_attempt_loop_is_closed_frees_its_place() -> None:
    now = [10.0]
    breakers = CircuitBreakers(BREAKER, clock=lambda: now[0])
    breakers.get("t").record_failure()  # opened at 10.0
    now[0] = 20.0
    spec = CallSpec(step="s", candidates=["t"], bind=lambda tool, attempt: Binding(lambda: "up"),
                    record=lambda result: None, config=CONFIG, breakers=breakers)
    loop = attempt_loop(spec)
    next(loop)  # the probe's try is handed to its driver...
    loop.close()  # ...which is dropped before it ends
    assert breakers.get("t").allow()
