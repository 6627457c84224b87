"""Sinusoid regression (MAML paper setting): MSE after adaptation, MAML against MetaSGD."""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable

import torch

from meta.data.sinusoid import SinusoidTaskSampler
from meta.maml import MAML, MAMLFirstOrder, MetaSGD, MultiTaskMAML, Reptile
from toolrouter.bench._args import UsageError, name_list
from toolrouter.bench._meta_common import mean_ci95, sinusoid_mlp, train_for
from toolrouter.bench._report import print_table

ALGORITHMS = {"maml": MAML, "metasgd": MetaSGD, "fomaml": MAMLFirstOrder, "reptile": Reptile, "mtmaml": MultiTaskMAML}
PUBLISHED_1STEP = {  # Meta-SGD paper (Li et al., 2017), Table 1
    "maml": {5: 1.13, 10: 0.77, 20: 0.48},
    "metasgd": {5: 0.90, 10: 0.53, 20: 0.31},
}
REFERENCE_MAML_1STEP = {5: 0.55, 10: 0.32, 20: 0.20}  # reference: plain MAML, 8 min on this machine


def meta_lr_schedule(kind: str, lr: float, seconds: float, start: float) -> Callable[[float], float]:
    """The meta learning rate at a wall-clock time: ``constant``, or ``cosine`` annealed from ``lr`` to
    ``lr / 100`` over the time budget (the budget is time, not steps, so the schedule follows the clock)."""
    if kind == "constant":
        return lambda now: lr
    if kind != "cosine":
        raise UsageError(f"--meta-lr-schedule: expected 'constant' or 'cosine', got {kind!r}")
    floor = lr / 100

    def at(now: float) -> float:
        progress = min(max((now - start) / seconds, 0.0), 1.0)
        return floor + (lr - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))

    return at


def check_options(args: argparse.Namespace) -> list[str]:
    """The methods of ``--sinusoid-methods``, after checking ``--meta-lr-schedule``
    (``toolrouter bench meta`` calls it before any section runs); ``UsageError`` for a bad one."""
    meta_lr_schedule(args.meta_lr_schedule, args.meta_lr, 1.0, 0.0)
    return name_list("--sinusoid-methods", args.sinusoid_methods, sorted(ALGORITHMS))


def run(args: argparse.Namespace) -> None:
    shots, eval_shots = args.train_shots, args.eval_shots  # lists of counts (bench meta reads them)
    methods = check_options(args)
    seconds = args.minutes * 60.0
    test_sampler = SinusoidTaskSampler(seed=10_000 + args.seed)
    rows, train_rows = [], []
    for method in methods:
        for k_train in shots:
            torch.manual_seed(args.seed)
            learner = ALGORITHMS[method](
                sinusoid_mlp(init=args.sinusoid_init), lr_inner=args.inner_lr, lr_meta=args.meta_lr, num_inner_steps=1,
                torch_compile=args.torch_compile,
            )
            sampler = SinusoidTaskSampler(seed=args.seed + k_train)
            schedule = meta_lr_schedule(args.meta_lr_schedule, args.meta_lr, seconds, time.perf_counter())

            def step(i: int, learner=learner, sampler=sampler, k=k_train, schedule=schedule) -> dict:  # type: ignore[no-untyped-def]
                for group in learner.meta_optimizer.param_groups:
                    group["lr"] = schedule(time.perf_counter())
                return learner.meta_train_step(sampler.sample(args.meta_batch, k, args.sinusoid_train_query or k))

            n_steps, used = train_for(step, seconds, args.max_steps, label=f"{method} K={k_train}")
            train_rows.append([method, k_train, n_steps, round(used, 1), f"{learner.path}{'+compile' if learner.torch_compile and learner.path == 'vmap' else ''}", round(1000 * used / max(n_steps, 1), 3)])
            # one model per training K, evaluated at that K (the papers' protocol); a single
            # training K is evaluated at every --eval-shots value
            for k_eval in ([k_train] if len(shots) > 1 else eval_shots):
                gen = torch.Generator().manual_seed(20_000 + k_eval)
                test_sampler.generator = gen
                batch = test_sampler.sample(args.test_tasks, k_eval, args.query_points)
                for n_inner in (1, 10):
                    losses = learner.evaluate(batch, num_steps=n_inner)["loss"]
                    diverged = int((~torch.isfinite(losses)).sum())
                    mse, half = mean_ci95(losses)
                    if diverged:  # say so in the table rather than print a bare nan
                        mse, half = f"diverged on {diverged}/{len(losses)} tasks", ""  # type: ignore[assignment]
                    rows.append([method, k_train, k_eval, n_inner, mse, half, PUBLISHED_1STEP.get(method, {}).get(k_eval, "") if n_inner == 1 else "", REFERENCE_MAML_1STEP.get(k_eval, "") if n_inner == 1 else ""])
    print_table(
        f"Sinusoid training ({args.minutes} min per model, meta-batch {args.meta_batch}, 1 inner step, Adam {args.meta_lr}, {args.meta_lr_schedule}{', torch.compile' if args.torch_compile else ''})",
        ["method", "train K", "meta-steps", "seconds", "path", "ms/step"],
        train_rows,
    )
    print_table(
        f"Sinusoid MSE after adaptation ({args.test_tasks} test tasks, {args.query_points} query points, mean and 95% half-width)",
        ["method", "train K", "test K", "inner steps", "MSE", "+-95%", "published (1 step)", "reference MAML 8 min"],
        rows,
    )
