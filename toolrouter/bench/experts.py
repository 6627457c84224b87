"""``toolrouter bench experts``: LanguageExpert on MetaTool tools it was not trained on, and the
latency of ``process_task`` with and without tools.

Accuracy protocol, per seed ``s`` (``--seeds`` of them, from 0):

1. ``MetaToolData.split_tools(seed=s, held_out=--held-out)``: the expert is meta-trained
   (``LanguageExpert.meta_train``, the prototypical episodes of ``FewShotToolSelector.fit``, its
   own validation labels for early stopping and the description's weight taken from the training
   tools) on the training tools only; the held-out tools are never seen in training. No option of
   any method was chosen by looking at the held-out tools.
2. Per held-out tool, a permutation of its requests (seeded by ``s``): the first ``min(20, n // 2)``
   form its support pool, the rest are its test requests; K-shot uses the first ``min(K, pool)``
   (nested supports, the same test requests for every K and method).
3. N-way over all held-out tools (N = ``--held-out``), each tool known by its description and K
   examples:
   - ``MiniLM prototype`` (the baseline): cosine to the normalised mean of the unit MiniLM
     embeddings of the description and the K examples (the same frozen features the expert uses);
   - ``LanguageExpert``: ``adapt`` on the held-out tools as one task, after meta-training;
   - ``LanguageExpert + MAML``: the same expert with ``MAML(expert.model)`` attached at its
     default options (each task's LoRA weights adapted on its support set).
4. Top-1 and top-5 accuracy over test requests (micro) and averaged per tool (macro).

Latency: one ``process_task`` call on a task of ``--held-out`` labels, without tools, and with a
router whose tools serve each label as a capability (tool functions that return at once), p50 and
p95 over ``--calls`` calls after a warm-up.

Example:
    toolrouter bench experts --quick
    toolrouter bench experts --seeds 3
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from toolrouter.bench._args import UsageError, count, int_list, named_by, parse_with_quick
from toolrouter.bench._meta_router_metatool import _accuracy, _quick_data, _unit, support_pools
from toolrouter.bench._report import console, print_quick_note, print_table
from toolrouter.data import data_dir, suggest_fetch
from toolrouter.data.metatool import MetaToolData, load_metatool
from toolrouter.features import Featurizer, make_featurizer

METHODS = ("MiniLM prototype", "LanguageExpert", "LanguageExpert + MAML")


#: What ``--quick`` sets, unless the command line gives the option.
QUICK = {"seeds": 1, "held_out": 6, "episodes": 30, "calls": 20}


def build_parser() -> argparse.ArgumentParser:
    """The suite's options."""
    parser = argparse.ArgumentParser(prog="toolrouter bench experts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="toy sizes and hashed n-grams, for a smoke test")
    parser.add_argument("--data", default=str(data_dir()), help="folder holding metatool/ (default: the data cache)")
    parser.add_argument("--seeds", type=count, default=3, help="splits to average over (default 3)")
    parser.add_argument("--held-out", type=count, default=30, help="tools held out from training (default 30)")
    parser.add_argument("--shots", default="1,5,20", help="K values (default 1,5,20)")
    parser.add_argument("--episodes", type=count, default=1500, help="most meta-training episodes (default 1500)")
    parser.add_argument("--calls", type=count, default=200, help="timed process_task calls per latency row (default 200)")
    parser.add_argument("--threads", type=count, default=1, help="torch threads (default 1)")
    return parser


def main(argv: list[str]) -> None:
    """Run the benchmark; ``--quick`` runs a toy version (hashed n-grams, 20 tools) in about a minute."""
    parser = build_parser()
    args = parse_with_quick(parser, argv, QUICK)
    if min(args.seeds, args.held_out, args.episodes, args.calls, args.threads) < 1:
        parser.error("--seeds, --held-out, --episodes, --calls and --threads must be at least 1")
    shots = int_list("--shots", args.shots, "comma-separated integers >= 1")
    if not shots or min(shots) < 1:  # before the data load and the meta-training that would end on it
        raise UsageError(f"--shots: expected comma-separated integers >= 1, got {args.shots!r}")
    torch.set_num_threads(args.threads)
    with suggest_fetch("metatool"), named_by("--data"):
        data = load_metatool(Path(args.data) / "metatool")
    if args.quick:
        data = _quick_data(data)
    try:  # before the features and the meta-training that would end on it
        data.split_tools(seed=0, held_out=args.held_out, min_queries=2)
    except ValueError as exc:
        raise UsageError(f"--held-out: {exc}") from None
    featurizer = make_featurizer("hashing" if args.quick else "minilm")
    t0 = time.perf_counter()
    featurizer.transform(list(data.queries) + list(data.tools.values()))  # fill the cache once
    console.print(f"features of {len(data.queries)} requests in {time.perf_counter() - t0:.0f} s; "
                  f"{args.held_out}-way over held-out tools, seeds 0..{args.seeds - 1}", markup=False)
    per: dict[tuple[str, int], list[dict[str, float]]] = {}
    latency_rows: list[list[Any]] = []
    train_rows: list[list[Any]] = []
    for seed in range(args.seeds):
        expert, info, fit_s = _trained_expert(featurizer, data, seed, args)
        train_rows.append([seed, int(info["episodes"]), round(fit_s, 1), round(100 * info["validation_accuracy"], 1)])
        for key, acc in _evaluate(expert, featurizer, data, seed, shots, args.held_out).items():
            per.setdefault(key, []).append(acc)
        if seed == 0:
            latency_rows = _latency(expert, data, args.held_out, args.calls)
    print_table("experts: meta-training of LanguageExpert on the training tools",
                ["seed", "episodes", "seconds", "validation top-1 %"], train_rows)
    rows = []
    for k in shots:
        for method in METHODS:
            accs = per[(method, k)]
            rows.append([method, k, *(_mean_sd([a[m] for a in accs]) for m in ("top1_micro", "top1_macro", "top5_micro"))])
    print_table(f"experts: {args.held_out}-way over held-out MetaTool tools, accuracy % (mean ± sd over {args.seeds} seeds)",
                ["method", "K", "top-1", "top-1 macro", "top-5"], rows)
    print_table("experts: LanguageExpert.process_task latency (one request, seed 0's expert)",
                ["path", "p50 ms", "p95 ms"], latency_rows)
    if args.quick:
        print_quick_note("figures")


def _mean_sd(values: list[float]) -> str:
    mean = 100 * statistics.fmean(values)
    return f"{mean:.1f}" if len(values) < 2 else f"{mean:.1f} ± {100 * statistics.stdev(values):.1f}"


def _trained_expert(featurizer: Featurizer, data: MetaToolData, seed: int, args: argparse.Namespace) -> tuple[Any, dict[str, float], float]:
    from integrations.experts.language import LanguageExpert

    train, _ = data.split_tools(seed=seed, held_out=args.held_out, min_queries=2)
    by_tool = data.queries_by_tool()
    expert = LanguageExpert(featurizer, seed=seed)
    t0 = time.perf_counter()
    info = expert.meta_train({t: by_tool[t] for t in train}, {t: data.tools[t] for t in train},
                             episodes=args.episodes, n_way=32, k_shot=(0, 1, 2, 5, 10, 20), seed=seed)
    return expert, info, time.perf_counter() - t0


def _evaluate(expert: Any, featurizer: Featurizer, data: MetaToolData, seed: int, shots: list[int], held_out: int) -> dict[tuple[str, int], dict[str, float]]:
    from meta import MAML

    _, held = data.split_tools(seed=seed, held_out=held_out, min_queries=2)
    pools, tests, y = support_pools(data, held, seed)  # the meta-router section's protocol, step 2
    test_z = _unit(featurizer.transform(tests))
    descriptions = {t: data.tools[t] for t in held}
    results = {}
    for k in shots:
        support = {t: pools[t][: min(k, len(pools[t]))] for t in held}
        protos = np.stack([_unit(featurizer.transform([descriptions[t], *support[t]])).mean(0) for t in held])
        results[("MiniLM prototype", k)] = _accuracy(test_z @ _unit(protos).T, y, len(held))
        for method in METHODS[1:]:
            if method.endswith("MAML"):
                expert.add_meta_learning(MAML(expert.model))
            expert.adapt(support, task="held-out", descriptions=descriptions, replace=True)
            _, probs = expert.predict_proba(tests, task="held-out")
            results[(method, k)] = _accuracy(probs.numpy(), y, len(held))
        expert.meta_learner = None  # the next K starts without MAML again
    expert.remove_task("held-out")
    return results


def _latency(expert: Any, data: MetaToolData, held_out: int, calls: int) -> list[list[Any]]:
    from toolrouter import ToolMetaLearner, ToolProfile

    _, held = data.split_tools(seed=0, held_out=held_out, min_queries=2)
    by_tool = data.queries_by_tool()
    expert.adapt({t: by_tool[t][:5] for t in held}, task="tools", descriptions={t: data.tools[t] for t in held}, replace=True)
    requests = [by_tool[t][-1] for t in held]
    rows = []
    for path in ("without tools", "with tools (plan, run, learn)"):
        if path.startswith("with "):
            router = ToolMetaLearner([ToolProfile(tool_id=f"tool_{i}", capabilities=[t]) for i, t in enumerate(held)], seed=0)
            for i in range(len(held)):
                router.functions[f"tool_{i}"] = lambda request: "done"
            expert.add_tool_optimization(router)
        times = []
        for i in range(calls + 10):
            t0 = time.perf_counter()
            expert.process_task(requests[i % len(requests)], task="tools")
            if i >= 10:  # the first calls warm caches up
                times.append(1e3 * (time.perf_counter() - t0))
        rows.append([path, round(statistics.median(times), 2), round(float(np.percentile(times, 95)), 2)])
    expert.tool_learner = None
    return rows
