"""A run is cancelled from another thread by a ``threading.Event``: synchronous code (``run``,
``execute``) holds its thread, and an ``asyncio.Event`` cannot be set from another one."""

from __future__ import annotations

import threading

from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy, RunStatus, StepStatus
from toolrouter.learner import ToolMetaLearner
from toolrouter.models import CANCELLED_BY_CALLER, TaskProfile, TaskStep, ToolProfile
from toolrouter.planner import Candidate, assign_tools, build_task_graph

CONFIG = ExecutorConfig(timeout_s=5.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None)


def test_execute_is_cancelled_by_a_threading_event_set_from_another_thread() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"]),
                              ToolProfile(tool_id="gpt", capabilities=["llm"])], seed=0, store="memory://")
    stop, release = threading.Event(), threading.Event()

    def web(request):
        threading.Timer(0.05, stop.set).start()  # the user gives up while the search runs
        release.wait(5)
        return "pages"

    router.functions.update(web=web, gpt=lambda request: "answer")
    task = TaskProfile(task_id="t", steps=[TaskStep(step_id="search", capability="search"),
                                           TaskStep(step_id="write", capability="llm", depends_on=["search"])])
    try:
        execution = router.execute(task, cancel_event=stop, config=CONFIG)
    finally:
        release.set()
    assert execution.status is RunStatus.CANCELLED
    assert execution.run.statuses() == {"search": StepStatus.CANCELLED, "write": StepStatus.CANCELLED}
    (attempt,) = execution.run.attempts
    assert attempt.error == CANCELLED_BY_CALLER and router.store.count() == 1
    assert router.tool_statistics()["web"].calls == 0  # the caller's choice: not learned


def test_a_threading_event_set_before_the_run_starts_no_step() -> None:
    plan = assign_tools(build_task_graph([TaskStep(step_id="search", capability="search")]), {"search": [Candidate("web", 0.9)]})
    called = []
    stop = threading.Event()
    stop.set()
    with PlanExecutor({"web": lambda request: called.append(1)}, CONFIG) as executor:
        run = executor.run(plan, cancel_event=stop)
    assert run.status is RunStatus.CANCELLED and run.attempts == [] and called == []
