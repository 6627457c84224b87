"""Task data in the forms users pass, turned into tensors; the batch the training loop passes around."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from meta._checks import check_count
from meta.base import model_device, model_dtype

TaskData = Union[tuple[torch.Tensor, torch.Tensor], TensorDataset, DataLoader, Sequence[torch.Tensor]]
"""One task's data: an ``(x, y)`` pair of tensors, a ``TensorDataset(x, y)``, or a ``DataLoader``
yielding ``(x, y)`` batches (read once and kept as tensors)."""


class EmptyTaskError(ValueError):
    """A task's data holds no samples."""


class DuplicateTaskError(ValueError):
    """A task id was trained before and the strategy forbids training it again."""


class UnknownTaskError(KeyError):
    """Evaluation asked for a task that was never trained."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


def check_task_id(task_id: Any, field: str = "task_id") -> int:
    """``task_id`` as an ``int`` (numpy's integers too): a whole number >= 0 that a tensor of task
    ids (int64) holds; else ValueError naming ``field`` and the value."""
    return check_count(field, task_id, high=torch.iinfo(torch.int64).max)


def _is_tensor_pair(obj: Any) -> bool:
    return (
        isinstance(obj, (tuple, list))
        and len(obj) == 2
        and all(isinstance(t, torch.Tensor) for t in obj)
    )


def as_tensors(data: Any, field: str = "task_data") -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` tensors from any accepted form of task data, detached from any autograd graph
    they were computed in; errors name ``field``.

    >>> x, y = as_tensors((torch.zeros(3, 2), torch.tensor([0, 1, 0])))
    >>> tuple(x.shape), y.tolist()
    ((3, 2), [0, 1, 0])
    """
    if _is_tensor_pair(data):
        x, y = data[0], data[1]
    elif isinstance(data, TensorDataset):
        if len(data.tensors) != 2:
            raise TypeError(f"{field}: a TensorDataset must hold exactly (x, y), got {len(data.tensors)} tensors")
        x, y = data.tensors
    elif isinstance(data, DataLoader):
        xs, ys = [], []
        for i, batch in enumerate(data):
            if not _is_tensor_pair(batch):
                raise TypeError(f"{field}: DataLoader batch {i} is not an (x, y) pair of tensors")
            xs.append(batch[0])
            ys.append(batch[1])
        if not xs:
            raise EmptyTaskError(f"{field}: the DataLoader yielded no batches")
        x, y = torch.cat(xs), torch.cat(ys)
    else:
        raise TypeError(
            f"{field}: expected an (x, y) pair of tensors, a TensorDataset or a DataLoader, "
            f"got {type(data).__name__}"
        )
    for name, t in (("x", x), ("y", y)):
        if t.dim() == 0:  # shape[0] below failed with a bare "tuple index out of range"
            raise ValueError(f"{field}: {name} is a 0-d tensor; give one row per sample (one sample as a batch of one)")
    if x.shape[0] == 0:
        raise EmptyTaskError(f"{field}: no samples (x has shape {tuple(x.shape)})")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{field}: x has {x.shape[0]} samples but y has {y.shape[0]}")
    if x.is_floating_point() and not torch.isfinite(x).all():
        raise ValueError(f"{field}: x holds NaN or infinite values")
    if y.is_floating_point() and not torch.isfinite(y).all():
        raise ValueError(f"{field}: y holds NaN or infinite values")
    # task data is data: tensors computed by another network would take the loss's gradient into it,
    # fail the next batch on its freed graph, and keep that graph alive in a replay memory
    return x.detach(), y.detach()


def as_task_mapping(test_data: Any, field: str = "test_data") -> dict[int, tuple[torch.Tensor, torch.Tensor]]:
    """Per-task test data as ``{task_id: (x, y)}``.

    Accepts a mapping ``{task_id: data}`` or a list/tuple whose i-th element is task i's data (each
    element in any form :func:`as_tensors` accepts). A single bare ``(x, y)`` pair is refused because
    it does not say which task it belongs to.
    """
    if isinstance(test_data, Mapping):
        items = list(test_data.items())
    elif isinstance(test_data, (TensorDataset, DataLoader)) or _is_tensor_pair(test_data):
        raise TypeError(
            f"{field}: got a single dataset; pass per-task data as a list (index = task id) "
            "or a mapping {task_id: data}"
        )
    elif isinstance(test_data, Sequence) and not isinstance(test_data, (str, bytes)):
        items = list(enumerate(test_data))
    else:
        raise TypeError(f"{field}: expected a list or mapping of per-task data, got {type(test_data).__name__}")
    if not items:
        raise EmptyTaskError(f"{field}: no tasks given")
    out: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}
    for key, data in items:
        task_id = check_task_id(key, f"{field}: task id")
        out[task_id] = as_tensors(data, f"{field}[{task_id}]")
    return out


@dataclass
class Batch:
    """One training step's samples.

    ``weight`` multiplies each sample's loss (1 for the current task's samples, importance weights
    for replayed ones); ``memory_index`` is the row in the replay memory, or -1 for current samples.
    The loss is ``sum(weight * loss) / n_current``.
    """

    x: torch.Tensor
    y: torch.Tensor
    task_ids: torch.Tensor
    weight: torch.Tensor
    memory_index: torch.Tensor
    n_current: int

    @classmethod
    def current(cls, x: torch.Tensor, y: torch.Tensor, task_ids: torch.Tensor, model: nn.Module | None = None) -> Batch:
        """A batch of the current task only: unit weights, no memory rows.

        The weights multiply the per-sample losses, so they are made beside ``model``'s parameters
        (its device and floating dtype; without a model, on ``x``'s device in torch's default
        dtype). Task ids and memory rows stay on the CPU, where the replay memory keeps its ids."""
        n = x.shape[0]
        if model is None:
            weight = torch.ones(n, device=x.device)
        else:
            weight = torch.ones(n, device=model_device(model), dtype=model_dtype(model))
        return cls(x, y, task_ids, weight, torch.full((n,), -1, dtype=torch.long), n)

    def extend(
        self, x: torch.Tensor, y: torch.Tensor, task_ids: torch.Tensor, weight: torch.Tensor, memory_index: torch.Tensor
    ) -> Batch:
        """A new batch with extra (for example replayed) rows appended."""
        return Batch(
            torch.cat([self.x, x]),
            torch.cat([self.y, y]),
            torch.cat([self.task_ids, task_ids]),
            torch.cat([self.weight, weight]),
            torch.cat([self.memory_index, memory_index]),
            self.n_current,
        )
