"""create_tool_optimization_benchmark: policies compared on one simulated task stream."""

from __future__ import annotations

import json

import pytest

from toolrouter.benchmark import (
    RANDOM_BASELINE,
    ToolBenchmarkReport,
    create_tool_optimization_benchmark,
)
from toolrouter.errors import NoToolForCapabilityError
from toolrouter.models import TaskProfile, ToolProfile, ToolType
from toolrouter.policies import POLICIES

# every tool looks the same to the router (reliability 0.8 is its prior); the truth differs
SEARCH = [ToolProfile(tool_id=f"search_{i}", capabilities=["search"], reliability=0.8) for i in range(4)]
CODE = [ToolProfile(tool_id=f"code_{i}", capabilities=["code"], reliability=0.8, cost_per_use=0.5) for i in range(2)]
SEARCH_TRUTH = {"search_0": 0.35, "search_1": 0.95, "search_2": 0.5, "search_3": 0.4}
TRUTH = SEARCH_TRUTH | {"code_0": 0.3, "code_1": 0.9}
TASKS = [
    TaskProfile(task_id="lookup", task_type="lookup", required_capabilities=["search"], context="find the paper"),
    TaskProfile(task_id="fix", task_type="fix", required_capabilities=["search", "code"], context="fix the bug"),
]


def test_seed_snippet_runs_with_only_its_import_changed() -> None:
    from toolrouter import TaskComplexity  # the seed's section 6 names these
    from toolrouter import create_tool_optimization_benchmark

    # tools as in the seed's section 6
    tools = {
        'search_tool': ToolProfile(
            tool_id='search_tool',
            tool_type=ToolType.SEARCH,
            cost_per_use=1.0,
            reliability=0.9
        ),
        'analysis_tool': ToolProfile(
            tool_id='analysis_tool',
            tool_type=ToolType.ANALYSIS,
            cost_per_use=2.0,
            reliability=0.85
        )
    }
    tasks = [
        TaskProfile(task_id='research_task', task_type='research', complexity=TaskComplexity.MODERATE),
        TaskProfile(task_id='lookup_task', task_type='lookup', required_capabilities=['search']),
    ]

    # --- the seed's benchmarking section, only the import line changed ---
    tool_results = create_tool_optimization_benchmark(tools, tasks, 100)
    # --- end of the snippet ---

    assert isinstance(tool_results, ToolBenchmarkReport)
    assert list(tool_results.policies) == [*POLICIES, RANDOM_BASELINE]
    assert tool_results.n_tasks == 100 and tool_results.seeds == (0, 1, 2)
    # the search tool is cheaper and more reliable: the oracle always takes it, random half the time
    assert tool_results.oracle.best_choice_rate.mean == 1.0
    assert 0.3 < tool_results.policies[RANDOM_BASELINE].best_choice_rate.mean < 0.9
    assert tool_results.best != RANDOM_BASELINE
    json.dumps(tool_results.to_dict())


def test_learning_policies_beat_random_when_one_tool_is_clearly_best() -> None:
    policies = ["gaussian_ts", "ucb1", "beta_ts", "lin_ts", RANDOM_BASELINE]
    report = create_tool_optimization_benchmark(
        SEARCH + CODE, TASKS, 150, policies=policies, seeds=2, true_success=TRUTH
    )
    random = report.policies[RANDOM_BASELINE]
    for name in policies[:-1]:
        summary = report.policies[name]
        # priors say nothing (all 0.8), so this is learning: well under half of random's regret
        assert summary.cumulative_regret.mean < 0.5 * random.cumulative_regret.mean, (name, report.to_markdown())
        assert summary.mean_utility.mean > random.mean_utility.mean
        assert summary.success_rate.mean > random.success_rate.mean
        # regret grows ever more slowly: the last third of the stream adds less than the first
        curve = summary.regret_curve
        assert curve[-1] - curve[100] < curve[49], name
    assert report.best != RANDOM_BASELINE
    assert report.oracle.cumulative_regret.mean == 0.0
    assert report.oracle.mean_utility.mean > max(s.mean_utility.mean for s in report.policies.values()) - 0.05
    # random's expected regret per step is the mean gap to the best tool of each step
    assert random.cumulative_regret.sd < 0.2 * random.cumulative_regret.mean


