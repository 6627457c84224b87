"""``toolrouter bench planning``: DAG planning under budget and resilient plan execution.

Tables:

1. Planning time for plans of 20 and 200 steps with 50 candidate tools per step (target: 20 x 50
   under 5 ms), budgets on cost and critical-path latency both binding.
2. Optimality gap of the fast (Lagrangian) planner against brute force on small instances, and
   against the exact branch and bound on medium ones.
3. Executor overhead per step (tools that return at once; async and thread-pool tools); the
   structure model's proposal time as learned structures pile up (100 to 5,000 over 30 capabilities).
4. End to end on a simulated ecosystem where 30% of tools are flaky or hang: success rate, cost and
   time per task with and without fallbacks, circuit breakers and retries; and success per block of
   tasks as the router learns.

Run ``toolrouter bench planning --quick`` for a seconds-long smoke run.

``toolrouter bench planning --bfcl PATH`` measures instead the plan structure the router learns,
against the real call sequences of BFCL v4 at ``PATH`` (see ``toolrouter/bench/_planning_bfcl.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import time
from collections.abc import Sequence

import networkx as nx

from toolrouter.bench._args import count, group_destinations, output_file, parse_with_quick, positive, refuse_unread
from toolrouter.bench._planning_ecosystem import make_ecosystem, research_task
from toolrouter.bench._report import median_time_s, print_table
from toolrouter.errors import BudgetInfeasibleError
from toolrouter.executor import (
    CircuitBreakerConfig,
    ExecutorConfig,
    PlanExecutor,
    RetryPolicy,
    aexecute_task,
)
from toolrouter.learner import ToolMetaLearner
from toolrouter.models import TaskProfile, TaskStep, ToolProfile, UtilityWeights
from toolrouter.planner import Candidate, assign_tools, build_task_graph, critical_path_latency
from toolrouter.structure import StructureModel, TraceStep


# --------------------------------------------------------------------------------------------------
# Random planning instances
# --------------------------------------------------------------------------------------------------
def random_instance(
    n_steps: int, n_candidates: int, rng: random.Random, fan_in: int = 4
) -> tuple[nx.DiGraph, dict[str, list[Candidate]], float, float]:
    """A random DAG (each step depends on some of the ``fan_in`` before it), random candidates,
    and budgets halfway between the cheapest/fastest plan and the most reliable one, so that both
    constraints bind."""
    steps = [
        TaskStep(
            step_id=f"s{i}",
            capability="c",
            depends_on=[f"s{j}" for j in range(max(0, i - fan_in), i) if rng.random() < 0.4],
        )
        for i in range(n_steps)
    ]
    graph = build_task_graph(steps)
    cands = {
        s: [
            Candidate(f"t{k}", rng.uniform(0.6, 1.0), rng.uniform(0.0, 1.0), rng.uniform(0.1, 2.0))
            for k in range(n_candidates)
        ]
        for s in graph
    }
    reliable = {s: max(cs, key=lambda c: c.success_prob) for s, cs in cands.items()}
    min_cost = sum(min(c.cost for c in cs) for cs in cands.values())
    fastest = critical_path_latency(graph, {s: min(c.latency_s for c in cs) for s, cs in cands.items()})
    max_cost = (min_cost + sum(c.cost for c in reliable.values())) / 2
    max_latency = (fastest + critical_path_latency(graph, {s: c.latency_s for s, c in reliable.items()})) / 2
    return graph, cands, max_cost, max_latency


def planning_time(sizes: Sequence[tuple[int, int]], repeats: int, seed: int) -> None:
    """Table 1: median planning time per plan size, wall and CPU."""
    rows = []
    for n_steps, n_cands in sizes:
        rng = random.Random(seed)
        graph, cands, max_cost, max_lat = random_instance(n_steps, n_cands, rng)
        plan = assign_tools(graph, cands, max_cost=max_cost, max_latency_s=max_lat)
        t = median_time_s(
            lambda: assign_tools(graph, cands, max_cost=max_cost, max_latency_s=max_lat),
            repeats=repeats,
            warmup=min(3, repeats),
        )
        # CPU time of this process too: on a shared machine, wall time also counts waiting for a core.
        cpu = []
        for _ in range(repeats):
            c0 = time.process_time()
            assign_tools(graph, cands, max_cost=max_cost, max_latency_s=max_lat)
            cpu.append(time.process_time() - c0)
        t_cpu = statistics.median(cpu)
        rows.append([
            f"{n_steps} x {n_cands}",
            graph.number_of_edges(),
            plan.method,
            plan.info["pruned_candidates"],
            t * 1e3,
            t_cpu * 1e3,
            "yes" if plan.feasible else "no",
            plan.expected_cost / max_cost,
            plan.critical_path_latency_s / max_lat,
            "-" if (n_steps, n_cands) != (20, 50) else
            f"wall {'met' if t < 5e-3 else 'missed'}, CPU {'met' if t_cpu < 5e-3 else 'missed'}",
        ])
    print_table(
        "Planning time (median; budgets on cost and critical path both binding)",
        ["steps x candidates", "edges", "method", "candidates after Pareto pruning", "wall ms",
         "CPU ms", "feasible", "cost / max_cost", "latency / max_latency", "target (20x50 < 5 ms)"],
        rows,
    )


def optimality_gap(n_small: int, n_medium: int, seed: int) -> None:
    """Table 2: the Lagrangian planner against brute force (small) and branch and bound (medium)."""
    rng = random.Random(seed)
    rows = []
    for label, n, (lo_steps, hi_steps), (lo_c, hi_c), reference in (
        ("small (brute force)", n_small, (3, 6), (2, 5), "brute_force"),
        ("medium (exact B&B)", n_medium, (8, 10), (5, 8), "exact"),
    ):
        gaps, rel, t_ref, t_fast, t_exact, missed, both_infeasible, exact_wrong = [], [], [], [], [], 0, 0, 0
        t_auto, auto_gaps = [], []
        for _ in range(n):
            graph, cands, max_cost, max_lat = random_instance(
                rng.randint(lo_steps, hi_steps), rng.randint(lo_c, hi_c), rng
            )
            weights = UtilityWeights(cost=rng.uniform(0.0, 0.3), latency=rng.uniform(0.0, 0.3))

            def solve(method: str):  # type: ignore[no-untyped-def]
                t0 = time.perf_counter()
                try:
                    plan = assign_tools(graph, cands, weights=weights, max_cost=max_cost,
                                        max_latency_s=max_lat, method=method)  # type: ignore[arg-type]
                except BudgetInfeasibleError:
                    plan = None
                return plan, time.perf_counter() - t0

            ref, tr = solve(reference)
            fast, tf = solve("lagrangian")
            auto, ta = solve("auto")
            t_ref.append(tr)
            t_fast.append(tf)
            t_auto.append(ta)
            if reference == "brute_force":
                exact, te = solve("exact")
                t_exact.append(te)
                if (exact is None) != (ref is None) or (
                    exact is not None and abs(exact.expected_utility - ref.expected_utility) > 1e-9
                ):
                    exact_wrong += 1
            if ref is None:
                both_infeasible += fast is None
                continue
            if fast is None:
                missed += 1
                continue
            if auto is not None:
                auto_gaps.append(ref.expected_utility - auto.expected_utility)
            gap = ref.expected_utility - fast.expected_utility
            gaps.append(gap)
            # relative to what is at stake: the value of a fully successful run (|opt| can be ~0)
            rel.append(gap / (weights.success + weights.quality))
        rows.append([
            label,
            n,
            len(gaps) + missed,
            sum(g <= 1e-9 for g in gaps) / max(len(gaps), 1),
            statistics.fmean(gaps) if gaps else 0.0,
            max(gaps) if gaps else 0.0,
            100 * statistics.fmean(rel) if rel else 0.0,
            missed,
            exact_wrong if t_exact else "-",
            statistics.median(t_ref) * 1e3,
            statistics.median(t_exact) * 1e3 if t_exact else "-",
            statistics.median(t_fast) * 1e3,
            sum(g <= 1e-9 for g in auto_gaps) / max(len(auto_gaps), 1),
            statistics.median(t_auto) * 1e3,
        ])
    print_table(
        "Optimality gap of the Lagrangian planner (objective = value * P(success) - cost - latency); "
        "auto = Lagrangian, then branch and bound seeded with it within a node budget",
        ["instances", "n", "feasible", "share optimal", "mean gap", "max gap", "mean gap, % of task value",
         "feasible plan missed", "exact != brute force", "reference ms", "exact ms", "lagrangian ms",
         "auto: share optimal", "auto ms"],
        rows,
    )


def executor_overhead(n_steps: int, repeats: int) -> None:
    """Table 3: time per step of running plans of tools that return at once."""
    rows = []

    async def async_tool(request):  # type: ignore[no-untyped-def]
        return 1

    def sync_tool(request):  # type: ignore[no-untyped-def]
        return 1

    for shape in ("chain", "parallel"):
        steps = [
            TaskStep(step_id=f"s{i}", capability="c",
                     depends_on=[f"s{i - 1}"] if (shape == "chain" and i) else [])
            for i in range(n_steps)
        ]
        graph = build_task_graph(steps)
        plan = assign_tools(graph, {s: [Candidate("t", 0.9)] for s in graph}, method="lagrangian")
        for kind, fn in (("async", async_tool), ("sync (thread pool)", sync_tool)):
            config = ExecutorConfig(timeout_s=5.0, retry=RetryPolicy(max_retries=0))
            with PlanExecutor({"t": fn}, config) as executor:
                t = median_time_s(lambda: executor.run(plan), repeats=repeats, warmup=2)
            rows.append([shape, kind, n_steps, t * 1e3, t / n_steps * 1e6])
    print_table(
        "Executor overhead (tools that return at once; breaker, timeout and recording included)",
        ["plan", "tools", "steps", "ms per run", "us per step"],
        rows,
    )


def router_run_cost(sizes: Sequence[int], repeats: int) -> None:
    """Table 3b: ``ToolMetaLearner.execute`` (plan, run, learn from every attempt) of a chain of
    n steps over two tools that return at once: per step it should cost the same at every n."""
    rows = []
    tools = [ToolProfile(tool_id=t, capabilities=("c",), expected_latency_s=0.0) for t in ("a", "b")]
    for n in sizes:
        steps = [TaskStep(step_id=f"s{i}", capability="c", depends_on=[f"s{i - 1}"] if i else []) for i in range(n)]
        router = ToolMetaLearner(tools, seed=0)
        router.functions.update({"a": lambda request: 1, "b": lambda request: 1})
        tasks = iter(range(10**9))

        def run() -> None:
            router.execute(TaskProfile(task_id=f"chain{next(tasks)}", steps=steps))

        t = median_time_s(run, repeats=repeats, warmup=1)
        rows.append([n, t * 1e3, t / n * 1e6])
    print_table(
        "The router's execute of a chain (plan, run with sync tools, learn from every attempt)",
        ["steps", "ms per run", "us per step"],
        rows,
    )


def _structure_trace(model: StructureModel, trace_id: str, rng: random.Random, capabilities: Sequence[str],
                     words: Sequence[str]) -> None:
    """One trace of 1 to 6 steps over random capabilities, each consuming some earlier ones."""
    steps = []
    for j in range(rng.randint(1, 6)):
        parents = tuple(f"s{p}" for p in range(j) if rng.random() < 0.4)
        steps.append(TraceStep(f"s{j}", rng.choice(capabilities), parents))
    request = " ".join(rng.choice(words) for _ in range(4)) + " " + " ".join(s.capability for s in steps)
    for step in steps:
        model.observe(trace_id, f"type{rng.randrange(40)}", step, request=request)


def structure_proposal_time(sizes: Sequence[int], repeats: int, seed: int) -> None:
    """Table 3c: ``StructureModel.propose`` (what ``optimize_task_execution`` asks for a task that
    declares no steps) with n distinct structures learned over 30 capabilities, and the same with
    a trace of a new structure learned before each proposal."""
    rng = random.Random(seed)
    capabilities = [f"cap{i}" for i in range(30)]
    words = "search fetch weather stock translate summarise email calendar book flight plot file sort".split()
    descriptions = {c: f"{words[i % len(words)]} and {words[i * 7 % len(words)]}" for i, c in enumerate(capabilities)}
    rows = []
    for n in sizes:
        model = StructureModel()
        traces = itertools.count()
        while model.traces() == 0 or len(model._names) < n:  # the distinct structures learned
            _structure_trace(model, f"t{next(traces)}", rng, capabilities, words)
        requests = itertools.cycle([" ".join(rng.choice(words) for _ in range(5)) for _ in range(16)])

        def propose() -> None:
            model.propose("type0", capabilities=descriptions, request=next(requests))

        def learn_then_propose() -> None:
            _structure_trace(model, f"t{next(traces)}", rng, capabilities, words)
            propose()

        rows.append([n, median_time_s(propose, repeats=repeats, warmup=2) * 1e3,
                     median_time_s(learn_then_propose, repeats=repeats, warmup=2) * 1e3])
    print_table(
        "Structure proposal time (StructureModel.propose with a request, 30 capabilities with descriptions; median)",
        ["structures", "ms per proposal", "ms per trace learned + proposal"],
        rows,
    )


async def _ecosystem_run(
    n_tasks: int, config: ExecutorConfig, seed: int, max_cost: float | None, learn: bool = True
):
    eco = make_ecosystem(seed=seed)
    learner = ToolMetaLearner(eco.profiles, seed=seed)
    costs = {t: p.cost_per_use for t, p in learner.tools.items()}
    executor = PlanExecutor(eco.functions, config, costs=costs)
    outcomes = []
    t0 = time.perf_counter()
    try:
        for i in range(n_tasks):
            task = research_task(i, max_cost)
            if learn:
                execution = await aexecute_task(learner, task, inputs="query", executor=executor)
                run = execution.run
            else:  # the same router's plans from its priors alone: nothing is learned
                run = await executor.arun(learner.optimize_task_execution(task), "query")
            outcomes.append((run.succeeded, run.total_cost, len(run.attempts), run.latency_s))
    finally:
        executor.close()
    opened = sum(b.times_opened for b in executor.breakers.values())
    return outcomes, time.perf_counter() - t0, opened


def ecosystem(n_tasks: int, seed: int, blocks: int) -> None:
    """Tables 4-6: end to end on the simulated ecosystem, per executor configuration."""
    eco = make_ecosystem(seed=seed)
    timeout_s = 0.03
    base = dict(timeout_s=timeout_s, seed=seed)
    breakers = CircuitBreakerConfig(failure_threshold=3, reset_timeout_s=0.25)
    full = ExecutorConfig(**base, retry=RetryPolicy(max_retries=1, base_delay_s=0.002), circuit_breaker=breakers)
    configs = {
        "chosen tool only": (ExecutorConfig(**base, use_fallbacks=False, circuit_breaker=None,
                                            retry=RetryPolicy(max_retries=0)), True),
        "+ fallbacks": (ExecutorConfig(**base, circuit_breaker=None, retry=RetryPolicy(max_retries=0)), True),
        "+ fallbacks + breakers": (ExecutorConfig(**base, retry=RetryPolicy(max_retries=0),
                                                  circuit_breaker=breakers), True),
        "+ fallbacks + breakers + 1 retry": (full, True),
        "same, router not learning": (full, False),
        "+ fallbacks, router not learning": (ExecutorConfig(**base, circuit_breaker=None,
                                                            retry=RetryPolicy(max_retries=0)), False),
        "+ fallbacks + breakers, router not learning": (ExecutorConfig(
            **base, retry=RetryPolicy(max_retries=0), circuit_breaker=breakers), False),
        "chosen tool only, router not learning": (ExecutorConfig(
            **base, use_fallbacks=False, circuit_breaker=None, retry=RetryPolicy(max_retries=0)), False),
    }
    rows, curves, attempt_curves = [], {}, {}
    for name, (config, learn) in configs.items():
        outcomes, wall, opened = asyncio.run(_ecosystem_run(n_tasks, config, seed, max_cost=3.0, learn=learn))
        ok = [o[0] for o in outcomes]
        rows.append([
            name,
            n_tasks,
            sum(ok) / n_tasks,
            statistics.fmean(o[1] for o in outcomes),
            statistics.fmean(o[2] for o in outcomes),
            statistics.fmean(o[3] for o in outcomes) * 1e3,
            opened,
            wall,
        ])
        size = max(1, n_tasks // blocks)
        curves[name] = [sum(ok[i : i + size]) / len(ok[i : i + size]) for i in range(0, n_tasks, size)]
        attempt_curves[name] = [
            statistics.fmean(o[2] for o in outcomes[i : i + size]) for i in range(0, n_tasks, size)
        ]
    print_table(
        f"End to end: research task (5 steps, 2 in parallel) over {len(eco.env.tools)} simulated tools, "
        f"{len(eco.flaky)} flaky and {len(eco.hanging)} hanging (50-200 ms, timeout {timeout_s * 1e3:.0f} ms); "
        "router gaussian_ts (learning online unless noted), max_cost 3.0",
        ["executor", "tasks", "success rate", "cost per task", "attempts per task", "ms per task",
         "circuits opened", "wall s"],
        rows,
    )
    size = max(1, n_tasks // blocks)
    header = ["executor"] + [f"tasks {i + 1}-{min(i + size, n_tasks)}" for i in range(0, n_tasks, size)]
    print_table("Success rate per block of tasks as the router learns", header,
                [[name, *curve] for name, curve in curves.items()])
    print_table("Attempts per task per block (fewer: the router stopped calling bad tools)", header,
                [[name, *curve] for name, curve in attempt_curves.items()])


#: What ``--quick`` sets, unless the command line gives the option.
QUICK = {"tasks": 12, "seeds": 1}
BFCL_GROUP = "learned plan structure on BFCL (only these tables)"


def build_parser() -> argparse.ArgumentParser:
    """The suite's options."""
    parser = argparse.ArgumentParser(prog="toolrouter bench planning", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="toy sizes: a smoke run of seconds")
    parser.add_argument("--seed", type=count, default=0, help="seed of the generated plans, tools and tasks (default 0)")
    parser.add_argument("--tasks", type=positive, default=200, help="tasks per executor configuration (default 200; 12 with --quick)")
    bfcl = parser.add_argument_group(BFCL_GROUP)
    bfcl.add_argument("--bfcl", metavar="PATH", default=None,
                      help="a BFCL v4 folder as the bfcl-eval package ships it (e.g. ../shared/data/bfcl)")
    bfcl.add_argument("--featurizer", default="hashing", help="hashing (default), minilm or minilm+hashing")
    bfcl.add_argument("--split", choices=("report", "tune"), default="report",
                      help="report: learn the tune half, measure on the held-apart half; tune: inside the tune half")
    bfcl.add_argument("--seeds", type=positive, default=3, help="orders of the online pass (default 3; 1 with --quick)")
    bfcl.add_argument("--seed-start", type=count, default=0,
                      help="seed of the first order (default 0): later seeds give orders no earlier choice saw")
    bfcl.add_argument("--structure-config", default="{}", metavar="JSON", help="StructureConfig fields that override the chosen ones")
    bfcl.add_argument("--json", type=output_file, default=None, metavar="FILE", help="also write the figures to FILE")
    return parser


