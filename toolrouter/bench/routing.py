"""``toolrouter bench routing``: decision overhead and learning (regret) of the bandit policies,
side by side with Vowpal Wabbit and MABWiser.

Part 1, overhead: median time per decision and per decision plus update with ``--tools`` arms
(contextual policies at ``--dim``), the peers on the same contexts, their ratios to ours, and a
full routed call through the middleware with no-op tools; and the time to build a route of
``--tools`` arms (one ``add_arm`` per tool).

Part 2, learning: cumulative regret against the oracle, every router on the same streams and
seeds: (a) stationary synthetic tools, (b) drifting (the best tool drops to 10% success half-way),
(c) contextual synthetic tools, (d) a replay of RouterBench (MBPP and Winogrande; each of the 11
LLMs is a tool; reward = quality - cost_weight * cost; context = hashed prompt; the router sees
only the outcome of the model it picked). Regret curves are saved as PNG under ``--out``.

Example:
    toolrouter bench routing --quick
    toolrouter bench routing --seeds 3 --out bench_out
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch

from toolrouter.bench._args import (
    UsageError, count, given_options, name_list, named_by, output_folder, parse_with_quick, real, refuse_unread,
)
from toolrouter.bench._report import NOT_AT_QUICK, console, print_quick_note, print_table
from toolrouter.bench._routing_agents import peer_specs, policy_specs
from toolrouter.bench._routing_learning import (
    RouterBenchStream,
    RunResult,
    Stream,
    SyntheticStream,
    plot_curves,
    run_stream,
)
from toolrouter.bench._routing_overhead import (
    SAMPLE_PROMPT,
    Timing,
    featurizer_timing,
    handoff_timing,
    middleware_timing,
    peer_timings,
    policy_timing,
    route_build_timing,
)
from toolrouter.attempts import ExecutorConfig, RetryPolicy
from toolrouter.data import data_dir, load_routerbench, suggest_fetch
from toolrouter.policies import POLICIES

STREAMS = ("stationary", "drifting", "contextual", "routerbench")
NON_CONTEXTUAL_TARGET_S = 50e-6
LIN_TS_TARGET_S = 0.5e-3
#: A routed call's cost beyond the tool's own time (50 tools, gaussian_ts, the tool in the calling
#: thread): the middleware must stay negligible next to any real tool.
ROUTED_CALL_TARGET_S = 40e-6


#: What ``--quick`` sets, unless the command line gives the option.
QUICK = {"tools": 10, "dim": 16, "repeats": 100, "horizon": 150, "seeds": 1, "feature_dim": 32}
#: The options (destinations) that only one part, or only the RouterBench stream, reads.
OVERHEAD_OPTIONS = ("tools", "dim", "repeats")
ROUTERBENCH_OPTIONS = ("routerbench", "skip_incomplete", "cost_weight", "feature_dim", "passes")
LEARNING_OPTIONS = ("seeds", "horizon", "synthetic_tools", "synthetic_dim", "streams", "out", *ROUTERBENCH_OPTIONS)


def build_parser() -> argparse.ArgumentParser:
    """The suite's options."""
    p = argparse.ArgumentParser(prog="toolrouter bench routing", description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="toy sizes: runs in seconds")
    p.add_argument("--part", choices=["all", "overhead", "learning"], default="all", help="which part to run (default all)")
    p.add_argument("--out", type=output_folder, default=Path("bench_out"), help="folder for the PNG curves")
    p.add_argument("--seeds", type=count, default=3, help="seeds per learning stream")
    p.add_argument("--tools", type=count, default=50, help="arms in the overhead part")
    p.add_argument("--dim", type=count, default=384, help="context dimension in the overhead part")
    p.add_argument("--repeats", type=count, default=2000, help="timed calls per overhead measurement")
    p.add_argument("--horizon", type=count, default=3000, help="decisions per synthetic stream")
    p.add_argument("--synthetic-tools", type=count, default=10, help="arms of the synthetic streams")
    p.add_argument("--synthetic-dim", type=count, default=8, help="context dimension of stream (c)")
    p.add_argument(
        "--routerbench",
        type=Path,
        default=None,
        help="folder of the RouterBench CSVs (default: the data cache's, skipped when missing; a folder given must exist)",
    )
    p.add_argument(
        "--skip-incomplete",
        action="store_true",
        help="drop RouterBench rows with a missing, empty or invalid quality or cost (default: refuse the file)",
    )
    p.add_argument("--cost-weight", type=real(0), default=50.0, help="lambda in quality - lambda * cost")
    p.add_argument("--feature-dim", type=count, default=256, help="HashingFeaturizer dimension for RouterBench")
    p.add_argument("--passes", type=count, default=1, help="replays of the RouterBench prompts")
    p.add_argument("--no-peers", action="store_true", help="skip Vowpal Wabbit and MABWiser")
    p.add_argument(
        "--streams",
        default=",".join(STREAMS),
        help=f"comma-separated learning streams to run, from {','.join(STREAMS)}",
    )
    return p


