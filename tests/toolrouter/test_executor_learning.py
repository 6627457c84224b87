"""Plan, run and learn in one call: every attempt reaches the store and the policies, whatever
happens to the run."""

from __future__ import annotations

import asyncio

import pytest

from toolrouter.errors import BudgetInfeasibleError
from toolrouter.executor import (
    ExecutorConfig,
    PlanExecutor,
    RetryPolicy,
    RunStatus,
    StepStatus,
    aexecute_task,
    execute_task,
)
from toolrouter.learner import ToolMetaLearner
from toolrouter.models import TaskProfile, TaskStep, ToolProfile
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice
from toolrouter.planner import plan_decisions
from toolrouter.models import UtilityWeights

FAST = ExecutorConfig(timeout_s=0.5, retry=RetryPolicy(max_retries=0), circuit_breaker=None)

STEPS = [
    TaskStep(step_id="search", capability="search"),
    TaskStep(step_id="fetch_a", capability="fetch", depends_on=["search"]),
    TaskStep(step_id="fetch_b", capability="fetch", depends_on=["search"]),
    TaskStep(step_id="write", capability="llm", depends_on=["fetch_a", "fetch_b"]),
]


def profiles():
    return [
        ToolProfile(tool_id="web", capabilities=["search"], cost_per_use=0.1, reliability=0.9),
        ToolProfile(tool_id="broken_search", capabilities=["search"], cost_per_use=0.0, reliability=0.9),
        ToolProfile(tool_id="http", capabilities=["fetch"], cost_per_use=0.2, reliability=0.9),
        ToolProfile(tool_id="gpt", capabilities=["llm"], cost_per_use=1.0, reliability=0.9),
    ]


def functions():
    def broken(req):
        raise ConnectionError("refused")

    return {
        "web": lambda req: f"results for {req.inputs}",
        "broken_search": broken,
        "http": lambda req: f"page from {req.upstream['search']}",
        "gpt": lambda req: " + ".join(sorted(req.upstream.values())),
    }


def test_execute_plans_runs_and_learns_every_attempt_into_store_and_policies() -> None:
    learner = ToolMetaLearner(profiles(), seed=1, store="memory://")
    task = TaskProfile(task_id="t1", task_type="research", steps=STEPS)
    executions = [execute_task(learner, task, "bees", tools=functions(), config=FAST) for _ in range(6)]
    for ex in executions:
        assert ex.status is RunStatus.SUCCEEDED
        assert ex.outputs["write"] == "page from results for bees + page from results for bees"
        assert len(ex.utilities) == len(ex.run.attempts)
    attempts = [a for ex in executions for a in ex.run.attempts]
    assert learner.store.count() == len(attempts)
    stats = learner.tool_statistics("research")
    assert stats["gpt"].calls == 6 and stats["http"].calls == 12
    assert stats["broken_search"].calls == sum(a.tool_id == "broken_search" for a in attempts)
    assert stats["broken_search"].successes == 0
    # per (task type, step): fetch_a and fetch_b learn separately
    assert learner.tool_statistics("research", "fetch_a")["http"].calls == 6
    assert executions[0].end_to_end_utility == pytest.approx(
        UtilityWeights().utility(True, 1.0, executions[0].total_cost, executions[0].run.latency_s))


def test_tool_removed_from_the_router_mid_run_is_stored_not_lost() -> None:
    learner = ToolMetaLearner(profiles(), seed=0, store="memory://")
    fns = functions()

    def web(req):
        learner.remove_tool("http")  # someone unregisters the fetch tool while the plan runs
        return "results"

    fns["web"] = web
    fns["broken_search"] = web
    task = TaskProfile(task_id="t", task_type="research", steps=STEPS)
    ex = execute_task(learner, task, tools=fns, config=FAST)
    assert ex.status is RunStatus.PARTIAL
    assert ex.run.statuses()["fetch_a"] is StepStatus.FAILED
    assert ex.run.statuses()["write"] is StepStatus.SKIPPED
    removed = [a for a in ex.run.attempts if a.tool_id == "http"]
    assert removed and all("no longer registered" in a.error for a in removed)
    assert ex.unlearned == removed
    stored = learner.store.attempts()
    assert len(stored) == len(ex.run.attempts)
    assert sum(r.tool_id == "http" for r in stored) == len(removed)


