"""Drift: a tool breaks for one task type; how soon does traffic leave it, and do the others suffer?

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
from typing import Any

import numpy as np

from toolrouter import ExecutionResult, ToolMetaLearner, UtilityWeights
from toolrouter.bench._meta_router_world import World, make_world
from toolrouter.bench._report import print_table
from toolrouter.features import HashingFeaturizer
from toolrouter.reward_model import MetaRewardModel, Outcome, meta_train

WEIGHTS = UtilityWeights(success=0.0, quality=1.0, cost=0.0, latency=0.0)
TYPES = 6
WINDOW, SHARE = 20, 0.8


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--dr-calls", type=int, default=2400, help="calls in the stream, all types (default 2400)")
    group.add_argument("--dr-drop", type=float, default=1.0, help="utility lost by the broken tool (default 1.0)")
    group.add_argument("--dr-meta-steps", type=int, default=300, help="meta-training steps for the reward model")


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


def run(args: argparse.Namespace) -> None:
    """Every method on ``args.seeds`` worlds, with and without the break."""
    quick = args.quick
    calls = 240 if quick else args.dr_calls
    dim = 32 if quick else 128
    results: dict[str, dict[str, list[float]]] = {}
    for seed in range(1 if quick else args.seeds):
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
        model = meta_train(history, world.tools, featurizer, context_dim=dim, meta_steps=20 if quick else args.dr_meta_steps, seed=seed)
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
