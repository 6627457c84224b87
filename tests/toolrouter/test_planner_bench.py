"""The planning benchmark runs at toy size and prints its tables."""

from __future__ import annotations

from toolrouter.bench import available_suites
from toolrouter.bench.planning import main, random_instance
from toolrouter.planner import assign_tools


def test_planning_bench_quick_prints_every_table(capsys) -> None:
    assert "planning" in available_suites()
    main(["--quick", "--tasks", "6"])
    out = capsys.readouterr().out
    for title in ("Planning time", "Optimality gap", "Executor overhead", "End to end",
                  "Success rate per block", "Structure proposal time"):
        assert title in out
    assert "| 20 x 50 |" in out and "| 200 x 50 |" in out
    assert "chosen tool only" in out and "+ fallbacks + breakers" in out


def test_random_instances_have_binding_but_feasible_budgets() -> None:
    import random

    graph, cands, max_cost, max_latency = random_instance(12, 10, random.Random(4))
    plan = assign_tools(graph, cands, max_cost=max_cost, max_latency_s=max_latency)
    assert plan.feasible and plan.expected_cost <= max_cost + 1e-9
    unconstrained = assign_tools(graph, cands, value=1e6)  # success is all that matters
    assert unconstrained.expected_cost > max_cost or unconstrained.critical_path_latency_s > max_latency
