"""``create_tool_optimization_benchmark`` checks every policy's options, and ``true_success``,
before it runs anything: an option a policy does not take failed when that policy's turn came, after
the oracle's and the other policies' runs, with a message that did not say which argument held it."""

from __future__ import annotations

import pytest

import toolrouter.benchmark
from toolrouter import TaskProfile, ToolProfile
from toolrouter.benchmark import create_tool_optimization_benchmark

TOOLS = [ToolProfile(tool_id="a", capabilities=["search"], reliability=0.9),
         ToolProfile(tool_id="b", capabilities=["search"], reliability=0.3)]
TASKS = [TaskProfile(task_id="q", required_capabilities=["search"])]


@pytest.mark.parametrize(
    ("policy", "options", "message"),
    [
        ("ucb1", {"exploration": -1}, "policy_options['ucb1']: exploration: expected a finite number >= 0, got -1"),
        ("ucb1", {"bogus": 1}, "policy_options['ucb1']: options: ucb1 does not accept ['bogus']"),
        ("lin_ts", {"context_dim": 7}, "policy_options['lin_ts']: context_dim: 1 disagrees with policy_options['context_dim']=7"),
    ],
)
def test_bad_policy_options_are_named_before_any_run(monkeypatch, policy, options, message) -> None:
    def no_run(*args, **kwargs):
        raise AssertionError("a run started before the options were checked")

    monkeypatch.setattr(toolrouter.benchmark, "_run_fixed_rule", no_run)
    monkeypatch.setattr(toolrouter.benchmark, "_run_learner", no_run)
    with pytest.raises(ValueError) as info:
        create_tool_optimization_benchmark(TOOLS, TASKS, 5, policies=["random", policy], seeds=1, policy_options={policy: options})
    assert str(info.value).startswith(message)


def test_good_policy_options_still_run() -> None:
    report = create_tool_optimization_benchmark(TOOLS, TASKS, 5, policies=["ucb1"], seeds=1, policy_options={"ucb1": {"exploration": 0.5}})
    assert list(report.policies) == ["ucb1"]


@pytest.mark.parametrize("truth", [5, ["a"], "a", [("a", 0.5)]])
def test_true_success_that_is_not_a_mapping_is_named(truth) -> None:
    # it failed in Python's words ("'int' object is not iterable", "dictionary update sequence
    # element #0 has length 1"), or a list of pairs was taken as a mapping
    with pytest.raises(TypeError, match=r"true_success: expected a mapping of tool id to success probability, got "):
        create_tool_optimization_benchmark(TOOLS, TASKS, 5, policies=["random"], seeds=1, true_success=truth)
