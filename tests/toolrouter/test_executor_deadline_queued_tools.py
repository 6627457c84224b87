"""A run cut by its deadline while a tool hung in the only worker thread gave that hung call up,
which freed a place for another worker; that worker started the next tool waiting for a thread
before the run's cancellation reached that tool's caller. So tools whose calls were already
cancelled ran after the run was over (side effects and all), and each was recorded as a timeout of
its own: learned as the tool's failure and counted by its circuit breaker. As ``PlanExecutor``
says of ``max_workers``, a try cut by the deadline while it waited for a worker never runs and
records no attempt."""

from __future__ import annotations

import threading

from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy, StepStatus
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph


def test_tools_waiting_for_a_worker_at_the_deadline_never_run() -> None:
    release = threading.Event()
    called = []

    def hung(request):  # type: ignore[no-untyped-def]
        release.wait(5.0)
        return "late"

    def quick(request):  # type: ignore[no-untyped-def]
        called.append(request.step_id)
        return "ok"

    graph = build_task_graph([TaskStep(step_id=s, capability="c") for s in ("a", "b", "c")])
    plan = assign_tools(graph, {"a": [Candidate("hung", 0.9)], "b": [Candidate("quick", 0.9)], "c": [Candidate("quick", 0.9)]})
    config = ExecutorConfig(retry=RetryPolicy(max_retries=0))
    try:
        with PlanExecutor({"hung": hung, "quick": quick}, config, max_workers=1) as executor:
            run = executor.run(plan, deadline_s=0.1)
            breaker = executor.breaker("quick")
    finally:
        release.set()
    assert [(a.step, a.tool_id) for a in run.attempts] == [("a", "hung")]
    assert "deadline" in run.attempts[0].error
    assert called == [] and breaker.consecutive_failures == 0
    assert set(run.statuses().values()) == {StepStatus.CANCELLED}
