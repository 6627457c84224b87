"""``create_tool_optimization_benchmark`` on a stream with a task that declares no steps (one step
any tool may serve) beside tasks that do: the router learned a structure for the type from the
other tasks' runs, planned its steps instead, and the run stopped with ``KeyError: "step: plan of
task 'free#9' has no step 'main'"``."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, ToolProfile
from toolrouter.benchmark import create_tool_optimization_benchmark

TOOLS = [ToolProfile(tool_id="web", capabilities=["search"], reliability=0.9),
         ToolProfile(tool_id="gpt", capabilities=["llm"], reliability=0.6)]


@pytest.mark.parametrize(
    "free",
    [
        TaskProfile(task_id="free", task_type="research"),  # the same type as the declared task
        TaskProfile(task_id="free", task_type="other", context="find x"),  # proposed from the request text
    ],
)
def test_a_task_without_steps_is_one_step_beside_declared_tasks(free) -> None:
    declared = TaskProfile(task_id="d", task_type="research", required_capabilities=["search", "llm"], context="find x")
    report = create_tool_optimization_benchmark(TOOLS, [declared, free], 30, seeds=1, policies=["ucb1", "lin_ts", "random"])

    assert list(report.policies) == ["ucb1", "lin_ts", "random"]
    for summary in report.policies.values():
        assert summary.cumulative_regret.mean >= 0 and 0 <= summary.best_choice_rate.mean <= 1
    # the oracle picks web for "main" (any tool) and each declared step's only tool: a learner
    # that learned web is the better choice catches up with it
    assert report.policies["ucb1"].best_choice_rate.mean > report.policies["random"].best_choice_rate.mean
