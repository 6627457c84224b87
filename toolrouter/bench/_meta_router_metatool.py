"""``meta-router`` section ``metatool``: few-shot tool selection on tools held out from training.

Protocol, per seed ``s`` (``--mt-first-seed`` onwards, ``--seeds`` of them):

1. Split MetaTool's tools with ``MetaToolData.split_tools(seed=s, held_out=--mt-held-out)``: the
   training tools (all their requests and descriptions) train ``FewShotToolSelector`` (its own
   validation tools, early stopping and description weight all come from the training tools); the
   held-out tools are never seen in training.
2. Per held-out tool, a permutation of its requests (seeded by ``s``): the first
   ``min(20, n // 2)`` form its support pool, the rest are its test requests. K-shot uses the
   first ``min(K, pool)`` of the pool (so the supports are nested: 1 in 5 in 20), and the test
   requests are the same for every K and every method. Only the one tool with 12 requests has a
   pool under 20 (6).
3. Each method ranks every test request among **all** held-out tools (N-way, N = --mt-held-out),
   from each tool's K-shot support and, where the method uses it, its description:
   - ``mean embedding`` (the baseline): cosine to the mean of the support requests' frozen
     embeddings; at 0-shot, to the description's embedding;
   - ``selector, untrained``: the selector before ``fit`` (identity encoder; the description mixed
     into the prototype with weight 1), to show what training adds;
   - ``selector, trained``: after ``fit`` on the training tools; held-out tools added with
     ``add_tool`` (no retraining).
4. Top-1 and top-5 accuracy over test requests (micro) and averaged per tool (macro).

Tables: mean ± sd over seeds per method and K; the training runs (episodes, seconds, learned
description weight and temperature).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from toolrouter.bench._report import print_table
from toolrouter.data import data_dir, suggest_fetch
from toolrouter.data.metatool import MetaToolData, load_metatool
from toolrouter.features import Featurizer, make_featurizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig

TOP = (1, 5)


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """Options of this section, all prefixed ``--mt-``."""
    group.add_argument("--mt-featurizer", choices=("minilm", "minilm+hashing", "hashing"), default=None,
                       help="the selector's frozen text features (default: minilm; hashing with --quick)")
    group.add_argument("--mt-baseline-featurizer", choices=("minilm", "hashing"), default=None,
                       help="features of the mean-embedding baseline (default: minilm; hashing with --quick)")
    group.add_argument("--mt-hashing-weight", type=float, default=0.5,
                       help="weight of the hashed n-grams beside MiniLM (weight 1) in minilm+hashing (default 0.5)")
    group.add_argument("--mt-hashing-dim", type=int, default=1024, help="hash buckets in minilm+hashing (default 1024)")
    group.add_argument("--mt-held-out", type=int, default=30, help="tools held out from training (default 30)")
    group.add_argument("--mt-shots", default="0,1,5,20", help="K values to evaluate (default 0,1,5,20)")
    group.add_argument("--mt-episodes", type=int, default=1500, help="most training episodes (early stopping may end sooner)")
    group.add_argument("--mt-n-way", type=int, default=64, help="tools per training episode (default 64)")
    group.add_argument("--mt-adapter", choices=("mlp", "lora"), default="mlp", help="the selector's shared tower")
    group.add_argument("--mt-first-seed", type=int, default=0,
                       help="first seed (seeds run from here, --seeds of them); splits differ per seed")
    group.add_argument("--mt-lr", type=float, default=None, help="selector learning rate (default: SelectorConfig's)")
    group.add_argument("--mt-finetune-layers", type=int, default=0,
                       help="also train a selector that fine-tunes MiniLM's last L layers (0: no such row)")
    group.add_argument("--mt-finetune-lr", type=float, default=None, help="learning rate of the fine-tuned layers")
    group.add_argument("--mt-finetune-lora-rank", type=int, default=0,
                       help="LoRA rank on the fine-tuned layers (0: train them in full)")
    group.add_argument("--mt-ft-n-way", type=int, default=16, help="tools per episode for the fine-tuned selector")
    group.add_argument("--mt-ft-queries", type=int, default=2, help="query requests per tool per episode, fine-tuned")
    group.add_argument("--mt-ft-patience", type=int, default=5, help="early-stopping patience (checks), fine-tuned")
    group.add_argument("--mt-json", default=None,
                       help="also write every seed's accuracies (per method and K) to this JSON file, for pooling runs")


def _config(args: argparse.Namespace) -> SelectorConfig:
    options: dict[str, Any] = {"adapter": args.mt_adapter}
    if args.mt_lr is not None:
        options["lr"] = args.mt_lr
    if args.quick:
        options.update(hidden=32, eval_every=5, patience=3)
    return SelectorConfig(**options)


def _finetune_config(args: argparse.Namespace) -> SelectorConfig:
    """The fine-tuning variant: smaller episodes (each step runs transformer layers)."""
    options = _config(args).model_dump()
    options.update(finetune_layers=args.mt_finetune_layers, finetune_lora_rank=args.mt_finetune_lora_rank,
                   queries_per_tool=args.mt_ft_queries,
                   patience=min(options["patience"], args.mt_ft_patience))
    if args.mt_finetune_lr is not None:
        options["finetune_lr"] = args.mt_finetune_lr
    return SelectorConfig(**options)


def _selector_featurizer(name: str, base_name: str, baseline: Featurizer, args: argparse.Namespace) -> Featurizer:
    """The selector's features, sharing the baseline's featurizer (and its cache) where they overlap."""
    if name == base_name:
        return baseline
    minilm = baseline if base_name == "minilm" else make_featurizer("minilm")
    if name == "minilm+hashing":
        return make_featurizer(name, minilm=minilm, hashing_weight=args.mt_hashing_weight, hashing_dim=args.mt_hashing_dim)
    return minilm if name == "minilm" else make_featurizer(name)


def _quick_data(data: MetaToolData) -> MetaToolData:
    """Toy size: 20 tools, at most 30 requests each."""
    keep = data.tool_names[:20]
    by_tool = data.queries_by_tool()
    rows = [(q, t) for t in keep for q in by_tool[t][:30]]
    return MetaToolData(tools={t: data.tools[t] for t in keep}, queries=tuple(q for q, _ in rows), labels=tuple(t for _, t in rows))


def _accuracy(scores: np.ndarray, labels: np.ndarray, n_tools: int) -> dict[str, float]:
    """Top-k micro (over requests) and macro (per tool, then averaged) accuracy."""
    order = np.argsort(-scores, axis=1, kind="stable")
    out = {}
    for k in TOP:
        hit = (order[:, :k] == labels[:, None]).any(axis=1)
        out[f"top{k}_micro"] = float(hit.mean())
        out[f"top{k}_macro"] = float(np.mean([hit[labels == j].mean() for j in range(n_tools) if (labels == j).any()]))
    return out


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def support_pools(data: MetaToolData, held: list[str], seed: int) -> tuple[dict[str, list[str]], list[str], np.ndarray]:
    """``(pools, tests, labels)`` of the protocol's step 2: per held-out tool a seeded permutation of
    its requests, the first ``min(20, n // 2)`` its support pool, the rest test requests (labelled
    by the tool's index in ``held``)."""
    by_tool = data.queries_by_tool()
    rng = np.random.default_rng([seed, 1])
    pools, tests, labels = {}, [], []
    for j, t in enumerate(held):
        qs = by_tool[t]
        perm = rng.permutation(len(qs))
        size = min(20, len(qs) // 2)
        pools[t] = [qs[i] for i in perm[:size]]
        test = [qs[i] for i in perm[size:]]
        tests += test
        labels += [j] * len(test)
    return pools, tests, np.array(labels)


def _evaluate(
    selector: FewShotToolSelector,
    baseline_featurizer: Featurizer,
    data: MetaToolData,
    held: list[str],
    shots: list[int],
    seed: int,
) -> dict[tuple[str, int], dict[str, float]]:
    """Per (method, K) the accuracy dict, for the baseline (on ``baseline_featurizer``) and
    ``selector`` (on its own featurizer), see the protocol."""
    pools, tests, y = support_pools(data, held, seed)
    test_features = _unit(baseline_featurizer.transform(tests))
    for t in held:  # leave only the held-out tools: N-way over them
        if t in selector:
            selector.remove_tool(t)
    for t in selector.tool_ids:
        selector.remove_tool(t)
    results = {}
    for k in shots:
        supports = {t: pools[t][: min(k, len(pools[t]))] for t in held}
        protos = np.stack([
            baseline_featurizer.transform(supports[t]).mean(axis=0) if supports[t] else baseline_featurizer(data.tools[t])
            for t in held
        ])
        results[("baseline", k)] = _accuracy(test_features @ _unit(protos).T, y, len(held))
        for t in held:
            selector.add_tool(t, data.tools[t], supports[t])
        results[("selector", k)] = _accuracy(selector.scores(tests), y, len(held))
        for t in held:
            selector.remove_tool(t)
    return results


def _mean_sd(values: list[float], signed: bool = False) -> str:
    mean = statistics.fmean(values)
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{100 * mean:{'+' if signed else ''}.1f} ± {100 * sd:.1f}"


def run(args: argparse.Namespace) -> None:
    """Run the section: train, evaluate on held-out tools, print the tables."""
    with suggest_fetch("metatool"):
        data = load_metatool(Path(args.data) / "metatool")
    if args.quick:
        data = _quick_data(data)
    base_name = args.mt_baseline_featurizer or ("hashing" if args.quick else "minilm")
    name = args.mt_featurizer or ("hashing" if args.quick else "minilm")
    baseline_featurizer = make_featurizer(base_name)
    featurizer = _selector_featurizer(name, base_name, baseline_featurizer, args)
    shots = [int(k) for k in str(args.mt_shots).split(",") if k.strip()]
    held_out = min(args.mt_held_out, 6) if args.quick else args.mt_held_out
    episodes = 30 if args.quick else args.mt_episodes
    seeds = min(args.seeds, 2) if args.quick else args.seeds
    config = _config(args)

    t0 = time.perf_counter()
    featurizer.transform(list(data.queries) + list(data.tools.values()))  # fill the caches once
    baseline_featurizer.transform(list(data.queries) + list(data.tools.values()))
    encode_s = time.perf_counter() - t0
    by_tool = data.queries_by_tool()

    per_seed: dict[tuple[str, int], list[dict[str, float]]] = {}
    train_rows = []
    for seed in range(args.mt_first_seed, args.mt_first_seed + seeds):
        train, held = data.split_tools(seed=seed, held_out=held_out, min_queries=2)
        methods = {"selector, untrained": FewShotToolSelector(featurizer, config, seed=seed)}
        trained = FewShotToolSelector(featurizer, config, seed=seed)
        t1 = time.perf_counter()
        info = trained.fit({t: by_tool[t] for t in train}, {t: data.tools[t] for t in train},
                           episodes=episodes, n_way=args.mt_n_way, seed=seed)
        fit_s = time.perf_counter() - t1
        methods["selector, trained"] = trained
        train_rows.append(["trained", seed, len(train), len(held), int(info["episodes"]), round(fit_s, 1),
                           round(info["validation_accuracy_start"], 3), round(info["validation_accuracy"], 3),
                           round(info["description_weight"], 2), info["match_weight"], round(info["scale"], 1)])
        if args.mt_finetune_layers > 0:
            tuned = FewShotToolSelector(featurizer, _finetune_config(args), seed=seed)
            t1 = time.perf_counter()
            info = tuned.fit({t: by_tool[t] for t in train}, {t: data.tools[t] for t in train},
                             episodes=episodes, n_way=args.mt_ft_n_way, seed=seed)
            fit_s = time.perf_counter() - t1
            methods[_FINETUNED] = tuned
            train_rows.append(["fine-tuned", seed, len(train), len(held), int(info["episodes"]), round(fit_s, 1),
                               round(info["validation_accuracy_start"], 3), round(info["validation_accuracy"], 3),
                               round(info["description_weight"], 2), info["match_weight"], round(info["scale"], 1)])
        for method, selector in methods.items():
            results = _evaluate(selector, baseline_featurizer, data, held, shots, seed)
            for (kind, k), acc in results.items():
                label = f"mean embedding ({base_name})" if kind == "baseline" else method
                if kind == "baseline" and method != "selector, untrained":
                    continue  # the baseline does not depend on the selector: count it once per seed
                per_seed.setdefault((label, k), []).append(acc)

    if args.mt_json:
        seeds_run = list(range(args.mt_first_seed, args.mt_first_seed + seeds))
        rows_out = [{"seed": s_, "method": label, "k": k, **acc} for (label, k), accs in per_seed.items() for s_, acc in zip(seeds_run, accs)]
        Path(args.mt_json).write_text(json.dumps({"runs": rows_out, "training": train_rows}, indent=1), encoding="utf-8")
    print_table(
        f"metatool: training runs (selector on {name} features, baseline on {base_name}; {held_out} held-out tools; features encoded in {encode_s:.0f} s)",
        ["selector", "seed", "train tools", "held-out tools", "episodes", "fit s", "val acc before", "val acc after",
         "description weight", "match weight", "scale"],
        train_rows,
    )
    rows = []
    for (label, k), accs in sorted(per_seed.items(), key=lambda item: (item[0][1], _ORDER.index(item[0][0].split(" (")[0]))):
        rows.append([k, label] + [_mean_sd([a[m] for a in accs]) for m in _METRICS])
    print_table(
        f"metatool: {held_out}-way over held-out tools, accuracy % (mean ± sd over seeds {args.mt_first_seed}..{args.mt_first_seed + seeds - 1})",
        ["K", "method", "top-1 micro", "top-1 macro", "top-5 micro", "top-5 macro"],
        rows,
    )
    # Paired by seed (same split, supports and test requests): the spread of the gain itself.
    gain_rows = []
    base = f"mean embedding ({base_name})"
    compared = ["selector, trained"] + ([_FINETUNED] if args.mt_finetune_layers > 0 else [])
    for method in compared:
        for k in shots:
            row: list[Any] = [method, k]
            for m in _METRICS:
                diffs = [t[m] - b[m] for t, b in zip(per_seed[(method, k)], per_seed[(base, k)])]
                row.append(f"{_mean_sd(diffs, signed=True)} ({sum(d > 0 for d in diffs)}/{len(diffs)})")
            gain_rows.append(row)
    print_table(
        f"metatool: selector minus {base}, percentage points, paired by seed (seeds where it is ahead)",
        ["selector", "K", "top-1 micro", "top-1 macro", "top-5 micro", "top-5 macro"],
        gain_rows,
    )


_FINETUNED = "selector, fine-tuned"
_ORDER = ["mean embedding", "selector, untrained", "selector, trained", _FINETUNED]
_METRICS = ["top1_micro", "top1_macro", "top5_micro", "top5_macro"]


if __name__ == "__main__":
    import sys

    parser = argparse.ArgumentParser(prog="python -m toolrouter.bench._meta_router_metatool")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--data", default=str(data_dir()))
    add_arguments(parser.add_argument_group("metatool"))
    cli_args = parser.parse_args(sys.argv[1:])
    torch.set_num_threads(cli_args.threads)
    run(cli_args)