def test_cancelled_execution_records_every_attempt_and_learns_none_it_cut() -> None:
    learner = ToolMetaLearner(profiles(), seed=0, store="memory://")

    started = asyncio.Event()

    async def hang(req):
        started.set()
        await asyncio.sleep(10)

    fns = functions()
    fns["gpt"] = hang

    async def main():
        event = asyncio.Event()
        task = TaskProfile(task_id="t", task_type="research", steps=STEPS)
        job = asyncio.create_task(aexecute_task(learner, task, "q", tools=fns,
                                                config=FAST.model_copy(update={"timeout_s": 20.0}),
                                                cancel_event=event))
        await asyncio.wait_for(started.wait(), 10)  # the steps before it are done, "gpt" runs
        event.set()
        return await asyncio.wait_for(job, 2.0)

    ex = asyncio.run(main())
    assert ex.status is RunStatus.CANCELLED
    cancelled = [a for a in ex.run.attempts if a.tool_id == "gpt"]
    assert len(cancelled) == 1 and cancelled[0].error == "CancelledError: run cancelled"
    assert learner.store.count() == len(ex.run.attempts)
    # the caller's cancellation is no outcome of the tool: recorded, not learned
    assert learner.tool_statistics("research", "write")["gpt"].calls == 0
    assert sum(learner.tool_statistics().get(a.tool_id).calls for a in ex.run.attempts if a.success) >= 1


def test_reused_executor_keeps_breakers_and_a_bad_outcome_is_reported() -> None:
    learner = ToolMetaLearner(profiles(), seed=0)
    fns = functions()
    with PlanExecutor(fns, FAST) as executor:
        task = TaskProfile(task_id="t", task_type="research", required_capabilities=["search"])
        ex = execute_task(learner, task, "x", executor=executor)
        assert ex.run.steps["search"].status is StepStatus.SUCCEEDED
    with pytest.raises(ValueError, match="tools: give the tool functions"):
        execute_task(ToolMetaLearner(profiles(), seed=0), task)


def test_plan_decisions_respects_the_budget_and_keeps_all_candidates() -> None:
    def choice(tool_id, score, cost):
        return ToolChoice(tool_id, score, score, 0.9, cost, 0.1)

    decisions = [
        PlanStep("search", "search", (choice("premium", 1.8, 5.0), choice("free", 1.5, 0.0))),
        PlanStep("llm", "llm", (choice("big", 1.9, 3.0), choice("small", 1.4, 0.5)), depends_on=("search",)),
    ]
    w = UtilityWeights(cost=0.0, latency=0.0)
    steps, assignment = plan_decisions(decisions, weights=w, max_cost=4.0)
    assert [s.tool_id for s in steps] == ["free", "big"]
    assert [c.tool_id for c in steps[0].candidates] == ["free", "premium"]
    assert assignment.feasible and assignment.expected_cost == pytest.approx(3.0)
    steps, _ = plan_decisions(decisions, weights=w)
    assert [s.tool_id for s in steps] == ["premium", "big"]
    with pytest.raises(BudgetInfeasibleError):
        plan_decisions(decisions, weights=w, max_cost=0.1)
    steps, flagged = plan_decisions(decisions, weights=w, max_cost=0.1, allow_infeasible=True)
    assert not flagged.feasible and [s.tool_id for s in steps] == ["free", "small"]
    # Beta-Bernoulli scores are success probabilities
    steps, _ = plan_decisions(decisions, weights=w, reward_bounds=(0.0, 2.0))
    assert [s.tool_id for s in steps] == ["premium", "big"]


