"""A plan that fails after its tools were sampled changes nothing: the next decisions are those of
a router that never made it. The routers rewound only their policies' generators, so linear
Thompson sampling with cached draws (the default at large context dimensions) redrew some and kept
them, and a due recheck of a rarely chosen tool was spent on the plan that never ran."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.errors import BudgetInfeasibleError
from toolrouter.features import HashingFeaturizer

COSTS = {"a": 1.0, "b": 2.0, "c": 3.0}
TOOLS = [ToolProfile(tool_id=t, capabilities=("answer",), cost_per_use=c) for t, c in COSTS.items()]
SUCCESS = {"a": [True, True, False], "b": [True, False, False], "c": [True, True, True]}


def task(i: int, **budget) -> TaskProfile:
    return TaskProfile(task_id=f"t{i}", task_type="qa", required_capabilities=["answer"], context=f"question {i % 5}", **budget)


def play(router: ToolMetaLearner, calls: range, fail_first: bool) -> list[str]:
    chosen = []
    for i in calls:
        if fail_first:
            with pytest.raises(BudgetInfeasibleError):
                router.optimize_task_execution(task(i, max_cost=0.5))  # no tool is that cheap
        tool = router.optimize_task_execution(task(i)).tool_for("answer")
        router.learn_from_execution(task(i), [ExecutionResult(tool_id=tool, success=SUCCESS[tool][i % 3], cost=COSTS[tool])])
        chosen.append(tool)
    return chosen


@pytest.mark.parametrize(
    "options",
    [{"policy": "lin_ts", "policy_options": {"exact": False, "refresh_arms": 1}},
     {"policy": "neural_linear", "policy_options": {"exact": False, "refresh_arms": 1, "features": 4, "hidden": 8}},
     {"policy": "gaussian_ts", "drift_detection": {"recheck_after": 3}}],
)
def test_a_failed_plan_leaves_the_next_decisions_as_they_were(options) -> None:
    context = {} if options["policy"] == "gaussian_ts" else {"context_dim": 8}  # gaussian_ts takes no context
    routers = [ToolMetaLearner(TOOLS, seed=5, featurizer=HashingFeaturizer(dim=8), **context, **options) for _ in range(2)]
    for router in routers:
        play(router, range(6), fail_first=False)
    undisturbed = play(routers[0], range(6, 40), fail_first=False)
    assert play(routers[1], range(6, 40), fail_first=True) == undisturbed
    assert routers[1].state_bytes() == routers[0].state_bytes()
