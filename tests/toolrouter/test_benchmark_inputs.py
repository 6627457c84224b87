"""``create_tool_optimization_benchmark`` checks seeds, tasks and policy options: bad input names the
argument and the value instead of failing inside the run."""

import pytest

from toolrouter import TaskProfile, ToolProfile
from toolrouter.benchmark import create_tool_optimization_benchmark

TOOLS = [ToolProfile(tool_id="a", capabilities=["search"], reliability=0.9),
         ToolProfile(tool_id="b", capabilities=["search"], reliability=0.3)]
TASKS = [TaskProfile(task_id="q", required_capabilities=["search"])]


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"seeds": 2.5}, TypeError, "seeds: expected a count or a list of integers, got 2.5"),
        ({"seeds": [0, 1, 0]}, ValueError, "seeds: seed 0 appears twice in [0, 1, 0]"),
        ({"tasks": None}, TypeError, "tasks: expected a list of TaskProfile, got None"),
        ({"tasks": 5}, TypeError, "tasks: expected a list of TaskProfile, got 5"),
        ({"policy_options": ["ucb1"]}, TypeError, "policy_options: expected a mapping of policy name to options, got ['ucb1']"),
        ({"policy_options": {"ucb1": 5}}, TypeError, "policy_options['ucb1']: expected a mapping of options, got 5"),
    ],
)
def test_bad_input_names_the_argument(options, error, message):
    args = {"tasks": TASKS, "policies": ["ucb1", "random"], "seeds": 1, **options}
    with pytest.raises(error) as info:
        create_tool_optimization_benchmark(TOOLS, n=3, **args)
    assert str(info.value) == message


def test_distinct_seeds_still_run():
    report = create_tool_optimization_benchmark(TOOLS, TASKS, 3, policies=["random"], seeds=(4, 2))
    assert report.seeds == (4, 2)
    assert len(report.policies["random"].cumulative_regret.values) == 2
