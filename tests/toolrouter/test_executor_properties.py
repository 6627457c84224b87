"""Property: whatever the tools do (succeed, raise, return the wrong type, hang past the timeout,
vanish), every attempt is recorded once, and each step's status follows from its attempts and its
dependencies."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolrouter.executor import (
    ExecutorConfig,
    PlanExecutor,
    RetryPolicy,
    RunStatus,
    StepStatus,
)
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

BEHAVIOURS = ("ok", "raise", "wrong_type", "hang", "missing")


def tool_for(behaviour: str):
    async def ok(req):
        return "out"

    def raises(req):
        raise RuntimeError("boom")

    def wrong(req):
        return 42

    async def hang(req):
        await asyncio.sleep(1.0)

    return {"ok": ok, "raise": raises, "wrong_type": wrong, "hang": hang}.get(behaviour)


@st.composite
def scenarios(draw):
    n = draw(st.integers(1, 5))
    steps, cands, tools = [], {}, {}
    for i in range(n):
        deps = [f"s{j}" for j in range(i) if draw(st.booleans())]
        steps.append(TaskStep(step_id=f"s{i}", capability="c", depends_on=deps))
        k = draw(st.integers(1, 3))
        cands[f"s{i}"] = [Candidate(f"t{i}_{j}", 0.9 - 0.1 * j) for j in range(k)]
        for j in range(k):
            fn = tool_for(draw(st.sampled_from(BEHAVIOURS)))
            if fn is not None:
                tools[f"t{i}_{j}"] = fn
    retries = draw(st.integers(0, 1))
    fallbacks = draw(st.booleans())
    return steps, cands, tools, retries, fallbacks


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_attempt_is_recorded_and_statuses_are_consistent(scenario) -> None:
    steps, cands, tools, retries, fallbacks = scenario
    graph = build_task_graph(steps)
    plan = assign_tools(graph, cands, method="brute_force", max_fallbacks=3)
    seen = []
    config = ExecutorConfig(timeout_s=0.02, retry=RetryPolicy(max_retries=retries, base_delay_s=0.0),
                            use_fallbacks=fallbacks, circuit_breaker=None)
    with PlanExecutor(tools, config, output_types={"c": str}, on_attempt=seen.append) as ex:
        run = ex.run(plan)
    assert run.attempts == seen  # every attempt reached the hook, once, in order
    assert sorted(run.steps) == sorted(graph)
    for step, outcome in run.steps.items():
        assert all(a.step == step for a in outcome.attempts)
        deps_ok = all(run.steps[d].status is StepStatus.SUCCEEDED for d in graph.predecessors(step))
        if not deps_ok:
            assert outcome.status is StepStatus.SKIPPED and outcome.attempts == []
            continue
        successes = [a for a in outcome.attempts if a.success]
        if outcome.status is StepStatus.SUCCEEDED:
            assert len(successes) == 1 and outcome.attempts[-1].success and outcome.output == "out"
        else:
            assert outcome.status is StepStatus.FAILED and not successes and outcome.error
        for a in outcome.attempts:
            assert a.success or a.error  # a failure always says why
            assert a.latency_s < 0.5  # hangs were cut at the timeout
        tried = {a.tool_id for a in outcome.attempts}
        assert tried <= set(plan.steps[step].tool_ids)
        # a tool without a function ("missing") is not called, and leaves its place to the next
        called = [t for t in plan.steps[step].tool_ids if t in tools]
        assert tried & tools.keys() <= set(called if fallbacks else called[:1])
    statuses = [o.status for o in run.steps.values()]
    if all(s is StepStatus.SUCCEEDED for s in statuses):
        assert run.status is RunStatus.SUCCEEDED
    else:
        assert run.status in (RunStatus.PARTIAL, RunStatus.FAILED)
        assert (run.status is RunStatus.PARTIAL) == any(s is StepStatus.SUCCEEDED for s in statuses)
