"""Task features a contextual policy cannot take are refused before any run, naming the task: a
router refused them halfway through the runs, after the policies before it had run for minutes,
as "features: ...", naming no task."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, ToolProfile, create_tool_optimization_benchmark
from toolrouter import benchmark

TOOLS = [
    ToolProfile(tool_id="good", capabilities=["search"], reliability=0.95),
    ToolProfile(tool_id="poor", capabilities=["search"], reliability=0.3),
]
TASKS = [TaskProfile(task_id="q", features=(0.5, 1.0)), TaskProfile(task_id="far", features=(0.5, 1e300))]


def test_features_beyond_what_a_contextual_policy_takes_are_refused_before_any_run(monkeypatch) -> None:
    def run_learner(*args):
        pytest.fail("a policy ran before the features were checked")

    monkeypatch.setattr(benchmark, "_run_learner", run_learner)
    with pytest.raises(ValueError, match=r"tasks\[1\]\.features: entries must be finite and within \+-1e\+06"):
        create_tool_optimization_benchmark(TOOLS, TASKS, 10, policies=["ucb1", "linucb"], seeds=1)


def test_policies_that_take_no_context_run_on_them() -> None:
    report = create_tool_optimization_benchmark(TOOLS, TASKS, 10, policies=["ucb1"], seeds=1)
    assert list(report.policies) == ["ucb1"]
