"""Omniglot few-shot classification on alphabets held out from training.

Train: every alphabet of the given zips except the test alphabets (default Balinese and
Early_Aramaic), with rotations as extra classes. Test: N-way K-shot episodes on the held-out
alphabets' characters (also with rotations), mean accuracy with 95% intervals.

The ``recipe`` method is ``meta.protonet_recipe.train_protonet`` (rotations as classes, 20-way
episodes, affine augmentation, cosine schedule), budgeted in CPU seconds of the process
(``--recipe-cpu-minutes``) rather than wall time. ``--val-alphabets`` takes alphabets out of
training and evaluates every model on them too: options are chosen on that validation table, never
on the held-out test alphabets.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from meta.data.episodes import EpisodeSampler
from meta.data.omniglot import OmniglotData, load_omniglot
from meta.few_shot import FewShotLearner
from meta.maml import MAML, MAMLFirstOrder
from meta.protonet_recipe import ProtoNetRecipe, train_protonet
from toolrouter.bench._args import UsageError, name_list
from toolrouter.bench._meta_common import conv4, mean_ci95, train_for
from toolrouter.bench._report import print_table
from toolrouter.data import suggest_fetch

METRIC_METHODS = {"protonet": "prototypical", "matching": "matching", "relation": "relation"}
MAML_METHODS = {"maml": MAML, "fomaml": MAMLFirstOrder}
REFERENCE = {("protonet", 5, 1): 0.87, ("protonet", 20, 1): 0.70, ("fomaml", 5, 1): 0.74}
ACCURACY_COLUMNS = ["method", "N-way", "K-shot", "accuracy", "+-95%", "reference", "eval s"]


def _settings(args: argparse.Namespace) -> list[tuple[int, int]]:
    return [(w, k) for w in args.ways for k in args.shots]  # lists of counts (bench meta reads them)


def _evaluate_settings(name: str, learner: FewShotLearner, args, test) -> list:  # type: ignore[no-untyped-def]
    rows = []
    if args.val_data is not None:
        args.val_rows += _evaluate_on(name, learner, args, args.val_data)
    return rows + _evaluate_on(name, learner, args, test)


def _evaluate_on(name: str, learner: FewShotLearner, args, test) -> list:  # type: ignore[no-untyped-def]
    rows = []
    for n_way, k_shot in _settings(args):
        test_sampler = EpisodeSampler(test.images, test.labels, n_way=n_way, k_shot=k_shot, n_query=args.test_query, seed=1000 + n_way * 10 + k_shot)
        t0 = time.perf_counter()
        res = learner.evaluate(test_sampler, num_episodes=args.test_episodes)
        rows.append([name, n_way, k_shot, res["accuracy"], res["ci95"], REFERENCE.get((name, n_way, k_shot), ""), round(time.perf_counter() - t0, 1)])
    return rows


def _metric_method(name: str, args, train, test) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    torch.manual_seed(args.seed)
    learner = FewShotLearner(METRIC_METHODS[name], encoder=conv4(args.channels), lr=args.fewshot_lr)
    sampler = EpisodeSampler(train.images, train.labels, n_way=args.train_way, k_shot=args.train_shot, n_query=args.train_query, seed=args.seed)

    def step(i: int) -> dict:
        ep = sampler.sample()
        return learner.train_episode(ep.support_x, ep.support_y, ep.query_x, ep.query_y)

    steps, used = train_for(step, args.omniglot_minutes * 60.0, args.max_steps, label=name)
    train_row = [name, f"{args.train_way}-way {args.train_shot}-shot episodes", steps, round(used, 1)]
    return [train_row], _evaluate_settings(name, learner, args, test)


def recipe_from_args(args: argparse.Namespace) -> ProtoNetRecipe:
    """The recipe of ``--recipe-options`` (JSON of ``ProtoNetRecipe`` fields, which win), with
    ``--recipe-way``, ``--seed`` and the budget ``--recipe-cpu-minutes`` / ``--recipe-episodes``
    (0: CPU time only)."""
    try:
        options = json.loads(args.recipe_options)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--recipe-options: not JSON ({exc}): {args.recipe_options!r}") from None
    if not isinstance(options, dict):
        raise UsageError(f"--recipe-options: expected a JSON object of ProtoNetRecipe fields, got {args.recipe_options!r}")
    budget = {"cpu_seconds": args.recipe_cpu_minutes * 60.0, "episodes": args.recipe_episodes or 10**9, "seed": args.seed, "n_way": args.recipe_way}
    if args.max_steps:
        budget["episodes"] = min(budget["episodes"], args.max_steps)
    return ProtoNetRecipe(**{**budget, **options})


def _recipe_method(name: str, args, train_rotated, test) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    # the recipe makes the rotated classes itself, from the unrotated training characters
    train = _limit_classes(load_omniglot(args.omniglot.split(","), rotations=(0,), exclude_alphabets=args.held_out), args.max_train_classes, made_per_class=4)
    recipe = recipe_from_args(args)
    t0 = time.process_time()

    def report(episode: int, metrics: dict[str, float]) -> None:
        if episode % 200 == 0:
            print(f"  [{name}] episode {episode} cpu={time.process_time() - t0:.0f}s loss={metrics['loss']:.3f} accuracy={metrics['accuracy']:.3f}", flush=True)

    result = train_protonet(train.images, train.labels, recipe, on_episode=report)
    train_row = [
        name,
        f"{recipe.n_way}-way {recipe.k_shot}-shot, {recipe.n_query} queries, {result.precision}",
        result.episodes,
        f"{result.cpu_seconds:.1f} CPU s ({result.wall_seconds:.0f} wall s)",
    ]
    return [train_row], _evaluate_settings(name, FewShotLearner(result.network), args, test)


def _load(paths: list[str], option: str, alphabets: list[str]) -> OmniglotData:
    """``load_omniglot`` of ``alphabets``; one the data does not have is the option's mistake."""
    try:
        return load_omniglot(paths, alphabets=alphabets)
    except KeyError as exc:
        raise UsageError(f"{option}: {exc.args[0]}") from None


