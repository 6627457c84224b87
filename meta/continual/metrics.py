"""Continual-learning metrics on the accuracy matrix, and collapse detection.

``R[i][j]`` is the accuracy on task ``j`` after the ``i``-th training stage (stage ``i`` trains task
``i`` in the usual square case). With ``T`` tasks and ``b_j`` the accuracy of the untrained
(randomly initialised) model on task ``j``:

* average accuracy  ``ACC = mean_j R[T-1][j]``
* backward transfer ``BWT = mean_{j<T-1} (R[T-1][j] - R[j][j])`` (negative: forgetting)
* forward transfer  ``FWT = mean_{j>0} (R[j-1][j] - b_j)`` (Lopez-Paz & Ranzato, 2017)
* forgetting        ``F = mean_{j<T-1} max_{j<=l<T-1} R[l][j] - R[T-1][j]`` (Chaudhry et al., 2018)

Entries that were not measured are NaN and are left out of the means; a metric with nothing to
average is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from meta._checks import check_count, check_real


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else float("nan")


@dataclass
class AccuracyMatrix:
    """``values[i, j]``: accuracy on ``task_ids[j]`` after training stage ``i``.

    ``trained_at[j]`` lists the stages at which task ``j`` was trained (usually just ``[j]``);
    ``baseline[j]`` is the untrained model's accuracy on task ``j`` (NaN if unknown).

    Example:
        >>> R = AccuracyMatrix.square([[0.9, 0.1], [0.6, 0.95]], baseline=[0.1, 0.1])
        >>> round(R.average_accuracy(), 3), round(R.backward_transfer(), 3), round(R.forgetting(), 3)
        (0.775, -0.3, 0.3)
        >>> round(R.forward_transfer(), 3)
        0.0
    """

    values: np.ndarray
    task_ids: list[int]
    trained_at: list[list[int]]
    baseline: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=float)
        if self.values.ndim != 2 or self.values.shape[1] != len(self.task_ids):
            raise ValueError(f"values: expected shape (stages, {len(self.task_ids)}), got {self.values.shape}")
        if len(self.trained_at) != len(self.task_ids):
            raise ValueError(f"trained_at: expected {len(self.task_ids)} entries, got {len(self.trained_at)}")
        # each task's stages index the rows: an empty list failed the metrics with max()'s bare error,
        # a stage past the last row with numpy's IndexError, and a negative one read a row from the end
        stages = self.num_stages
        self.trained_at = [
            [check_count(f"trained_at[{j}][{i}]", s, high=stages - 1) for i, s in enumerate(at)]
            for j, at in enumerate(self.trained_at)
        ]
        empty = [j for j, at in enumerate(self.trained_at) if not at]
        if empty:
            raise ValueError(f"trained_at[{empty[0]}]: lists no stage; each task was trained at a stage in [0, {stages - 1}]")
        # a list or a tuple, as square() takes one; of another length it would score other tasks
        baseline = np.asarray(self.baseline, dtype=float)
        if baseline.size == 0:
            baseline = np.full(len(self.task_ids), np.nan)
        if baseline.shape != (len(self.task_ids),):
            raise ValueError(f"baseline: expected {len(self.task_ids)} values, one per task, got shape {baseline.shape}")
        self.baseline = baseline

    @classmethod
    def square(cls, values: Sequence[Sequence[float]], baseline: Sequence[float] | None = None) -> AccuracyMatrix:
        """The usual case: stage ``i`` trained task ``i``."""
        arr = np.asarray(values, dtype=float)
        if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
            raise ValueError(f"values: expected a square matrix, got shape {arr.shape}")
        n = arr.shape[0]
        b = np.full(n, np.nan) if baseline is None else np.asarray(baseline, dtype=float)
        if b.shape != (n,):
            raise ValueError(f"baseline: expected {n} values, got shape {b.shape}")
        return cls(arr, list(range(n)), [[i] for i in range(n)], b)

    @property
    def num_stages(self) -> int:
        """Rows of the matrix: training stages evaluated so far."""
        return int(self.values.shape[0])

    def _last_trained(self, j: int) -> int:
        return max(self.trained_at[j])

    def average_accuracy(self) -> float:
        """Mean accuracy over all tasks after the last stage."""
        if self.num_stages == 0:
            return float("nan")
        return _nanmean(list(self.values[-1]))

    def backward_transfer(self) -> float:
        """Mean change of each earlier task's accuracy from just after its training to the end."""
        last = self.num_stages - 1
        diffs = [
            self.values[last, j] - self.values[self._last_trained(j), j]
            for j in range(len(self.task_ids))
            if self._last_trained(j) < last
        ]
        return _nanmean(diffs)

    def forgetting(self) -> float:
        """Mean drop from each earlier task's best accuracy (since training it) to the end."""
        last = self.num_stages - 1
        drops = []
        for j in range(len(self.task_ids)):
            start = self._last_trained(j)
            if start >= last:
                continue
            history = self.values[start:last, j]
            history = history[~np.isnan(history)]
            if history.size and not math.isnan(self.values[last, j]):
                drops.append(float(history.max() - self.values[last, j]))
        return _nanmean(drops)

    def forward_transfer(self) -> float:
        """Mean gain, before training a task, of the model so far over the untrained model."""
        gains = []
        for j in range(len(self.task_ids)):
            first = min(self.trained_at[j])
            if first >= 1:
                gains.append(self.values[first - 1, j] - self.baseline[j])
        return _nanmean(gains)

    def to_dict(self) -> dict[str, object]:
        """Plain-JSON view: the matrix (None for NaN) and the four metrics."""

        def clean(v: float) -> float | None:
            return None if math.isnan(v) else float(v)

        return {
            "task_ids": list(self.task_ids),
            "matrix": [[clean(v) for v in row] for row in self.values],
            "baseline": [clean(v) for v in self.baseline],
            "average_accuracy": clean(self.average_accuracy()),
            "backward_transfer": clean(self.backward_transfer()),
            "forward_transfer": clean(self.forward_transfer()),
            "forgetting": clean(self.forgetting()),
        }


