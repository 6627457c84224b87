"""``ExecutorConfig(max_concurrency=N)``: a call waiting for its turn has not reached its tool.
The wait is no latency of the tool, and a call cut while it waits is no attempt of it (it was
recorded, charged and learned as the tool's timeout)."""

from __future__ import annotations

import threading
import time

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy, StepStatus
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

ONE_AT_A_TIME = ExecutorConfig(timeout_s=5.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None, max_concurrency=1)


def test_the_wait_for_a_turn_is_not_counted_in_a_tools_latency() -> None:
    steps = ["a", "b", "c"]
    plan = assign_tools(build_task_graph([TaskStep(step_id=s, capability="c") for s in steps]),
                        {s: [Candidate(s, 0.9)] for s in steps})

    def tool(request):
        time.sleep(0.05)
        return request.step_id

    with PlanExecutor({s: tool for s in steps}, ONE_AT_A_TIME) as executor:
        run = executor.run(plan)

    assert run.succeeded and len(run.attempts) == 3
    # one call at a time: the calls' latencies lie apart within the run. Counting each call's
    # wait for the others, they summed to about twice the run's time (1x + 2x + 3x one call).
    assert sum(a.latency_s for a in run.attempts) <= run.latency_s


def test_a_call_cut_while_it_waits_for_its_turn_is_no_attempt_of_its_tool() -> None:
    router = ToolMetaLearner(
        [ToolProfile(tool_id="busy", capabilities=["a"], cost_per_use=1.0),
         ToolProfile(tool_id="queued", capabilities=["b"], cost_per_use=2.0)],
        seed=0,
    )
    release = threading.Event()
    called: list[str] = []

    def busy(request):
        called.append("busy")
        release.wait(5.0)
        return "late"

    def queued(request):
        called.append("queued")
        return "never"

    router.functions.update(busy=busy, queued=queued)
    task = TaskProfile(task_id="t", steps=[TaskStep(step_id="a", capability="a"), TaskStep(step_id="b", capability="b")])
    try:
        execution = router.execute(task, config=ONE_AT_A_TIME, deadline_s=0.2)
    finally:
        release.set()

    assert called == ["busy"]
    assert [a.tool_id for a in execution.run.attempts] == ["busy"]  # cut by the deadline: its timeout
    assert execution.run.steps["b"].status is StepStatus.CANCELLED and execution.run.steps["b"].attempts == []
    assert execution.total_cost == 1.0
    stats = router.tool_statistics()
    assert (stats["busy"].calls, stats["queued"].calls) == (1, 0)