def _fits(data: OmniglotData, n_way: int, k_shot: int, n_query: int, options: str, where: str) -> None:
    """Whether ``data`` can give ``n_way``-way ``k_shot``-shot episodes with ``n_query`` queries;
    if not, a ``UsageError`` naming ``options``."""
    try:
        EpisodeSampler(data.labels, data.labels, n_way=n_way, k_shot=k_shot, n_query=n_query)
    except ValueError as exc:
        raise UsageError(f"{options}: {exc} in {where}") from None


def _limit_classes(data: OmniglotData, n_classes: int, made_per_class: int = 1) -> OmniglotData:
    """The first classes of ``data`` (``n_classes=0``: all), and only the alphabets they are of;
    when each class is to make ``made_per_class`` classes (the recipe's rotations), as many as
    make at most ``n_classes``, at least one (a floor alone made a limit under 4 mean all)."""
    if not n_classes:
        return data
    n_classes = max(1, n_classes // made_per_class)
    keep = data.labels < n_classes
    names = data.class_names[:n_classes]
    alphabets = [a for a in data.alphabets if any(n.startswith(f"{a}/") for n in names)]
    return type(data)(data.images[keep], data.labels[keep], names, alphabets)


def _maml_method(name: str, args, train, test) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    ways = sorted({w for w, _ in _settings(args)})
    train_rows, rows = [], []
    # one model per way (the head has n_way outputs), the method's budget split between them
    seconds = args.omniglot_minutes * 60.0 / len(ways)
    for n_way in ways:
        torch.manual_seed(args.seed)
        learner = MAML_METHODS[name](
            conv4(args.maml_channels, out_features=n_way),
            lr_inner=args.maml_inner_lr,
            lr_meta=args.maml_meta_lr,
            num_inner_steps=args.maml_inner_steps,
            loss_fn="cross_entropy",
        )
        sampler = EpisodeSampler(train.images, train.labels, n_way=n_way, k_shot=args.train_shot, n_query=args.train_query, seed=args.seed)

        def step(i: int, learner=learner, sampler=sampler) -> dict:  # type: ignore[no-untyped-def]
            return learner.meta_train_step(sampler.sample_batch(args.maml_meta_batch))

        steps, used = train_for(step, seconds, args.max_steps, label=f"{name} {n_way}-way")
        train_rows.append([name, f"{n_way}-way {args.train_shot}-shot, meta-batch {args.maml_meta_batch}, path {learner.path}", steps, round(used, 1)])
        for w, k_shot in _settings(args):
            if w != n_way:
                continue
            test_sampler = EpisodeSampler(test.images, test.labels, n_way=n_way, k_shot=k_shot, n_query=args.test_query, seed=1000 + n_way * 10 + k_shot)
            t0 = time.perf_counter()
            accs = []
            remaining = args.test_episodes
            while remaining > 0:
                chunk = min(remaining, 50)
                accs.append(learner.evaluate(test_sampler.sample_batch(chunk), num_steps=args.maml_test_steps)["accuracy"])
                remaining -= chunk
            acc, half = mean_ci95(torch.cat(accs))
            rows.append([name, n_way, k_shot, acc, half, REFERENCE.get((name, n_way, k_shot), ""), round(time.perf_counter() - t0, 1)])
    return train_rows, rows


def check_options(args: argparse.Namespace) -> list[str]:
    """The methods of ``--methods``, after checking the section's options that need no data
    (``toolrouter bench meta`` calls it before any section runs); a bad one raises ``UsageError``,
    a ``--omniglot`` path that does not exist ``DatasetMissingError``."""
    methods = name_list("--methods", args.methods, sorted([*METRIC_METHODS, *MAML_METHODS, "recipe"]))
    if "recipe" in methods:
        recipe_from_args(args)
    both = sorted({a for a in args.test_alphabets.split(",") if a} & {a for a in args.val_alphabets.split(",") if a})
    if both:  # options chosen on them would be chosen on the test alphabets
        raise UsageError(f"--val-alphabets: {both} are also --test-alphabets")
    with suggest_fetch("omniglot"):
        for path in args.omniglot.split(","):
            if not Path(path).exists():
                raise FileNotFoundError(f"--omniglot: {path!r} does not exist")
    return methods


def run(args: argparse.Namespace) -> None:
    methods = check_options(args)
    paths = args.omniglot.split(",")
    test_alphabets = args.test_alphabets.split(",")
    val_alphabets = [a for a in args.val_alphabets.split(",") if a]
    args.held_out = test_alphabets + val_alphabets
    args.val_rows = []
    with suggest_fetch("omniglot"):
        test = _load(paths, "--test-alphabets", alphabets=test_alphabets)
        args.val_data = _load(paths, "--val-alphabets", alphabets=val_alphabets) if val_alphabets else None
        train = _limit_classes(load_omniglot(paths, exclude_alphabets=args.held_out), args.max_train_classes)
    print(f"Omniglot: train {train.n_classes} classes ({', '.join(train.alphabets)}), test {test.n_classes} classes ({', '.join(test.alphabets)})", flush=True)
    # every kind of episode the run draws must fit its data: found now, not after the training
    for n_way, k_shot in _settings(args):
        _fits(test, n_way, k_shot, args.test_query, "--ways, --shots, --test-query", "the test alphabets")
        if args.val_data is not None:
            _fits(args.val_data, n_way, k_shot, args.test_query, "--ways, --shots, --test-query", "the validation alphabets")
    if any(m in METRIC_METHODS for m in methods):
        _fits(train, args.train_way, args.train_shot, args.train_query, "--train-way, --train-shot, --train-query", "the training alphabets")
    if any(m in MAML_METHODS for m in methods):
        for n_way in sorted({w for w, _ in _settings(args)}):
            _fits(train, n_way, args.train_shot, args.train_query, "--ways, --train-shot, --train-query", "the training alphabets")
    train_rows, rows = [], []
    for m in methods:
        fn = _metric_method if m in METRIC_METHODS else _recipe_method if m == "recipe" else _maml_method
        tr, r = fn(m, args, train, test)
        train_rows += tr
        rows += r
        print_table("Omniglot (partial, so far)", ACCURACY_COLUMNS, rows)
    print_table(f"Omniglot training ({args.omniglot_minutes} min per method)", ["method", "episodes", "steps", "seconds"], train_rows)
    if val_alphabets:
        print_table(f"Omniglot validation accuracy on training alphabets {', '.join(val_alphabets)} (kept out of training)", ACCURACY_COLUMNS, args.val_rows)
    print_table(
        f"Omniglot accuracy on held-out alphabets {', '.join(test_alphabets)} ({args.test_episodes} episodes, {args.test_query} queries per class)",
        ACCURACY_COLUMNS,
        rows,
    )