def test_same_seed_gives_the_same_report_and_other_seeds_another() -> None:
    def run(seeds: list[int]) -> ToolBenchmarkReport:
        return create_tool_optimization_benchmark(
            SEARCH, TASKS[:1], 40, policies=["gaussian_ts", "linucb", RANDOM_BASELINE], seeds=seeds,
            true_success=SEARCH_TRUTH,
        )

    first = run([3, 4])
    assert first == run([3, 4])
    assert first.to_dict() != run([5, 6]).to_dict()
    assert first.seeds == (3, 4) and len(first.policies["gaussian_ts"].cumulative_regret.values) == 2


def test_common_random_numbers_give_policies_making_the_same_choice_the_same_outcomes() -> None:
    # with a single tool every policy makes the same choices, so every row is identical to the oracle's
    tools = [ToolProfile(tool_id="only", capabilities=["search"], reliability=0.6, cost_per_use=0.3)]
    report = create_tool_optimization_benchmark(tools, TASKS[:1], 30, policies=["ucb1", "lin_ts", RANDOM_BASELINE])
    rows = [s.to_dict() for s in (*report.policies.values(), report.oracle)]
    for row in rows:
        row.pop("policy")
    assert all(row == rows[0] for row in rows)
    assert 0.3 < report.oracle.success_rate.mean < 0.9  # outcomes vary; they are only shared


def test_report_table_markdown_and_dict() -> None:
    report = create_tool_optimization_benchmark(SEARCH, TASKS[:1], 20, policies=["ucb1", RANDOM_BASELINE], seeds=1)
    columns, rows = report.table()
    assert columns[0] == "policy" and [r[0] for r in rows] == ["ucb1", RANDOM_BASELINE, "oracle"]
    assert all(len(r) == len(columns) for r in rows)
    assert len(report.table(oracle=False)[1]) == 2
    markdown = report.to_markdown()
    assert "| policy |" in markdown and "| oracle |" in markdown and f"best: {report.best}" in markdown
    data = json.loads(json.dumps(report.to_dict()))
    assert data["best"] == report.best and len(data["policies"]["ucb1"]["regret_curve"]) == 20
    assert report.policies["ucb1"].cumulative_regret.sd == 0.0  # one seed


def test_policy_options_reach_the_policy() -> None:
    greedy = create_tool_optimization_benchmark(
        SEARCH, TASKS[:1], 60, policies=["epsilon_greedy"], seeds=1, true_success=SEARCH_TRUTH,
        policy_options={"epsilon_greedy": {"epsilon": 1.0}},
    )
    random = create_tool_optimization_benchmark(
        SEARCH, TASKS[:1], 60, policies=[RANDOM_BASELINE], seeds=1, true_success=SEARCH_TRUTH
    )
    # epsilon = 1 explores on every call: as bad as random choice
    ratio = greedy.policies["epsilon_greedy"].cumulative_regret.mean / random.policies[RANDOM_BASELINE].cumulative_regret.mean
    assert 0.6 < ratio < 1.5


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"tools": {}}, ValueError, "tools"),
        ({"tools": []}, ValueError, "tools"),
        ({"tasks": []}, ValueError, "tasks"),
        ({"n": 0}, ValueError, "n: .* got 0"),
        ({"n": 2.5}, ValueError, "n: .* got 2.5"),
        ({"policies": ["gaussian_ts", "thompson"]}, ValueError, "policies: unknown policy 'thompson'"),
        ({"policies": []}, ValueError, "policies"),
        ({"policies": ["ucb1", "ucb1"]}, ValueError, "policies"),
        ({"policy_options": {"linucb": {}}}, ValueError, "policy_options: 'linucb'"),
        ({"seeds": 0}, ValueError, "seeds"),
        ({"seeds": [-1]}, ValueError, "seeds"),
        ({"true_success": {"nope": 0.5}}, ValueError, "true_success: unknown tool 'nope'"),
        ({"true_success": {"search_0": 1.5}}, ValueError, r"true_success\['search_0'\]"),
        ({"quality_mean": -0.1}, ValueError, "quality_mean"),
        (
            {"tasks": [TASKS[0], TaskProfile(task_id="draw", required_capabilities=["image"])]},
            NoToolForCapabilityError,
            r"tasks\[1\]: no tool serves capability 'image'",
        ),
    ],
)
def test_bad_input_raises_naming_the_field_and_value(kwargs: dict, error: type, match: str) -> None:
    args = {"tools": SEARCH, "tasks": TASKS[:1], "n": 5, "policies": ["ucb1"], "seeds": 1} | kwargs
    with pytest.raises(error, match=match):
        create_tool_optimization_benchmark(**args)