def _seeds(n: int) -> str:
    return f"{n} seed" if n == 1 else f"{n} seeds"


def _us(seconds: float) -> float:
    return seconds * 1e6


def run_overhead(args: argparse.Namespace) -> list[Timing]:
    """Part 1; prints its tables and returns the timings."""
    timings = []
    slow = max(args.repeats // 100, 5)
    for name, cls in POLICIES.items():
        # LinUCB's decision is K d^2 work (milliseconds at d=384): fewer repeats keep the run short
        repeats = slow * 4 if name == "linucb" else args.repeats
        timings.append(policy_timing(name, args.tools, args.dim, repeats))
    timings.append(
        policy_timing("gaussian_ts", args.tools, args.dim, args.repeats, label="gaussian_ts(discount=0.999)", discount=0.999)
    )
    timings.append(policy_timing("ucb1", args.tools, args.dim, args.repeats, label="ucb1(window=1000)", window=1000))
    for r in (1, 8):
        timings.append(
            policy_timing("lin_ts", args.tools, args.dim, args.repeats, label=f"lin_ts(refresh_arms={r})", refresh_arms=r)
        )
    timings.append(policy_timing("lin_ts", args.tools, args.dim, slow * 4, label="lin_ts(exact=True)", exact=True))
    if not args.no_peers:
        timings += peer_timings(args.tools, args.dim, max(args.repeats // 4, 20), slow)
    ours = {t.router: t for t in timings}
    lin_ts = ours["lin_ts"]
    rows = []
    for t in timings:
        contextual = t.context_dim > 0
        if t.router.startswith(("vw", "mabwiser")):
            target, met = "-", "-"
        elif t.router == "lin_ts":
            target, met = "< 500", "yes" if t.decision_s < LIN_TS_TARGET_S else "no"
        elif not contextual:
            target, met = "< 50", "yes" if t.decision_s < NON_CONTEXTUAL_TARGET_S else "no"
        else:
            target, met = "-", "-"
        if args.quick and met != "-":
            met = NOT_AT_QUICK
        rows.append(
            [
                t.router,
                t.context_dim or "-",
                round(_us(t.decision_s), 1),
                round(_us(t.decision_update_s), 1),
                target,
                met,
                round(t.decision_update_s / lin_ts.decision_update_s, 2) if contextual else "-",
            ]
        )
    print_table(
        f"Decision overhead, {args.tools} tools (median microseconds; contextual at d={args.dim})",
        ["router", "d", "decision us", "decision+update us", "target us", "met", "x lin_ts (dec+upd)"],
        rows,
    )
    if args.quick:
        print_quick_note("decision-time targets (50 tools, d=384)")
    builds = [(name, route_build_timing(name, args.tools, args.dim, 5)) for name in POLICIES]
    print_table(
        f"Building a route of {args.tools} tools (add_arm per tool; median of 5 builds; contextual at d={args.dim})",
        ["router", "d", "ms per route", "us per tool"],
        [
            [name, args.dim if POLICIES[name].contextual else "-", round(s * 1e3, 2), round(_us(s) / args.tools, 1)]
            for name, s in builds
        ],
    )
    extra = [["HashingFeaturizer, one prompt (text cache off, word cache warm)", args.dim, round(_us(featurizer_timing(args.dim, max(args.repeats // 4, 20))), 1)]]
    inline = ExecutorConfig(timeout_s=None, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
    routed_inline = middleware_timing(args.tools, max(args.repeats // 4, 20), config=inline)
    routed = middleware_timing(args.tools, max(args.repeats // 4, 20))
    if routed is not None and routed_inline is not None:
        overhead = routed_inline[0] - routed_inline[1]
        met = "yes" if overhead < ROUTED_CALL_TARGET_S else "no"
        extra.append([
            "ToolMiddleware call, no-op tools, gaussian_ts, timeout_s=None (tool runs in the calling thread)", "-",
            round(_us(routed_inline[0]), 1),
        ])
        extra.append([
            f"  overhead beyond the tool (routed - direct); target < {_us(ROUTED_CALL_TARGET_S):g} us: "
            f"{NOT_AT_QUICK if args.quick else met}", "-", round(_us(overhead), 1),
        ])
        extra.append(["ToolMiddleware call, no-op tools, gaussian_ts, default (30 s timeout: tool in a worker thread)", "-", round(_us(routed[0]), 1)])
        extra.append(["  overhead beyond the tool (routed - direct)", "-", round(_us(routed[0] - routed[1]), 1)])
        extra.append(["  of which: a no-op run in the worker thread and waited for", "-", round(_us(handoff_timing(max(args.repeats // 4, 20))), 1)])
        routed = middleware_timing(
            args.tools, max(args.repeats // 8, 20), context=SAMPLE_PROMPT, policy="lin_ts", context_dim=args.dim
        )
        assert routed is not None
        extra.append(["ToolMiddleware call, no-op tools, lin_ts with a text context", args.dim, round(_us(routed[0]), 1)])
        extra.append(["  overhead beyond the tool (routed - direct)", args.dim, round(_us(routed[0] - routed[1]), 1)])
    print_table(f"Around the decision ({args.tools} tools, median microseconds)", ["what", "d", "us"], extra)
    return timings


def _streams(args: argparse.Namespace, asked: bool = False) -> list[Stream]:
    """The learning streams ``args`` names; the RouterBench replay is skipped, with a note, only
    where its default folder is missing and the command line did not ask for it (``asked``)."""
    wanted = set(args.streams)
    streams: list[Stream] = [
        SyntheticStream("stationary", n_tools=args.synthetic_tools, horizon=args.horizon),
        SyntheticStream("drifting", n_tools=args.synthetic_tools, horizon=args.horizon, drifting=1),
        SyntheticStream(
            "contextual", n_tools=args.synthetic_tools, horizon=args.horizon, context_dim=args.synthetic_dim
        ),
    ]
    streams = [s for s in streams if s.name in wanted]
    if "routerbench" not in wanted:
        return streams
    folder = data_dir() / "routerbench" if args.routerbench is None else args.routerbench
    # a replay or folder named on the command line is read or refused: skipping it would measure
    # something else (`--streams routerbench` measured nothing, and succeeded)
    if folder.is_dir() or args.routerbench is not None or asked:
        # the fetch command is named for the default folder only: one named is the user's own
        fetch = suggest_fetch("routerbench") if args.routerbench is None else contextlib.nullcontext()
        with fetch, named_by("--routerbench"):
            data = load_routerbench(folder, limit=25 if args.quick else None, skip_incomplete=args.skip_incomplete)
        if args.skip_incomplete:
            console.print(f"RouterBench: --skip-incomplete dropped {data.dropped_rows} row(s)", markup=False)
        streams.append(
            RouterBenchStream(data, cost_weight=args.cost_weight, feature_dim=args.feature_dim, passes=args.passes)
        )
    else:
        console.print(
            f"RouterBench folder {str(folder)!r} not found: replay skipped (toolrouter data fetch routerbench)",
            markup=False,
        )
    return streams


def _learning_table(stream: Stream, results: list[RunResult], seeds: int) -> None:
    is_rb = isinstance(stream, RouterBenchStream)
    rows = []
    for res in sorted(results, key=lambda r: float(r.final_regret.mean())):
        final = res.final_regret
        row = [
            res.agent,
            round(float(final.mean()), 1),
            round(float(final.std()), 1),
            round(float(np.mean(res.rewards)), 4),
            round(_us(res.seconds / (stream.horizon * seeds)), 1),
        ]
        if is_rb:
            row += [
                round(float(np.mean([e["mean_quality"] for e in res.extras])), 4),
                round(float(np.mean([e["total_cost"] for e in res.extras])), 3),
            ]
        rows.append(row)
    columns = ["router", "regret (mean)", "regret (sd)", "mean reward", "us per step"]
    if is_rb:
        columns += ["mean quality", "total cost $"]
        for name, ref in stream.references().items():
            rows.append([name, round(ref["regret"], 1), 0.0, round(ref["mean_utility"], 4), "-",
                         round(ref["mean_quality"], 4), round(ref["total_cost"], 3)])
    title = f"Learning: {stream.name}, {stream.n_arms} tools, {stream.horizon} decisions, {_seeds(seeds)}"
    if is_rb:
        title += f", reward = quality - {stream.cost_weight:g} * cost, context d={stream.context_dim}"
    print_table(title, columns, rows)


def run_learning(args: argparse.Namespace, streams: list[Stream] | None = None) -> dict[str, list[RunResult]]:
    """Part 2 on ``streams`` (default: those ``args`` names); prints a table per stream, saves the
    PNG curves, returns the results."""
    seeds = list(range(args.seeds))
    specs = policy_specs() + ([] if args.no_peers else peer_specs())
    out: dict[str, list[RunResult]] = {}
    for stream in _streams(args) if streams is None else streams:
        results = run_stream(stream, specs, seeds)
        out[stream.name] = results
        _learning_table(stream, results, len(seeds))
        png = args.out / f"routing_regret_{stream.name}.png"
        reference = None
        if isinstance(stream, RouterBenchStream):
            name, ref = next(iter(stream.references().items()))
            reference = (name, ref["regret"])
        if plot_curves(results, f"{stream.name}: cumulative regret ({_seeds(len(seeds))})", png, reference):
            console.print(f"saved {png}", markup=False)
    return out


def _unread(parser: argparse.ArgumentParser, argv: list[str], args: argparse.Namespace) -> None:
    """Refuse options of a part, or of the RouterBench stream, that the run leaves out: the run
    would not be the one asked for (a --routerbench folder that does not exist passed too)."""
    left_out = []
    if args.part == "overhead":
        left_out.append(("the learning part, which --part overhead skips", LEARNING_OPTIONS))
    elif args.part == "learning":
        left_out.append(("the overhead part, which --part learning skips", OVERHEAD_OPTIONS))
    if args.part != "overhead" and "routerbench" not in args.streams:
        left_out.append(("the routerbench stream, which --streams leaves out", ROUTERBENCH_OPTIONS))
    refuse_unread(parser, argv, left_out)


def main(argv: list[str]) -> None:
    """Run the suite; ``argv`` are its options (``--help`` lists them)."""
    parser = build_parser()
    args = parse_with_quick(parser, argv, QUICK)
    # a contextual stream of dimension 0 is the stationary one again, reported as contextual
    for name in ("seeds", "tools", "dim", "repeats", "horizon", "synthetic_tools", "synthetic_dim", "feature_dim", "passes"):
        if getattr(args, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)!r}")
    args.streams = name_list("--streams", args.streams, STREAMS)  # "," was refused as "unknown []"
    _unread(parser, argv, args)
    if args.part in ("all", "learning"):
        try:  # the default folder too, not only one given: the figures are saved after the run
            output_folder(str(args.out))
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"--out: {exc}") from None
    # the data is read first, so that a bad RouterBench file stops the run before the timings
    # asked for: --streams, or an option only the replay reads, is given
    asked = bool(given_options(parser, argv) & {"streams", *ROUTERBENCH_OPTIONS})
    streams = _streams(args, asked) if args.part in ("all", "learning") else []
    torch.set_num_threads(1)
    console.print("Timings on a shared machine: compare the ratios measured in one run.", markup=False)
    with _one_blas_thread():
        if args.part in ("all", "overhead"):
            run_overhead(args)
        if args.part in ("all", "learning"):
            run_learning(args, streams)


@contextlib.contextmanager
def _one_blas_thread() -> Iterator[None]:
    """Single-threaded BLAS while measuring: on a shared 2-core machine, BLAS worker threads spin
    against other processes and turn a 20 microsecond product into milliseconds."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1):
        yield
