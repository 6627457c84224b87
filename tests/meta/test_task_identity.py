"""Tasks and loaded datasets hold tensors: they compare and hash as objects, as tensors do."""

from __future__ import annotations

import torch

from meta import Task, create_meta_batch
from meta.data.omniglot import OmniglotData


def _task(value: float) -> Task:
    return Task(torch.full((5, 3), value), torch.zeros(5), torch.zeros(7, 3), torch.zeros(7))


def test_list_operations_on_tasks_work() -> None:
    # a generated field-wise == compared the tensors elementwise: "Boolean value of Tensor with
    # more than one value is ambiguous" from `in`, index and remove
    a, b, c = _task(0.0), _task(1.0), _task(0.0)
    tasks = [a, b]
    assert c not in tasks and b in tasks and tasks.index(b) == 1
    tasks.remove(a)
    assert tasks == [b] and a != c and a == a
    assert len({a, b, c}) == 3
    assert create_meta_batch([a, b, c], batch_size=2)[1] is b


def test_loaded_data_compares_as_an_object() -> None:
    data = OmniglotData(torch.zeros(2, 1, 4, 4), torch.tensor([0, 1]), ["A/c1/rot0", "A/c2/rot0"], ["A"])
    other = OmniglotData(torch.zeros(2, 1, 4, 4), torch.tensor([0, 1]), ["A/c1/rot0", "A/c2/rot0"], ["A"])
    assert data == data and data != other and data in [data]