def main(argv: list[str]) -> None:
    """Entry point of ``toolrouter bench planning``."""
    parser = build_parser()
    args = parse_with_quick(parser, argv, QUICK)
    if args.bfcl is None:  # a --json or --featurizer without --bfcl was ignored, the JSON file never written
        refuse_unread(parser, argv, [("the BFCL tables (--bfcl PATH)", group_destinations(parser, BFCL_GROUP))])
    else:
        refuse_unread(parser, argv, [("the planning tables, which --bfcl replaces", ["seed", "tasks"])])
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is a runtime dependency
        pass
    if args.bfcl is not None:
        from toolrouter.bench._planning_bfcl import FEATURIZERS, run

        if args.featurizer not in FEATURIZERS:
            parser.error(f"--featurizer: unknown {args.featurizer!r}; choose from {FEATURIZERS}")
        try:
            config = json.loads(args.structure_config)
        except json.JSONDecodeError as exc:
            parser.error(f"--structure-config: not JSON ({exc.msg}): {args.structure_config!r}")
        if not isinstance(config, dict):
            parser.error(f"--structure-config: expected a JSON object of StructureConfig fields, got {args.structure_config!r}")
        run(args.bfcl, featurizer=args.featurizer, split=args.split, seeds=list(range(args.seed_start, args.seed_start + args.seeds)),
            config=config, quick=args.quick, json_out=args.json)
        return
    if args.quick:
        planning_time([(20, 50), (200, 50)], repeats=1, seed=args.seed)
        optimality_gap(n_small=6, n_medium=1, seed=args.seed)
        executor_overhead(n_steps=10, repeats=2)
        router_run_cost([10, 40], repeats=1)
        structure_proposal_time([50, 200], repeats=3, seed=args.seed)
        ecosystem(n_tasks=args.tasks, seed=args.seed, blocks=3)
    else:
        planning_time([(5, 50), (20, 50), (50, 50), (200, 50)], repeats=50, seed=args.seed)
        optimality_gap(n_small=300, n_medium=40, seed=args.seed)
        executor_overhead(n_steps=100, repeats=30)
        router_run_cost([100, 300, 1000], repeats=3)
        structure_proposal_time([100, 1000, 5000], repeats=20, seed=args.seed)
        ecosystem(n_tasks=args.tasks, seed=args.seed, blocks=5)


if __name__ == "__main__":  # pragma: no cover
    import sys

    main(sys.argv[1:])