def _matrix(R: AccuracyMatrix | Sequence[Sequence[float]], baseline: Sequence[float] | None = None) -> AccuracyMatrix:
    # ContinualLearner.accuracy_matrix() returns an AccuracyMatrix: take it as it is
    if isinstance(R, AccuracyMatrix):
        if baseline is not None:
            raise ValueError("baseline: an AccuracyMatrix carries its own baseline; pass it without one")
        return R
    return AccuracyMatrix.square(R, baseline)


def average_accuracy(R: AccuracyMatrix | Sequence[Sequence[float]]) -> float:
    """ACC of a square accuracy matrix, or of an :class:`AccuracyMatrix` (see the module docstring)."""
    return _matrix(R).average_accuracy()


def backward_transfer(R: AccuracyMatrix | Sequence[Sequence[float]]) -> float:
    """BWT of a square accuracy matrix, or of an :class:`AccuracyMatrix`."""
    return _matrix(R).backward_transfer()


def forgetting(R: AccuracyMatrix | Sequence[Sequence[float]]) -> float:
    """Average forgetting of a square accuracy matrix, or of an :class:`AccuracyMatrix`."""
    return _matrix(R).forgetting()


def forward_transfer(R: AccuracyMatrix | Sequence[Sequence[float]], baseline: Sequence[float] | None = None) -> float:
    """FWT of a square accuracy matrix against per-task untrained-model accuracies ``baseline``, or
    of an :class:`AccuracyMatrix` (which carries its baseline).

    >>> forward_transfer([[0.9, 0.5], [0.8, 0.9]], baseline=[0.1, 0.2])
    0.3
    """
    if not isinstance(R, AccuracyMatrix) and baseline is None:
        raise TypeError("baseline: forward_transfer of a plain matrix needs the untrained model's accuracy per task")
    return round(_matrix(R, baseline).forward_transfer(), 12)


@dataclass(frozen=True)
class CollapseReport:
    """Whether predictions collapsed onto one class.

    ``majority_fraction`` is the share of predictions equal to the most predicted class;
    ``label_fraction`` the share of the most frequent true label (what a constant predictor
    would legitimately reach).
    """

    collapsed: bool
    majority_class: int
    majority_fraction: float
    label_fraction: float


def detect_collapse(predictions: torch.Tensor, labels: torch.Tensor, threshold: float = 0.9) -> CollapseReport:
    """A model has collapsed when at least ``threshold`` of its predictions are one class although
    the labels hold more than one class and no label is that frequent.

    >>> detect_collapse(torch.tensor([3, 3, 3, 3]), torch.tensor([0, 1, 2, 3])).collapsed
    True
    >>> detect_collapse(torch.tensor([0, 1, 2, 3]), torch.tensor([0, 1, 2, 3])).collapsed
    False
    """
    # a bool passed for 1.0 (a flag in the wrong place) and a string failed the comparison unnamed
    threshold = check_real("threshold", threshold, low=0, high=1, low_open=True)
    if predictions.numel() == 0:
        raise ValueError("predictions: empty")
    if predictions.shape != labels.shape:
        # the label shares would come from other examples than the prediction shares
        raise ValueError(f"labels: expected one label per prediction, shape {tuple(predictions.shape)}, got {tuple(labels.shape)}")
    values, counts = torch.unique(predictions, return_counts=True)
    top = int(counts.argmax())
    majority_fraction = float(counts[top]) / predictions.numel()
    _, label_counts = torch.unique(labels, return_counts=True)
    label_fraction = float(label_counts.max()) / labels.numel()
    collapsed = len(label_counts) > 1 and majority_fraction >= threshold and label_fraction < threshold
    return CollapseReport(collapsed, int(values[top]), majority_fraction, label_fraction)
