"""One run of one strategy on one stream, with the benchmark's chosen defaults in one place."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from meta.continual import EWC, ContinualLearner, ExperienceReplay, LwF, Naive, Progressive, Strategy
from meta.continual.strategies import Compose
from toolrouter.bench._continual_streams import Stream

# The defaults behind the documented numbers (docs/benchmarks/continual.md has the sweep behind them).
BATCH_SIZE = 32
BUFFER_SIZE = 200
EWC_LAMBDA = 100.0

# Two optimisers: plain SGD suits rehearsal and distillation (and naive), while EWC only helped with
# momentum (with plain SGD a strong penalty stalled learning of new tasks). Each strategy runs with the
# one that suited it in the sweep, and naive is reported under both.
PLAIN_SGD: dict[str, Any] = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.0}
MOMENTUM_SGD: dict[str, Any] = {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9}

StrategyFactory = Callable[[int], Strategy]

STRATEGIES: dict[str, tuple[StrategyFactory, dict[str, Any]]] = {
    "naive": (lambda seed: Naive(), PLAIN_SGD),
    "naive_momentum": (lambda seed: Naive(), MOMENTUM_SGD),
    "ewc": (lambda seed: EWC(ewc_lambda=EWC_LAMBDA, seed=seed), MOMENTUM_SGD),
    "online_ewc": (lambda seed: EWC(ewc_lambda=EWC_LAMBDA, mode="online", seed=seed), MOMENTUM_SGD),
    "replay": (lambda seed: ExperienceReplay(BUFFER_SIZE, "reservoir", seed=seed), PLAIN_SGD),
    "replay_balanced": (lambda seed: ExperienceReplay(BUFFER_SIZE, "class_balanced", seed=seed), PLAIN_SGD),
    "replay_prioritized": (lambda seed: ExperienceReplay(BUFFER_SIZE, "loss_prioritized", seed=seed), PLAIN_SGD),
    "lwf": (lambda seed: LwF(alpha=1.0, temperature=2.0), PLAIN_SGD),
    "ewc+replay": (
        lambda seed: Compose(
            [EWC(ewc_lambda=EWC_LAMBDA, seed=seed), ExperienceReplay(BUFFER_SIZE, "class_balanced", seed=seed)]
        ),
        MOMENTUM_SGD,
    ),
    "progressive": (lambda seed: Progressive(seed=seed), PLAIN_SGD),
}
"""Strategy name -> (factory, optimiser settings); ``joint`` (offline upper reference) uses plain SGD."""


def optimiser_label(name: str) -> str:
    """Short description of the optimiser a strategy runs with."""
    cfg = PLAIN_SGD if name == "joint" else STRATEGIES[name][1]
    return f"sgd {cfg['lr']}" + (f" m{cfg['momentum']}" if cfg["momentum"] else "")


ALL_NAMES = ["naive", "joint", *[n for n in STRATEGIES if n != "naive"]]


def mlp(seed: int, hidden: int = 256, dropout: float = 0.0) -> nn.Sequential:
    """The benchmark's single-head MLP 64-256-256-10, initialised from ``seed``.

    ``dropout`` > 0 puts ``nn.Dropout(dropout)`` after each hidden ReLU (as Avalanche's ``SimpleMLP``
    does, with 0.5 by default); dropout has no parameters, so the initial weights are the same for
    every ``dropout``. The learner trains in train mode and scores (and estimates Fishers) in eval mode.
    """
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout: must lie in [0, 1), got {dropout!r}")
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    width = 64
    for _ in range(2):
        layers += [nn.Linear(width, hidden), nn.ReLU()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = hidden
    layers.append(nn.Linear(hidden, 10))
    return nn.Sequential(*layers)


@dataclass
class RunResult:
    """Final metrics of one run, and every collapse seen along the way."""

    strategy: str
    setting: str
    seed: int
    average_accuracy: float
    forgetting: float
    backward_transfer: float
    forward_transfer: float
    seconds: float
    collapsed_stages: list[int] = field(default_factory=list)  # stages after which the model collapsed
    collapsed_task_evals: int = 0  # (stage, task) pairs where one task's predictions collapsed
    matrix: list[list[float | None]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON view."""
        return dict(self.__dict__)


def run(
    stream: Stream,
    name: str,
    setting: str,
    seed: int,
    epochs: int,
    hidden: int = 256,
    dropout: float = 0.0,
    lr_decay: float = 1.0,
) -> RunResult:
    """Train ``name`` on ``stream`` in ``setting`` and score it after every task.

    ``dropout``: see :func:`mlp`; ``lr_decay``: the learner's per-experience learning-rate decay
    (ignored by ``joint``, which is a single stage).
    """
    t0 = time.perf_counter()
    optimiser = PLAIN_SGD if name == "joint" else STRATEGIES[name][1]
    common = dict(setting=setting, batch_size=BATCH_SIZE, seed=seed, lr_decay=lr_decay, **optimiser)
    collapsed_stages: list[int] = []
    collapsed_task_evals = 0
    if name == "joint":
        learner = ContinualLearner(mlp(seed, hidden, dropout), strategy=Naive(), **common)
        learner.train_joint(stream.train, num_epochs=epochs)
        res = learner.evaluate_all_tasks(stream.test)
        collapsed_stages += [0] if res["collapsed"] else []
        collapsed_task_evals += len(res["collapsed_tasks"])
    else:
        learner = ContinualLearner(mlp(seed, hidden, dropout), strategy=STRATEGIES[name][0](seed), **common)
        for task_id, task_data in enumerate(stream.train):
            learner.train_task(task_data, task_id, num_epochs=epochs)
            res = learner.evaluate_all_tasks(stream.test, include_untrained=True)
            if res["collapsed"]:
                collapsed_stages.append(task_id)
            collapsed_task_evals += len(res["collapsed_tasks"])
    R = learner.accuracy_matrix()
    metrics = R.to_dict()
    return RunResult(
        strategy=name,
        setting=setting,
        seed=seed,
        average_accuracy=R.average_accuracy(),
        forgetting=R.forgetting(),
        backward_transfer=R.backward_transfer(),
        forward_transfer=R.forward_transfer(),
        seconds=time.perf_counter() - t0,
        collapsed_stages=collapsed_stages,
        collapsed_task_evals=collapsed_task_evals,
        matrix=metrics["matrix"],  # type: ignore[arg-type]
    )
