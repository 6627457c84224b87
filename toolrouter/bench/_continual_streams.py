"""The task streams of the continual benchmark, built from scikit-learn's digits.

Permuted digits: 10 experiences, the identity and 9 fixed pixel permutations, all 10 classes each.
Split digits: 5 tasks of 2 classes each ({0,1}, {2,3}, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from meta.data.digits import load_digits_split


@dataclass(frozen=True)
class Stream:
    """Per-task train and test data, as lists of ``(x, y)`` pairs (index = task id)."""

    name: str
    train: list[tuple[torch.Tensor, torch.Tensor]]
    test: list[tuple[torch.Tensor, torch.Tensor]]


def permuted_digits(num_tasks: int = 10, seed: int = 0) -> Stream:
    """Task 0 is the identity; task i > 0 applies a fixed random permutation of the 64 pixels.

    The permutations depend only on ``seed`` (the stream is the same for every strategy).
    """
    split = load_digits_split()
    gen = torch.Generator().manual_seed(seed)
    train, test = [], []
    for task in range(num_tasks):
        perm = torch.arange(64) if task == 0 else torch.randperm(64, generator=gen)
        train.append((split.x_train[:, perm], split.y_train))
        test.append((split.x_test[:, perm], split.y_test))
    return Stream("permuted digits", train, test)


def split_digits(classes_per_task: int = 2) -> Stream:
    """Tasks of consecutive classes: {0, 1}, {2, 3}, ... with labels kept as the digit."""
    split = load_digits_split()
    train, test = [], []
    for start in range(0, 10, classes_per_task):
        cls = torch.arange(start, start + classes_per_task)
        tr = torch.isin(split.y_train, cls)
        te = torch.isin(split.y_test, cls)
        train.append((split.x_train[tr], split.y_train[tr]))
        test.append((split.x_test[te], split.y_test[te]))
    return Stream("split digits", train, test)


def subsample(stream: Stream, per_task: int, num_tasks: int | None = None) -> Stream:
    """The first ``per_task`` train and test samples of the first ``num_tasks`` tasks (toy runs)."""
    n = len(stream.train) if num_tasks is None else num_tasks
    return Stream(
        stream.name,
        [(x[:per_task], y[:per_task]) for x, y in stream.train[:n]],
        [(x[:per_task], y[:per_task]) for x, y in stream.test[:n]],
    )
