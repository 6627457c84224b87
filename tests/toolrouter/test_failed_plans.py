"""A plan that fails part-way (a budget no plan meets, a later step without tools, an error while
a later route is made) leaves the router as it was: no new routes, the sampled routes' random state
rewound, so the next call decides as if the failed one had not happened."""

from __future__ import annotations

import json

import pytest
from safetensors.numpy import load

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.errors import BudgetInfeasibleError, NoToolForCapabilityError

TOOLS = [
    ToolProfile(tool_id="web", capabilities=["search"], cost_per_use=2.0),
    ToolProfile(tool_id="wiki", capabilities=["search"], cost_per_use=3.0),
    ToolProfile(tool_id="gpt", capabilities=["llm"], cost_per_use=2.0),
]


def snapshot(router: ToolMetaLearner) -> tuple:
    """Everything a failed call must leave as it was: routes, policies with their RNG states,
    counts, statistics (the saved state decoded: safetensors writes its header keys in any order)."""
    data = router.state_bytes()
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    arrays = {name: a.tolist() for name, a in load(data).items()}
    return router.routes, header["__metadata__"], arrays, router.tool_statistics()


def twins() -> tuple[ToolMetaLearner, ToolMetaLearner]:
    a, b = ToolMetaLearner(TOOLS, seed=7), ToolMetaLearner(TOOLS, seed=7)
    for router in (a, b):  # one route exists and has been sampled before the failure
        router.optimize_task_execution(TaskProfile(task_id="warm", required_capabilities=["search"]))
    return a, b


def next_decisions(router: ToolMetaLearner) -> list:
    task = TaskProfile(task_id="next", required_capabilities=["search", "llm"])
    plan = router.optimize_task_execution(task)
    return [(s.step, [(c.tool_id, c.score) for c in s.candidates]) for s in plan.steps]


def test_an_infeasible_budget_leaves_the_router_unchanged() -> None:
    router, twin = twins()
    before = snapshot(router)
    task = TaskProfile(task_id="t", required_capabilities=["search", "llm"], max_cost=1.0)
    with pytest.raises(BudgetInfeasibleError, match="max_cost=1.0"):
        router.optimize_task_execution(task)
    assert snapshot(router) == before
    assert router.routes == [("default", "search", "search")]  # no empty route for "llm"
    assert next_decisions(router) == next_decisions(twin)  # the sampled route's RNG was rewound
    plan = router.optimize_task_execution(task, allow_infeasible=True)
    assert plan.metadata["planner"]["feasible"] is False


def test_allow_infeasible_that_is_not_a_bool_is_refused_before_any_decision() -> None:
    # "no" was taken for True: a plan over budget came back instead of BudgetInfeasibleError
    router, twin = twins()
    router.functions.update(web=lambda r: "w", wiki=lambda r: "k", gpt=lambda r: "g")
    before = snapshot(router)
    task = TaskProfile(task_id="t", required_capabilities=["search", "llm"], max_cost=1.0)
    with pytest.raises(TypeError, match="allow_infeasible: expected True or False, got 'no'"):
        router.optimize_task_execution(task, allow_infeasible="no")
    with pytest.raises(TypeError, match="allow_infeasible: expected True or False, got 0"):
        router.execute(task, allow_infeasible=0)
    assert snapshot(router) == before
    assert next_decisions(router) == next_decisions(twin)


def test_a_step_without_tools_after_a_good_one_leaves_the_router_unchanged() -> None:
    router, twin = twins()
    before = snapshot(router)
    task = TaskProfile(task_id="t", task_type="new", required_capabilities=["search", "translate"])
    with pytest.raises(NoToolForCapabilityError, match="'translate'"):
        router.optimize_task_execution(task)
    assert snapshot(router) == before
    assert next_decisions(router) == next_decisions(twin)


def test_a_failure_while_a_later_route_is_made_drops_the_earlier_new_routes() -> None:
    def prior_fn(profile, task_type, step, capability):
        if capability == "llm":
            raise ValueError(f"prior_fn: no prior for {profile.tool_id!r}")
        return None

    router = ToolMetaLearner(TOOLS, seed=7, prior_fn=prior_fn)
    router.optimize_task_execution(TaskProfile(task_id="warm", required_capabilities=["search"]))
    before = snapshot(router)
    with pytest.raises(ValueError, match="no prior for 'gpt'"):
        router.optimize_task_execution(
            TaskProfile(task_id="t", task_type="other", required_capabilities=["search", "llm"])
        )
    assert snapshot(router) == before
    assert router.routes == [("default", "search", "search")]
