"""``meta-router`` section ``metatool``: few-shot tool selection on tools no choice looked at.

Protocol:

1. **Two tool groups, fixed once.** ``MetaToolData.split_tools(seed=--mt-group-seed, held_out=0.5,
   min_queries=2)`` splits MetaTool's tools into a *tuning* group (the first list) and a
   *reporting* group (the second). Every option of the selector (prototype refinement, the
   calibration's weight of known tools, the abstain threshold) is chosen on the tuning group
   alone; the reporting group is used only for the figures reported.
2. **Old and new tools.** In a setting, *old* tools are the ones the selector is trained on and
   keeps registered (their requests split per tool, seeded: a fifth, at most 50, are test requests,
   never trained on; the rest are the tool's examples) and *new* tools arrive later with K
   examples each (per tool, seeded: the first ``min(20, n // 2)`` requests are its support pool,
   K-shot uses the first K of it, the rest are its test requests, the same for every K and method).
   - Tuning setting, per tuning seed (0 to ``--mt-tune-seeds`` - 1, whatever seeds are reported):
     ``--mt-tune-new`` tools of the tuning group drawn as new, the rest old.
   - Reporting setting, per seed: the whole tuning group is old, the whole reporting group is new
     (the selector is trained on tools it will not be scored on, as in use).
3. **Two scenarios per K**: *new only* (only the new tools registered: N-way over them) and
   *old kept* (old and new tools registered; accuracy on the new tools' test requests, and on the
   old tools' test requests before and after the new tools were added).
4. **Methods**, each given every tool's description and the same examples:
   - ``mean embedding``: the baseline, cosine to the mean of the embeddings of the description and
     the K examples (an old tool: its description and all its examples);
   - ``selector, uncalibrated``: the same options, scores not calibrated across example counts
     (``SelectorConfig(calibrate=False)``);
   - ``selector``: trained with the options chosen on the tuning group;
   - with ``--mt-finetune-layers``, ``selector, fine-tuned``: the same options, MiniLM's layers
     fine-tuned (LoRA with ``--mt-finetune-lora-rank``).
5. **No tool fits**: old tools and half the new tools registered (seeded), the other half's test
   requests are requests no registered tool serves. AUROC of the confidence (the selector's
   calibrated probability; the baseline's highest cosine) between the registered tools' test
   requests and those; and, at the threshold chosen on the tuning group (keeping 95% of the
   registered tools' requests there), the share of each kind that is served.

Figures: top-1 accuracy over test requests (micro) and per tool (macro), mean ± standard error
over seeds (``--mt-first-seed`` on, ``--seeds`` of them), and the gain over the baseline paired by seed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from toolrouter.bench._args import UsageError, count, count_list, output_file, parse_with_quick, positive, real, write_json
from toolrouter.bench._report import print_table
from toolrouter.data import data_dir, suggest_fetch
from toolrouter.data.metatool import MetaToolData, load_metatool
from toolrouter.features import Featurizer, make_featurizer
from toolrouter.selection import FewShotToolSelector, SelectorConfig

BASELINE = "mean embedding"
UNCALIBRATED = "selector, uncalibrated"
SELECTOR = "selector"
FINETUNED = "selector, fine-tuned"
#: Candidate options tried on the tuning group by default: refine_steps:known_tool_weight pairs.
CANDIDATES = "0:1,0:3,50:1"
#: What ``--quick`` sets for this section, unless the command line gives the option.
QUICK = {"mt_episodes": 30, "mt_candidates": "0:1,0:3", "seeds": 2, "mt_tune_seeds": 1}
KEEP_REGISTERED = 0.95  # the abstain threshold keeps this share of registered tools' requests (tuning group)


def add_arguments(group: argparse._ArgumentGroup) -> None:
    """Options of this section, all prefixed ``--mt-``."""
    group.add_argument("--mt-featurizer", choices=("minilm", "minilm+hashing", "hashing"), default=None,
                       help="the selector's frozen text features (default: minilm; hashing with --quick)")
    group.add_argument("--mt-baseline-featurizer", choices=("minilm", "hashing"), default=None,
                       help="features of the mean-embedding baseline (default: minilm; hashing with --quick)")
    group.add_argument("--mt-hashing-weight", type=real(0), default=0.5,
                       help="weight of the hashed n-grams beside MiniLM (weight 1) in minilm+hashing (default 0.5)")
    group.add_argument("--mt-hashing-dim", type=positive, default=1024, help="hash buckets in minilm+hashing (default 1024)")
    group.add_argument("--mt-group-seed", type=count, default=0,
                       help="seed of the split of the tools into the tuning and reporting groups (default 0)")
    group.add_argument("--mt-tune-seeds", type=positive, default=2,
                       help="seeds of the tuning settings (0 to N-1, whatever the reported seeds; default 2)")
    group.add_argument("--mt-candidates", default=CANDIDATES,
                       help=f"options tried on the tuning group, refine_steps:known_tool_weight pairs (default {CANDIDATES})")
    group.add_argument("--mt-tune-new", type=positive, default=25,
                       help="new tools per tuning setting; the rest of the tuning group are its old tools (default 25)")
    group.add_argument("--mt-shots", default="0,1,5,20", help="K values to evaluate (default 0,1,5,20)")
    group.add_argument("--mt-episodes", type=positive, default=1500, help="most training episodes (early stopping may end sooner)")
    group.add_argument("--mt-n-way", type=positive, default=64, help="tools per training episode (default 64)")
    group.add_argument("--mt-adapter", choices=("mlp", "lora"), default="mlp", help="the selector's shared tower")
    group.add_argument("--mt-first-seed", type=count, default=0, help="first seed (seeds run from here, --seeds of them)")
    group.add_argument("--mt-lr", type=real(0, low_open=True), default=None, help="selector learning rate (default: SelectorConfig's)")
    group.add_argument("--mt-finetune-layers", type=count, default=0,
                       help="also report a selector that fine-tunes MiniLM's last L layers (0: no such row)")
    group.add_argument("--mt-finetune-lr", type=real(0, low_open=True), default=None, help="learning rate of the fine-tuned layers")
    group.add_argument("--mt-finetune-lora-rank", type=count, default=0,
                       help="LoRA rank on the fine-tuned layers (0: train them in full)")
    group.add_argument("--mt-ft-n-way", type=positive, default=16, help="tools per episode for the fine-tuned selector")
    group.add_argument("--mt-ft-queries", type=positive, default=2, help="query requests per tool per episode, fine-tuned")
    group.add_argument("--mt-ft-patience", type=positive, default=5, help="early-stopping patience (checks), fine-tuned")
    group.add_argument("--mt-ft-cpu-s", type=real(0, low_open=True), default=None,
                       help="training budget of the fine-tuned selector in CPU seconds of its process "
                            "(SelectorConfig.max_fit_cpu_s; 600 = 5 minutes of 2 cores; default: none)")
    group.add_argument("--mt-json", type=output_file, default=None,
                       help="also write every seed's figures (per method, scenario and K) to this JSON file")


def _config(args: argparse.Namespace, **options: Any) -> SelectorConfig:
    options["adapter"] = args.mt_adapter
    if args.mt_lr is not None:
        options["lr"] = args.mt_lr
    if args.quick:
        options.update(hidden=32, eval_every=5, patience=3, calibration_episodes=10)
    return SelectorConfig(**options)


def _finetune_config(args: argparse.Namespace, **options: Any) -> SelectorConfig:
    """The fine-tuning variant: smaller episodes (each step runs transformer layers)."""
    merged = _config(args, **options).model_dump()
    merged.update(finetune_layers=args.mt_finetune_layers, finetune_lora_rank=args.mt_finetune_lora_rank,
                  queries_per_tool=args.mt_ft_queries, patience=min(merged["patience"], args.mt_ft_patience))
    if args.mt_finetune_lr is not None:
        merged["finetune_lr"] = args.mt_finetune_lr
    merged["max_fit_cpu_s"] = args.mt_ft_cpu_s
    return SelectorConfig(**merged)


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


@dataclass
class Setting:
    """Old tools (trained on, registered with ``old_examples``, scored on ``old_tests``) and new
    tools (registered with the first K of ``pools``, scored on ``new_tests``)."""

    old: list[str]
    new: list[str]
    old_examples: dict[str, list[str]]
    old_tests: dict[str, list[str]]
    pools: dict[str, list[str]]
    new_tests: dict[str, list[str]]


def _setting(data: MetaToolData, old: list[str], new: list[str], seed: int) -> Setting:
    by_tool = data.queries_by_tool()
    rng = np.random.default_rng([seed, 1])
    setting = Setting(old, new, {}, {}, {}, {})
    for t in old:
        qs = [by_tool[t][i] for i in rng.permutation(len(by_tool[t]))]
        n_test = min(50, max(1, len(qs) // 5))
        setting.old_tests[t], setting.old_examples[t] = qs[:n_test], qs[n_test:]
    for t in new:
        qs = [by_tool[t][i] for i in rng.permutation(len(by_tool[t]))]
        size = min(20, len(qs) // 2)
        setting.pools[t], setting.new_tests[t] = qs[:size], qs[size:]
    return setting


def _accuracy(scores: np.ndarray, labels: np.ndarray, n_tools: int) -> dict[str, float]:
    """Top-1 and top-5 accuracy, micro (over requests) and macro (per tool, then averaged), of
    ``scores`` against label indices (``toolrouter bench experts``)."""
    order = np.argsort(-scores, axis=1, kind="stable")
    out = {}
    for k in (1, 5):
        hit = (order[:, :k] == labels[:, None]).any(axis=1)
        out[f"top{k}_micro"] = float(hit.mean())
        out[f"top{k}_macro"] = float(np.mean([hit[labels == j].mean() for j in range(n_tools) if (labels == j).any()]))
    return out


def support_pools(data: MetaToolData, held: list[str], seed: int) -> tuple[dict[str, list[str]], list[str], np.ndarray]:
    """``(pools, tests, labels)`` for tools ``held`` out of training, as ``toolrouter bench experts``
    draws them: per tool a seeded permutation of its requests, the first ``min(20, n // 2)`` its
    support pool, the rest test requests (labelled by the tool's index in ``held``)."""
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


def _top1(scores: np.ndarray, columns: list[str], tests: dict[str, list[str]]) -> dict[str, float]:
    """Top-1 micro (over requests) and macro (per tool) accuracy of ``scores`` (rows: the test
    requests of ``tests`` in order; columns: ``columns``)."""
    labels = np.array([columns.index(t) for t, qs in tests.items() for _ in qs])
    hit = scores.argmax(axis=1) == labels
    per_tool = [hit[labels == columns.index(t)].mean() for t in tests]
    return {"top1_micro": float(hit.mean()), "top1_macro": float(np.mean(per_tool))}


def _auroc(positive: np.ndarray, negative: np.ndarray) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    both = np.concatenate([positive, negative])
    ranks = np.empty(len(both))
    order = np.argsort(both, kind="stable")
    ranks[order] = np.arange(1, len(both) + 1)
    for value in np.unique(both):  # average ranks over ties
        tie = both == value
        ranks[tie] = ranks[tie].mean()
    return float((ranks[: len(positive)].sum() - len(positive) * (len(positive) + 1) / 2) / (len(positive) * len(negative)))


Registered = dict[str, tuple[str, list[str]]]  # tool -> (description, examples)
Scorer = Callable[[Registered, list[str]], tuple[np.ndarray, np.ndarray]]  # -> (scores, confidence)


def _baseline_scorer(featurizer: Featurizer) -> Scorer:
    """Cosine to the mean of the description's and the examples' embeddings; confidence: the
    highest cosine."""

    def score(registered: Registered, queries: list[str]) -> tuple[np.ndarray, np.ndarray]:
        protos = np.stack([_unit(featurizer.transform([d, *ex])).mean(axis=0) for d, ex in registered.values()])
        s = _unit(featurizer.transform(queries)) @ _unit(protos).T
        return s, s.max(axis=1)

    return score


def _selector_scorer(selector: FewShotToolSelector) -> Scorer:
    """The selector with exactly ``registered`` as its tools (changing only what differs)."""

    def score(registered: Registered, queries: list[str]) -> tuple[np.ndarray, np.ndarray]:
        for t in selector.tool_ids:
            if t not in registered or selector.tool(t) != (registered[t][0], registered[t][1]):
                selector.remove_tool(t)
        for t, (d, ex) in registered.items():
            if t not in selector:
                selector.add_tool(t, d, ex)
        order = [selector.tool_ids.index(t) for t in registered]
        scores = selector.scores(queries)  # calibrated: the confidences follow from them
        confidence = selector.calibration.probabilities(torch.from_numpy(scores).float())[0].max(dim=1).values
        return scores[:, order], confidence.double().numpy()

    return score


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _evaluate(score: Scorer, data: MetaToolData, setting: Setting, shots: list[int], seed: int) -> dict[str, Any]:
    """Per K: new-only and old-kept accuracies, the old tools' accuracy before and after, and the
    no-tool-fits figures (see the protocol)."""
    desc = data.tools
    new_tests = [q for t in setting.new for q in setting.new_tests[t]]
    old_tests = [q for t in setting.old for q in setting.old_tests[t]]
    old = {t: (desc[t], setting.old_examples[t]) for t in setting.old}
    half = np.random.default_rng([seed, 2]).permutation(len(setting.new))
    known_new = sorted(setting.new[i] for i in half[: len(half) // 2])
    unknown_new = sorted(set(setting.new) - set(known_new))
    out: dict[str, Any] = {"old_before": _top1(score(old, old_tests)[0], setting.old, setting.old_tests)}
    for k in shots:
        new = {t: (desc[t], setting.pools[t][:k]) for t in setting.new}
        r: dict[str, Any] = {"new_only": _top1(score(new, new_tests)[0], setting.new, setting.new_tests)}
        both = {**old, **new}
        s, _ = score(both, new_tests + old_tests)
        columns = setting.old + setting.new
        r["old_kept_new"] = _top1(s[: len(new_tests)], columns, setting.new_tests)
        r["old_kept_old"] = _top1(s[len(new_tests) :], columns, setting.old_tests)
        registered = {**old, **{t: new[t] for t in known_new}}
        positives = [q for t in known_new for q in setting.new_tests[t]] + old_tests
        negatives = [q for t in unknown_new for q in setting.new_tests[t]]
        _, confidence = score(registered, positives + negatives)
        r["confidence_registered"] = confidence[: len(positives)]
        r["confidence_unregistered"] = confidence[len(positives) :]
        r["auroc"] = _auroc(r["confidence_registered"], r["confidence_unregistered"])
        out[k] = r
    return out


def _mean_se(values: Sequence[float], signed: bool = False) -> str:
    mean = statistics.fmean(values)
    se = statistics.stdev(values) / len(values) ** 0.5 if len(values) > 1 else 0.0
    return f"{100 * mean:{'+' if signed else ''}.1f} ± {100 * se:.1f}"


def _fit(selector: FewShotToolSelector, data: MetaToolData, setting: Setting, args: argparse.Namespace,
         seed: int, n_way: int) -> tuple[dict[str, float], float]:
    """Train on the old tools' examples (not registered: the scorer registers tools itself);
    returns the fit's summary and its CPU seconds."""
    start = time.process_time()
    info = selector.fit({t: setting.old_examples[t] for t in setting.old}, {t: data.tools[t] for t in setting.old},
                        episodes=args.mt_episodes, n_way=n_way, seed=seed, register=False)
    return info, time.process_time() - start


def _tune(data: MetaToolData, tuning: list[str], featurizer: Featurizer, base: Scorer, args: argparse.Namespace,
          shots: list[int], seeds: list[int]) -> tuple[dict[str, Any], list[list[Any]], float]:
    """Try the candidate options on the tuning group; returns the chosen options, the table rows
    and the abstain threshold.

    Choice: among the candidates that serve the new tools' requests in the old-kept scenario at
    least as well as the baseline at every K (top-1 micro, mean over seeds), the one whose old
    tools lose least when the new tools are added (mean over K); when none does, the one with the
    best worst-K gain over the baseline. The threshold keeps ``KEEP_REGISTERED`` of the registered
    tools' requests of the chosen candidate (no-tool-fits runs, every K pooled).
    """
    n_new = _tune_new(args, tuning)
    results: dict[Any, list[dict[str, Any]]] = {}
    for seed in seeds:
        setting = _setting(data, *_split(tuning, n_new, seed), seed)
        results.setdefault(BASELINE, []).append(_evaluate(base, data, setting, shots, seed))
        for refine, weight in _candidates(args):
            selector = FewShotToolSelector(featurizer, _config(args, refine_steps=refine, known_tool_weight=weight), seed=seed)
            _fit(selector, data, setting, args, seed, args.mt_n_way)
            results.setdefault((refine, weight), []).append(_evaluate(_selector_scorer(selector), data, setting, shots, seed))

    def per_k(key: Any, scenario: str) -> list[float]:
        return [statistics.fmean(r[k][scenario]["top1_micro"] for r in results[key]) for k in shots]

    def drop(key: Any) -> list[float]:
        return [statistics.fmean(r["old_before"]["top1_micro"] - r[k]["old_kept_old"]["top1_micro"] for r in results[key])
                for k in shots]

    base_kept = per_k(BASELINE, "old_kept_new")
    candidates = [k for k in results if k != BASELINE]
    gain = {c: min(a - b for a, b in zip(per_k(c, "old_kept_new"), base_kept)) for c in candidates}
    ok = [c for c in candidates if gain[c] >= 0]
    chosen = min(ok, key=lambda c: statistics.fmean(drop(c))) if ok else max(candidates, key=lambda c: gain[c])
    rows = []
    for key in results:
        name = BASELINE if key == BASELINE else f"refine_steps={key[0]}, known_tool_weight={key[1]:g}"
        rows.append([name, " / ".join(f"{100 * v:.1f}" for v in per_k(key, "new_only")),
                     " / ".join(f"{100 * v:.1f}" for v in per_k(key, "old_kept_new")),
                     " / ".join(f"{-100 * v:+.1f}" for v in drop(key)), "chosen" if key == chosen else ""])
    registered = np.concatenate([r[k]["confidence_registered"] for r in results[chosen] for k in shots])
    threshold = float(np.quantile(registered, 1 - KEEP_REGISTERED))
    return {"refine_steps": chosen[0], "known_tool_weight": chosen[1]}, rows, threshold


def _candidates(args: argparse.Namespace) -> list[tuple[int, float]]:
    """``--mt-candidates`` as (refine_steps, known_tool_weight) pairs."""
    try:
        pairs = [(int(a), float(b)) for a, b in (c.split(":") for c in args.mt_candidates.split(",") if c.strip())]
    except ValueError:
        raise UsageError(f"--mt-candidates: expected refine_steps:known_tool_weight pairs, got {args.mt_candidates!r}") from None
    return pairs


def _tune_new(args: argparse.Namespace, tuning: list[str]) -> int:
    return min(args.mt_tune_new, len(tuning) // 2)


def _split(tools: list[str], n_new: int, seed: int) -> tuple[list[str], list[str]]:
    """``(old, new)``: ``n_new`` of ``tools`` drawn by ``seed`` are new; both sorted."""
    order = np.random.default_rng([seed, 3]).permutation(len(tools))
    new = sorted(tools[i] for i in order[:n_new])
    return sorted(set(tools) - set(new)), new


def check(args: argparse.Namespace) -> None:
    """Refuse option values the section cannot run with (before any section runs)."""
    count_list("--mt-shots", args.mt_shots, low=0)
    _candidates(args)


def run(args: argparse.Namespace) -> None:
    """Run the section: choose options on the tuning group, report on the reporting group."""
    with suggest_fetch("metatool"):
        data = load_metatool(Path(args.data) / "metatool")
    if args.quick:
        data = _quick_data(data)
    base_name = args.mt_baseline_featurizer or ("hashing" if args.quick else "minilm")
    name = args.mt_featurizer or ("hashing" if args.quick else "minilm")
    baseline_featurizer = make_featurizer(base_name)
    featurizer = _selector_featurizer(name, base_name, baseline_featurizer, args)
    shots = count_list("--mt-shots", args.mt_shots, low=0)
    seeds = list(range(args.mt_first_seed, args.mt_first_seed + args.seeds))
    tuning, reporting = data.split_tools(seed=args.mt_group_seed, held_out=0.5, min_queries=2)

    t0 = time.perf_counter()
    texts = list(data.queries) + list(data.tools.values())
    featurizer.transform(texts)  # fill the caches once
    baseline_featurizer.transform(texts)
    encode_s = time.perf_counter() - t0
    base = _baseline_scorer(baseline_featurizer)

    tune_seeds = list(range(args.mt_tune_seeds))
    chosen, tune_rows, threshold = _tune(data, tuning, featurizer, base, args, shots, tune_seeds)
    print_table(
        f"metatool: options tried on the tuning group ({len(tuning)} tools, group seed {args.mt_group_seed}; "
        f"{_tune_new(args, tuning)} new, the rest old; seeds {tune_seeds[0]}..{tune_seeds[-1]}); top-1 micro %, mean over seeds, "
        f"at K = {' / '.join(map(str, shots))}",
        ["method", "new only", "old kept: new tools' requests", "old kept: old tools' change", ""],
        tune_rows,
    )

    per_seed: dict[str, list[dict[str, Any]]] = {}
    train_rows = []
    for seed in seeds:
        setting = _setting(data, tuning, reporting, seed)
        per_seed.setdefault(BASELINE, []).append(_evaluate(base, data, setting, shots, seed))
        methods = {
            UNCALIBRATED: (FewShotToolSelector(featurizer, _config(args, **chosen, calibrate=False), seed=seed), args.mt_n_way),
            SELECTOR: (FewShotToolSelector(featurizer, _config(args, **chosen, min_confidence=threshold), seed=seed), args.mt_n_way),
        }
        if args.mt_finetune_layers > 0:
            methods[FINETUNED] = (FewShotToolSelector(featurizer, _finetune_config(args, **chosen), seed=seed), args.mt_ft_n_way)
        for method, (selector, n_way) in methods.items():
            info, fit_s = _fit(selector, data, setting, args, seed, n_way)
            train_rows.append([method, seed, int(info["episodes"]), round(fit_s, 1), round(info["validation_accuracy"], 3),
                               round(info["description_weight"], 2), info["match_weight"], round(info["scale"], 1)])
            per_seed.setdefault(method, []).append(_evaluate(_selector_scorer(selector), data, setting, shots, seed))

    if args.mt_json:
        runs = [{"seed": s, "method": m, "k": k, "scenario": sc, **res[k][sc]}
                for m, results in per_seed.items() for s, res in zip(seeds, results) for k in shots
                for sc in ("new_only", "old_kept_new", "old_kept_old")]
        runs += [{"seed": s, "method": m, "k": k, "auroc": res[k]["auroc"]}
                 for m, results in per_seed.items() for s, res in zip(seeds, results) for k in shots]
        write_json(args.mt_json, {"chosen": chosen, "threshold": threshold, "runs": runs, "training": train_rows})
    _report(per_seed, shots, seeds, tuning, reporting, args, threshold, chosen, train_rows, encode_s, name, base_name)


def _report(per_seed: dict[str, list[dict[str, Any]]], shots: list[int], seeds: list[int], tuning: list[str],
            reporting: list[str], args: argparse.Namespace, threshold: float, chosen: dict[str, Any],
            train_rows: list[list[Any]], encode_s: float, name: str, base_name: str) -> None:
    where = (f"reporting group ({len(reporting)} new tools; the {len(tuning)} tuning-group tools old), "
             f"seeds {seeds[0]}..{seeds[-1]}, mean ± se")
    print_table(
        f"metatool: training runs (selector on {name} features, baseline on {base_name}; features encoded in {encode_s:.0f} s; "
        f"options chosen on the tuning group: {chosen}, abstain below confidence {threshold:.3f})",
        ["method", "seed", "episodes", "fit cpu s", "val acc", "description weight", "match weight", "scale"],
        train_rows,
    )
    for scenario, title in (("new_only", "new tools only"), ("old_kept_new", "old tools kept: the new tools' requests")):
        rows = []
        for k in shots:
            for method, runs in per_seed.items():
                row = [k, method] + [_mean_se([r[k][scenario][m] for r in runs]) for m in ("top1_micro", "top1_macro")]
                if method != BASELINE:
                    gain = [r[k][scenario]["top1_micro"] - b[k][scenario]["top1_micro"] for r, b in zip(runs, per_seed[BASELINE])]
                    row.append(f"{_mean_se(gain, signed=True)} ({sum(g > 0 for g in gain)}/{len(gain)})")
                else:
                    row.append("")
                rows.append(row)
        print_table(f"metatool: {title}, top-1 % on the {where}",
                    ["K", "method", "top-1 micro", "top-1 macro", "gain over baseline, micro (seeds ahead)"], rows)
    rows = []
    for k in shots:
        for method, runs in per_seed.items():
            change = [r[k]["old_kept_old"]["top1_micro"] - r["old_before"]["top1_micro"] for r in runs]
            rows.append([k, method, _mean_se([r["old_before"]["top1_micro"] for r in runs]),
                         _mean_se([r[k]["old_kept_old"]["top1_micro"] for r in runs]), _mean_se(change, signed=True)])
    print_table(f"metatool: old tools kept: the old tools' requests, top-1 micro % before and after the new tools are added, {where}",
                ["K", "method", "before", "after", "change"], rows)
    rows = []
    for k in shots:
        for method, runs in per_seed.items():
            row = [k, method, _mean_se([r[k]["auroc"] for r in runs])]
            if method == SELECTOR:
                kept = [float((r[k]["confidence_registered"] >= threshold).mean()) for r in runs]
                wrongly = [float((r[k]["confidence_unregistered"] >= threshold).mean()) for r in runs]
                row += [_mean_se(kept), _mean_se(wrongly)]
            else:
                row += ["", ""]
            rows.append(row)
    print_table(f"metatool: no tool fits: old tools and half the new ones registered, the other half's requests unserved; {where}",
                ["K", "method", "AUROC % (registered vs unregistered)", f"registered served at {threshold:.3f}",
                 f"unregistered served at {threshold:.3f}"], rows)


if __name__ == "__main__":
    import sys

    parser = argparse.ArgumentParser(prog="python -m toolrouter.bench._meta_router_metatool")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=positive, default=3)
    parser.add_argument("--threads", type=positive, default=1)
    parser.add_argument("--data", default=str(data_dir()))
    add_arguments(parser.add_argument_group("metatool"))
    cli_args = parse_with_quick(parser, sys.argv[1:], QUICK)
    torch.set_num_threads(cli_args.threads)
    run(cli_args)