def test_a_long_plan_checks_its_steps_once_and_counts_its_trace_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolrouter.structure as structure

    checks, counts = [], []
    task_steps, canonical = ToolMetaLearner.task_steps, structure._canonical
    monkeypatch.setattr(ToolMetaLearner, "task_steps", staticmethod(lambda task: checks.append(1) or task_steps(task)))
    monkeypatch.setattr(structure, "_canonical", lambda steps: counts.append(len(steps)) or canonical(steps))
    router = ToolMetaLearner([ToolProfile(tool_id=t, capabilities=["c"], expected_latency_s=0.0) for t in "ab"], seed=0,
                             store="memory://")
    router.functions.update({"a": lambda request: 1, "b": lambda request: 1})
    steps = [TaskStep(step_id=f"s{i}", capability="c", depends_on=[f"s{i - 1}"] if i else []) for i in range(40)]
    task = TaskProfile(task_id="long", steps=steps)
    execution = router.execute(task, config=FAST)
    assert execution.run.succeeded and len(router.store.attempts()) == 40
    # planned and 40 attempts learned: the declared steps checked once, the trace not yet counted
    assert len(checks) == 1 and counts == []
    assert router.structures.traces() == 1 and counts == [40]
    router.execute(TaskProfile(task_id="again", steps=steps), config=FAST)  # another task: checked again
    assert len(checks) == 2


def test_closing_the_router_releases_the_executor_execute_kept() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="a", capabilities=["c"], expected_latency_s=0.0)], seed=0)
    router.functions["a"] = lambda request: 1
    router.execute(TaskProfile(task_id="t", required_capabilities=["c"]))
    kept = router._executor
    closed = []
    original = kept.close
    kept.close = lambda: closed.append(1) or original()
    router.close()
    assert closed == [1] and router._executor is None
    assert router.execute(TaskProfile(task_id="u", required_capabilities=["c"])).run.succeeded  # a new one


def test_a_plan_for_other_steps_is_refused_before_any_tool_runs() -> None:
    learner = ToolMetaLearner(profiles(), seed=1, store="memory://")
    task = TaskProfile(task_id="t1", task_type="research", steps=STEPS)
    other = learner.optimize_task_execution(
        TaskProfile(task_id="t2", task_type="draft", steps=[TaskStep(step_id="draft", capability="llm")])
    )
    relabelled = learner.optimize_task_execution(
        TaskProfile(task_id="t3", task_type="draft", steps=[TaskStep(step_id="search", capability="llm")])
    )
    called = []
    tools = {name: (lambda fn: lambda req: called.append(req.step_id) or fn(req))(fn) for name, fn in functions().items()}
    with pytest.raises(ValueError, match=r"plan: step 'draft' is not a step of task 't1' \(its steps: \['fetch_a'"):
        execute_task(learner, task, "bees", tools=tools, config=FAST, plan=other)
    with pytest.raises(ValueError, match=r"plan: step 'search' serves 'llm'; task 't1' has it serve 'search'"):
        execute_task(learner, task, "bees", tools=tools, config=FAST, plan=relabelled)
    # a plan edited to run a step without the step it consumes: its tool failed for want of the
    # input, taught as the tool's failure, and stored as having consumed it
    edited = learner.optimize_task_execution(task).to_dict()
    edited["steps"] = [{**s, "depends_on": []} for s in edited["steps"]]
    with pytest.raises(ValueError, match=r"plan: step '\w+' consumes \[\]; task 't1' has it consume \['"):
        execute_task(learner, task, "bees", tools=tools, config=FAST, plan=ExecutionPlan.from_dict(edited))
    assert called == [] and learner.store.count() == 0
    run = execute_task(learner, task, "bees", tools=tools, config=FAST, plan=learner.optimize_task_execution(task))
    assert run.succeeded and learner.store.count() == len(run.run.attempts) == len(called)


def test_a_tool_without_a_function_is_not_taught_a_failure() -> None:
    learner = ToolMetaLearner(
        [ToolProfile(tool_id="good", capabilities=["search"], reliability=0.99),
         ToolProfile(tool_id="other", capabilities=["search"], reliability=0.5)],
        seed=0, store="memory://",
    )
    task = TaskProfile(task_id="t", required_capabilities=["search"])
    # a plan made over every tool (execute's own lists only the tools it has functions for)
    runs = [
        execute_task(learner, task, tools={"other": lambda req: "found"}, config=FAST, plan=learner.optimize_task_execution(task))
        for _ in range(3)
    ]
    tried = [a for run in runs for a in run.run.attempts if a.tool_id == "good"]
    assert tried and all(not a.success for a in tried)  # the plan chose it; the executor had nothing to call
    assert all(run.succeeded for run in runs) and [a.tool_id for run in runs for a in run.unlearned] == ["good"] * len(tried)
    assert learner.tool_statistics()["good"].calls == 0
    assert {r.tool_id for r in learner.store.attempts()} == {"other"}
