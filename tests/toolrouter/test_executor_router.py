"""``ToolMetaLearner.execute`` / ``aexecute``: plan, run and learn in one call."""

from __future__ import annotations

import asyncio

import pytest

from toolrouter import ToolMetaLearner
from toolrouter.executor import CircuitState, ExecutorConfig, RetryPolicy, RunStatus
from toolrouter.models import TaskProfile, TaskStep, ToolProfile

STEPS = [
    TaskStep(step_id="search", capability="search"),
    TaskStep(step_id="answer", capability="llm", depends_on=["search"]),
]


def make_router(**kwargs) -> ToolMetaLearner:
    r = ToolMetaLearner(
        [
            ToolProfile(tool_id="web", capabilities=["search"], cost_per_use=0.1),
            ToolProfile(tool_id="down", capabilities=["search"], cost_per_use=0.0, reliability=0.99),
            ToolProfile(tool_id="llm", capabilities=["llm"], cost_per_use=0.5),
        ],
        seed=0,
        **kwargs,
    )

    def down(request):
        raise ConnectionError("503")

    r.functions.update({
        "web": lambda request: f"pages about {request.inputs}",
        "down": down,
        "llm": lambda request: request.upstream["search"].upper(),
    })
    return r


def test_execute_runs_learns_and_keeps_breakers_between_calls() -> None:
    r = make_router(store="memory://")
    task = TaskProfile(task_id="t", task_type="qa", steps=STEPS)
    results = [r.execute(task, "bees") for _ in range(8)]
    assert all(x.status is RunStatus.SUCCEEDED for x in results)
    assert results[0].outputs["answer"] == "PAGES ABOUT BEES"
    assert r.store.count() == sum(len(x.run.attempts) for x in results)
    stats = r.tool_statistics("qa", "search")
    assert stats["down"].successes == 0 and stats["web"].successes == 8
    executor = r._execute_options({})["executor"]
    assert executor is r._execute_options({})["executor"]  # one executor, kept across calls
    down_calls = stats["down"].calls
    if down_calls >= 3:  # the default breaker opens after three failures in a row
        assert executor.breaker("down").state is CircuitState.OPEN
    # the end-to-end outcome is counted for the task type's step structure
    (steps, runs, wins), = r.graphs.outcomes("qa")
    assert runs == 8 and wins == 8 and [s.step_id for s in steps] == ["search", "answer"]


def test_execute_options_are_checked_before_the_plan_and_a_config_may_be_a_mapping() -> None:
    import threading

    r = make_router(store="memory://")
    task = TaskProfile(task_id="t", task_type="qa", steps=STEPS)
    bad = {
        "config": ({"timeout_s": "soon"}, ValueError, "timeout_s"),
        "deadline_s": (0, ValueError, "deadline_s: expected a finite number > 0, got 0"),
        "cancel_event": (threading.Lock(), TypeError, "cancel_event: expected an asyncio.Event or a threading.Event, got <unlocked"),
    }
    for option, (value, error, message) in bad.items():
        with pytest.raises(error, match=message):
            r.execute(task, "bees", **{option: value})
    assert r.store.count() == 0 and r.routes == []  # no tool ran, no step was even planned
    run = r.execute(task, "bees", config={"timeout_s": 5, "circuit_breaker": None})
    assert run.status is RunStatus.SUCCEEDED and run.outputs["answer"] == "PAGES ABOUT BEES"


def test_execute_refuses_an_executor_it_cannot_use_and_tools_that_are_not_a_mapping() -> None:
    # an int failed as "'int' object has no attribute 'arun'", tools and config given with an
    # executor were ignored without a word, and a list of functions failed at its first lookup
    from toolrouter.executor import learner_executor

    r = make_router(store="memory://")
    task = TaskProfile(task_id="t", task_type="qa", steps=STEPS)
    executor = learner_executor(r)
    bad = [
        ({"executor": 5}, TypeError, "executor: expected a PlanExecutor, got int"),
        ({"executor": executor, "tools": dict(r.functions)}, ValueError, "executor: runs its own tools and config; give tools or executor, not both"),
        ({"executor": executor, "config": {"timeout_s": 1}}, ValueError, "give config or executor, not both"),
        ({"tools": list(r.functions.values())}, TypeError, "tools: expected a mapping of tool id to callable, got list"),
    ]
    for options, error, message in bad:
        with pytest.raises(error, match=message):
            r.execute(task, "bees", **options)
    assert r.store.count() == 0 and r.routes == []
    assert r.execute(task, "bees", executor=executor).status is RunStatus.SUCCEEDED


def test_history_proposes_the_structure_that_succeeded() -> None:
    r = make_router()
    explicit = TaskProfile(task_id="t", task_type="qa", steps=STEPS)
    r.execute(explicit, "x")
    r.execute(explicit, "y")
    plan = r.optimize_task_execution(TaskProfile(task_id="u", task_type="qa"))
    assert plan.topological_order() == ["search", "answer"]
    result = r.execute(TaskProfile(task_id="u", task_type="qa"), "z")
    assert result.succeeded and result.outputs["answer"] == "PAGES ABOUT Z"


def test_aexecute_in_a_running_loop_and_execute_refuses_there() -> None:
    r = make_router()
    config = ExecutorConfig(timeout_s=1.0, retry=RetryPolicy(max_retries=0))

    async def main():
        ok = await r.aexecute(TaskProfile(task_id="t", steps=STEPS), "q", config=config)
        with pytest.raises(RuntimeError, match="aexecute"):
            r.execute(TaskProfile(task_id="t", steps=STEPS), "q")
        return ok

    assert asyncio.run(main()).succeeded


def test_execute_with_an_impossible_budget() -> None:
    r = make_router()
    task = TaskProfile(task_id="t", steps=STEPS, max_cost=0.01)
    from toolrouter.errors import BudgetInfeasibleError

    with pytest.raises(BudgetInfeasibleError):
        r.execute(task, "q")
    flagged = r.execute(task, "q", allow_infeasible=True)
    assert flagged.plan.metadata["planner"]["feasible"] is False
    assert flagged.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)


def test_a_router_closed_while_its_plan_runs_lets_the_run_end_and_record_it(tmp_path) -> None:
    # closed from a tool of the run: the run ends as it would have, every attempt recorded, and
    # the router closes after it (not its store at once, which lost each outcome after the close)
    url = f"sqlite:///{tmp_path / 'r.db'}"
    r = make_router(store=url)
    answered = []

    def search_then_close(request):
        r.close()
        assert not r.closed  # its own run is in flight: the last call to end closes the router
        return "pages"

    r.functions.update(web=search_then_close, down=search_then_close, llm=lambda request: answered.append(1))
    run = r.execute(TaskProfile(task_id="t", task_type="qa", steps=STEPS), "bees")
    assert answered == [1] and run.status is RunStatus.SUCCEEDED
    assert run.unlearned == [] and run.run.callback_errors == []
    assert r.closed
    with pytest.raises(ValueError, match="closed by ToolMetaLearner.close()"):
        r.execute(TaskProfile(task_id="t2", task_type="qa", steps=STEPS), "bees")
    with ToolMetaLearner(store=url) as reopened:
        assert [(a.step, a.success) for a in reopened.store.attempts()] == [(a.step, a.success) for a in run.run.attempts]
