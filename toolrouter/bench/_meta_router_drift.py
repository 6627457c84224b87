"""Drift: tools break, get repaired, improve; does the router follow, and what does it cost?

Two parts. The RouterBench replays (``_meta_router_drift_replay``, first): a real router on real LLM
outcomes with a change injected, per policy and detector (see that module). Then the synthetic world:
a tool breaks for one task type; how soon does traffic leave it, and do the others suffer?

World: ``_meta_router_world``. Task types ``fam0 .. fam5`` arrive in turn, each call a fresh text
request, through a real ``ToolMetaLearner`` (``rank_tool_ids`` then ``record_attempt``). At the
middle of the stream the tool the oracle picks most often for ``fam0`` breaks *for fam0 only*: its
utility there drops by ``--dr-drop``. Utilities are mapped to outcome quality by ``q = (u + 0.5) / 2``
(clipped to [0, 1]) with ``UtilityWeights(success=0, quality=1, cost=0, latency=0)``; regret is in
the world's utility units.

Reported per method: the share of ``fam0``'s calls that went to the tool before it broke (a method
that hardly used it has little to move), calls on ``fam0`` after the break until 80% of a window of
20 of its decisions avoid the broken tool (20 at the least) (``never`` if that does not happen by the end), and the regret on the
untouched task types after the break, against the same run without the break (same seed): the
difference must not be positive beyond noise.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from toolrouter import ExecutionResult, ToolMetaLearner, UtilityWeights
from toolrouter.bench import _meta_router_drift_replay as rp
from toolrouter.bench._args import UsageError, count, name_list, positive, real
from toolrouter.bench._meta_router_world import World, make_world
from toolrouter.bench._report import NOT_AT_QUICK, console, print_quick_note, print_table
from toolrouter.data import DatasetMissingError, load_routerbench, suggest_fetch
from toolrouter.data.routerbench import EVALS, SPLITS
from toolrouter.drift import DetectorConfig
from toolrouter.features import HashingFeaturizer
from toolrouter.reward_model import MetaRewardModel, Outcome, meta_train

WEIGHTS = UtilityWeights(success=0.0, quality=1.0, cost=0.0, latency=0.0)
TYPES = 6
WINDOW, SHARE = 20, 0.8


#: The detectors the replays compare: off, the default configuration, the default without rechecks
#: (what the rechecks cost and buy), and CUSUM.
REPLAY_DETECTORS: dict[str, Any] = {
    "none": None,
    "page_hinkley": DetectorConfig(),
    "page_hinkley (no rechecks)": DetectorConfig(recheck_after=None),
    "cusum": DetectorConfig(kind="cusum"),
}
#: What the targets judge: the default detector, for these policies.
TARGETS = {"broken": 10, "repair": 150, "improve": 200, "regret": 0.10, "false_resets": 0.1}


#: What ``--quick`` sets for this section, unless the command line gives the option.
QUICK = {
    "dr_replays": "mbpp", "dr_policies": "gaussian_ts,lin_ts", "dr_replay_calls": 400, "dr_change_at": 150,
    "dr_repair_after": 100, "dr_calls": 240, "dr_meta_steps": 20, "seeds": 1,
}


#: The options only the RouterBench replays read: one given on the command line asks for them, so
#: that their missing data is refused instead of the replays being skipped.
REPLAY_OPTIONS = ("dr_replays", "dr_split", "dr_policies", "dr_detectors", "dr_replay_calls", "dr_change_at", "dr_repair_after")


def replays(args: argparse.Namespace) -> list[str]:
    """The RouterBench datasets ``args`` replays (none: ``--dr-replays ''``)."""
    if not args.dr_replays.replace(",", "").strip():
        return []
    return name_list("--dr-replays", args.dr_replays, EVALS)


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--dr-replays", default="mbpp,winogrande",
        help="RouterBench datasets to replay with injected changes, comma-separated ('' for none; default both)",
    )
    group.add_argument(
        "--dr-split", default="test", choices=SPLITS,
        help="split replayed (default test; the defaults of the detectors were chosen on train)",
    )
    group.add_argument(
        "--dr-policies", default="gaussian_ts,lin_ts,neural_linear", help="policies of the replays, comma-separated"
    )
    group.add_argument(
        "--dr-detectors", default=",".join(REPLAY_DETECTORS), help=f"detectors of the replays, from {list(REPLAY_DETECTORS)}"
    )
    group.add_argument("--dr-replay-calls", type=positive, default=2000, help="calls per replay (default 2000)")
    group.add_argument("--dr-change-at", type=count, default=600, help="call at which the change begins (default 600)")
    group.add_argument("--dr-repair-after", type=count, default=400, help="calls a tool stays broken before its repair (default 400)")
    group.add_argument("--dr-calls", type=positive, default=2400, help="calls in the stream, all types (default 2400)")
    group.add_argument("--dr-drop", type=real(0, low_open=True), default=1.0, help="utility lost by the broken tool (default 1.0)")
    group.add_argument("--dr-meta-steps", type=positive, default=300, help="meta-training steps for the reward model")


def _quality(u: float) -> float:
    return float(np.clip((u + 0.5) / 2.0, 0.0, 1.0))


def _methods(model: MetaRewardModel | None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {
        "gaussian_ts": {"policy": "gaussian_ts"},
        "gaussian_ts, discount 0.98": {"policy": "gaussian_ts", "policy_options": {"discount": 0.98}},
        "gaussian_ts + page_hinkley": {"policy": "gaussian_ts", "drift_detection": "page_hinkley"},
        "lin_ts + page_hinkley": {"policy": "lin_ts", "drift_detection": "page_hinkley"},
    }
    if model is not None:
        out["neural_linear + reward model"] = {"policy": "neural_linear", "reward_model": model}
        out["neural_linear + reward model + page_hinkley"] = {"policy": "neural_linear", "reward_model": model, "drift_detection": "page_hinkley"}
    return out


def _play(world: World, router: ToolMetaLearner, calls: int, broken: str | None, drop: float, seed: int) -> tuple[list[str], list[float], list[str]]:
    """Picks on fam0 after the break, per-call regret on the other types after the break, and
    the last ``WINDOW * 5`` picks on fam0 before it."""
    rng = np.random.default_rng(seed)
    ids = [t.tool_id for t in world.tools]
    k_broken = ids.index(broken) if broken is not None else -1
    picks: list[str] = []
    others: list[float] = []
    before: list[str] = []
    for t in range(calls):
        fam = t % TYPES
        text, u = world.request(fam, rng)
        after = t >= calls // 2
        if after and fam == 0 and k_broken >= 0:
            u = u.copy()
            u[k_broken] -= drop
        tool = router.rank_tool_ids("answer", task_type=f"fam{fam}", context=text)[0]
        k = ids.index(tool)
        router.record_attempt(
            ExecutionResult(tool_id=tool, step="answer", success=True, quality=_quality(world.outcome(u[k], rng))),
            capability="answer", task_type=f"fam{fam}", context=text,
        )
        if not after and fam == 0:
            before = (before + [tool])[-WINDOW * 5 :]
        if after:
            if fam == 0:
                picks.append(tool)
            else:
                others.append(float(u.max() - u[k]))
    return picks, others, before


def _calls_to_move(picks: list[str], broken: str) -> float:
    for i in range(WINDOW, len(picks) + 1):
        if picks[i - WINDOW : i].count(broken) <= (1 - SHARE) * WINDOW:
            return float(i)
    return float("inf")


def check(args: argparse.Namespace) -> None:
    """Refuse option values the section cannot run with (before any section runs)."""
    if replays(args):
        _policies_and_detectors(args)
        _replay_config(args)


def run(args: argparse.Namespace) -> None:
    """The RouterBench replays, then every method on ``args.seeds`` synthetic worlds, with and
    without the break."""
    run_replays(args)
    run_world(args)


def _replay_config(args: argparse.Namespace) -> rp.ReplayConfig:
    calls, change, repair = args.dr_replay_calls, args.dr_change_at, args.dr_repair_after
    if not 0 < change < change + repair < calls:
        raise UsageError(f"--dr-change-at and --dr-repair-after: need 0 < {change} < {change + repair} < --dr-replay-calls {calls}")
    if args.quick:  # toy sizes of what has no option
        return rp.ReplayConfig(calls=calls, change_at=change, repair_after=repair, former=min(60, change), window=10, context_dim=32)
    return rp.ReplayConfig(calls=calls, change_at=change, repair_after=repair, former=min(200, change))


def _policies_and_detectors(args: argparse.Namespace) -> tuple[list[str], dict[str, Any]]:
    # "," replayed nothing and printed empty tables; a repeat was replayed twice
    from toolrouter.policies import POLICIES

    policies = name_list("--dr-policies", args.dr_policies, list(POLICIES))
    names = name_list("--dr-detectors", args.dr_detectors, list(REPLAY_DETECTORS))
    return policies, {n: REPLAY_DETECTORS[n] for n in names}


def run_replays(args: argparse.Namespace) -> None:
    """Every policy and detector on every scenario of each RouterBench replay; a table per dataset,
    then the targets of the default detector."""
    evals = replays(args)
    if not evals:
        return
    policies, detectors = _policies_and_detectors(args)
    config = _replay_config(args)
    quick = args.quick
    seeds = list(range(args.seeds))
    verdicts = []
    for ev in evals:
        try:
            with suggest_fetch("routerbench"):
                data = load_routerbench(Path(args.data) / "routerbench", evals=[ev], splits=[args.dr_split], limit=60 if quick else None)
        except DatasetMissingError as exc:  # the synthetic world below needs no data: it still runs
            console.print(f"Drift replays skipped: {exc}", markup=False)
            return
        world = rp.Replay(data, config)
        results = rp.run_replays(world, policies, detectors, seeds)
        summaries = {key: rp.summarize(runs, config.calls) for key, runs in results.items()}
        rows = []
        for (policy, name), f in summaries.items():
            regret = [f"{f['regret'][s]:.0f} ± {f['regret_sd'][s]:.0f}" for s in rp.SCENARIOS]
            rows.append([
                policy, name, f"{f['broken']}; rechecks {f['broken_rechecks']}", f"{f['repair']} (former share {f['former']:.0%})",
                f["improve"], *regret, f"{f['false_resets']:.2f}",
            ])
        print_table(
            f"Drift on real outcomes: RouterBench {ev} ({args.dr_split}, {len(data)} prompts), {len(world.ids)} models, "
            f"{config.calls} calls, change at call {config.change_at} (repair {config.repair_after} calls later), "
            f"{len(seeds)} seed(s); median (max) over seeds, regret mean ± sd",
            ["policy", "detector", "calls to the broken tool", "repaired: calls to half its former traffic",
             "improved: calls to half the traffic", "regret, control", "regret, break", "regret, repair",
             "regret, improve", "false resets per 1,000 calls"],
            rows,
        )
        if "page_hinkley" in detectors:
            verdicts += _verdicts(ev, policies, summaries, "none" in detectors, quick)
    if verdicts:
        print_table(
            "Drift targets of the default detector (page_hinkley): every seed within the bound; regret against the same policy without a detector",
            ["dataset", "policy", f"<= {TARGETS['broken']} calls to a broken tool", f"repaired back within {TARGETS['repair']}",
             f"improved adopted within {TARGETS['improve']}", f"stationary regret <= +{TARGETS['regret']:.0%}",
             f"<= {TARGETS['false_resets']} false resets per 1,000"],
            verdicts,
        )
        if quick:
            print_quick_note("drift targets")


def _verdicts(ev: str, policies: list[str], summaries: dict[tuple[str, str], dict[str, Any]], baseline: bool, quick: bool) -> list[list[str]]:
    def judged(ok: bool, text: str) -> str:
        return NOT_AT_QUICK if quick else f"{'met' if ok else 'not met'}: {text}"

    rows = []
    for policy in policies:
        f = summaries[(policy, "page_hinkley")]
        repair, improve = f["repair_values"], f["improve_values"]
        cells = [
            judged(f["broken_max"] <= TARGETS["broken"], f"{f['broken']}"),
            judged(all(v is not None and v <= TARGETS["repair"] for v in repair), f["repair"]),
            judged(all(v is not None and v <= TARGETS["improve"] for v in improve), f["improve"]),
        ]
        if baseline:
            ours, off = f["regret"]["control"], summaries[(policy, "none")]["regret"]["control"]
            cells.append(judged(ours <= (1 + TARGETS["regret"]) * off, f"{ours:.0f} vs {off:.0f} ({ours / off - 1:+.0%})"))
        else:
            cells.append("no baseline run")
        cells.append(judged(f["false_resets"] <= TARGETS["false_resets"], f"{f['false_resets']:.2f}"))
        rows.append([ev, policy, *cells])
    return rows


def run_world(args: argparse.Namespace) -> None:
    """Every method on ``args.seeds`` synthetic worlds, with and without the break."""
    quick = args.quick
    calls = args.dr_calls
    dim = 32 if quick else 128
    results: dict[str, dict[str, list[float]]] = {}
    for seed in range(args.seeds):
        world = make_world(n_tools=6 if quick else 12, n_families=40, seed=seed)
        featurizer = HashingFeaturizer(dim=dim)
        ids = [t.tool_id for t in world.tools]
        rng = np.random.default_rng(seed)
        # the reward model learns from other families' logged history (families 10..39)
        history = []
        for fam in range(10, 40):
            for _ in range(15 if quick else 100):
                text, u = world.request(fam, rng)
                k = int(rng.integers(len(ids)))
                history.append(Outcome(f"fam{fam}", ids[k], featurizer(text), _quality(world.outcome(u[k], rng))))
        model = meta_train(history, world.tools, featurizer, context_dim=dim, meta_steps=args.dr_meta_steps, seed=seed)
        best = [int(np.argmax(world.request(0, rng)[1])) for _ in range(200)]
        broken = ids[max(set(best), key=best.count)]
        for name, options in _methods(model).items():
            runs = {}
            for label, tool in (("drift", broken), ("none", None)):
                opts = dict(options)
                if "reward_model" in opts:  # every run starts from the same trained model
                    opts["reward_model"] = MetaRewardModel.from_bytes(model.to_bytes())
                router = ToolMetaLearner(world.tools, seed=seed, weights=WEIGHTS, featurizer=featurizer,
                                         context_dim=dim if opts["policy"] != "gaussian_ts" else None, **opts)
                runs[label] = _play(world, router, calls, tool, args.dr_drop, seed)
            r = results.setdefault(name, {"move": [], "others_drift": [], "others_none": [], "share": []})
            r["share"].append(runs["drift"][2].count(broken) / max(len(runs["drift"][2]), 1))
            r["move"].append(_calls_to_move(runs["drift"][0], broken))
            r["others_drift"].append(float(np.sum(runs["drift"][1])))
            r["others_none"].append(float(np.sum(runs["none"][1])))
    rows = []
    for name, r in results.items():
        moved = [m for m in r["move"] if m != float("inf")]
        move = f"{statistics.median(moved):.0f} (max {max(moved):.0f})" if moved else "never"
        if len(moved) < len(r["move"]):
            move += f", never in {len(r['move']) - len(moved)} of {len(r['move'])}"
        diff = [a - b for a, b in zip(r["others_drift"], r["others_none"])]
        rows.append([
            name, f"{statistics.mean(r['share']):.0%}", move, f"{statistics.mean(r['others_none']):.1f}", f"{statistics.mean(r['others_drift']):.1f}",
            f"{statistics.mean(diff):+.1f} ± {statistics.stdev(diff) if len(diff) > 1 else 0.0:.1f}",
        ])
    print_table(
        f"Drift: the best tool of fam0 loses {args.dr_drop} utility there at call {calls // 2} of {calls} "
        f"(calls on fam0 until {SHARE:.0%} of {WINDOW} picks avoid it; regret on the 5 untouched types after the break)",
        ["method", f"fam0 share on it, last {WINDOW * 5} calls before", "fam0 calls to move (median)", "untouched regret, no break", "untouched regret, break", "difference"],
        rows,
    )
