"""UCB1 and epsilon-greedy score an arm that has neither outcomes nor a prior +inf, so that every
tool is tried once first; the router took that score for NaN (its check multiplied the scores by
the means, and inf * 0 is NaN) and refused to decide. A NaN score is still refused."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.policies import GaussianThompson

TOOLS = [ToolProfile(tool_id=t, capabilities=("answer",)) for t in ("a", "b", "c")]


@pytest.mark.parametrize("policy", ["ucb1", "epsilon_greedy"])
def test_every_tool_without_a_prior_is_tried_once_first(policy) -> None:
    router = ToolMetaLearner(TOOLS, policy=policy, seed=0, prior_fn=lambda *args: None)
    first = []
    for i in range(3):
        task = TaskProfile(task_id=f"t{i}", required_capabilities=["answer"])
        step = router.optimize_task_execution(task).steps[0]
        first.append(step.candidates[0].tool_id)
        assert step.candidates[0].score == np.inf
        router.learn_from_execution(task, [ExecutionResult(tool_id=first[-1], success=True, quality=0.5)])
    assert sorted(first) == ["a", "b", "c"]
    assert np.isfinite(router.rank_tools("answer").candidates[0].score)


class NaNScores(GaussianThompson):
    def sample_and_expected(self, arm_ids, context=None):
        scores, means = super().sample_and_expected(arm_ids, context)
        return np.full_like(scores, np.nan), means


def test_a_nan_score_is_still_refused() -> None:
    router = ToolMetaLearner(TOOLS, policy=lambda seed: NaNScores(seed=seed), seed=0)
    with pytest.raises(FloatingPointError, match="returned NaN scores"):
        router.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["answer"]))


@pytest.mark.parametrize("policy", ["ucb1", "epsilon_greedy"])
def test_a_plan_under_a_budget_or_over_several_steps_takes_untried_tools(policy) -> None:
    """The planner read an untried tool's +inf score as a utility and refused it: every plan with a
    budget or more than one step failed until each tool had been tried by single-step plans."""
    tools = [ToolProfile(tool_id=t, capabilities=("answer",), cost_per_use=c) for t, c in (("a", 1.0), ("b", 2.0), ("c", 0.5))]
    router = ToolMetaLearner(tools, policy=policy, seed=0, prior_fn=lambda *args: None)
    budgeted = router.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["answer"], max_cost=1.5))
    assert budgeted.steps[0].candidates[0].tool_id in {"a", "c"}  # within the budget
    two = router.optimize_task_execution(TaskProfile(task_id="u", required_capabilities=["answer", "answer"]))
    assert len(two.steps) == 2 and all(s.candidates[0].score == np.inf for s in two.steps)
