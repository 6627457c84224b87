"""A try cut by the run's deadline (or its caller's cancellation) while its tool ran was recorded
with the time since the attempt loop asked for it, the wait for a worker thread or for a place
under ``max_concurrency`` included: a tool that had run 0.1 s after waiting 0.2 s for its turn was
learned as a timeout of 0.3 s. As every other try, it now counts from when its tool started."""

from __future__ import annotations

import threading
import time

import pytest

from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph


@pytest.mark.parametrize("limit", [{"max_workers": 1}, {"config": {"max_concurrency": 1}}])
def test_a_try_cut_by_the_deadline_counts_from_its_start(limit: dict) -> None:
    release = threading.Event()
    started: dict[str, float] = {}

    def hung(request):  # type: ignore[no-untyped-def]
        started[request.step_id] = time.perf_counter()
        release.wait(5.0)
        return "late"

    graph = build_task_graph([TaskStep(step_id=s, capability="c") for s in ("first", "second")])
    plan = assign_tools(graph, {s: [Candidate("hung", 0.9)] for s in graph})
    # the first try times out and frees its turn for the second, which the deadline then cuts
    config = {"timeout_s": 0.2, "retry": RetryPolicy(max_retries=0), **limit.get("config", {})}
    try:
        with PlanExecutor({"hung": hung}, ExecutorConfig(**config), max_workers=limit.get("max_workers", 16)) as executor:
            run = executor.run(plan, deadline_s=0.3)
            ended = time.perf_counter()
    finally:
        release.set()
    second = next(a for a in run.attempts if a.step == "second")
    assert "deadline" in second.error
    # bounded by the time from the tool's start to the run's end, not by the wait before it
    assert second.latency_s <= ended - started["second"] + 0.05
