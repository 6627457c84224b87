"""Class labels of any integer width meta-train, adapt and evaluate as int64 labels do (numpy gives
int32, image datasets uint8): cross-entropy failed on them with 'expected target dtype to be Long'."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML, Reptile


def _tasks(dtype: torch.dtype) -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(0)
    return [
        (torch.randn(4, 3, generator=g), torch.tensor([0, 1, 2, 1]).to(dtype),
         torch.randn(3, 3, generator=g), torch.tensor([2, 0, 1]).to(dtype))
        for _ in range(2)
    ]


def _run(cls: type[MAML], vectorize: str, dtype: torch.dtype) -> tuple[float, dict, torch.Tensor]:
    torch.manual_seed(0)
    learner = cls(nn.Linear(3, 3), lr_inner=0.1, loss_fn="cross_entropy", vectorize=vectorize)
    tasks = _tasks(dtype)
    loss = learner.meta_train_step(tasks)["meta_loss"]
    weights = learner.adapt_to_task(tasks[0][0], tasks[0][1])
    return loss, learner.evaluate(tasks), weights["weight"]


@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.int8, torch.uint8])
@pytest.mark.parametrize(("cls", "vectorize"), [(MAML, "vmap"), (MAML, "loop"), (Reptile, "loop")])
def test_labels_of_a_narrower_integer_type_give_what_int64_labels_give(cls: type[MAML], vectorize: str, dtype: torch.dtype) -> None:
    loss, scores, weight = _run(cls, vectorize, dtype)
    loss64, scores64, weight64 = _run(cls, vectorize, torch.int64)
    assert loss == loss64 and torch.equal(weight, weight64)
    assert torch.equal(scores["loss"], scores64["loss"]) and torch.equal(scores["accuracy"], scores64["accuracy"])


def test_a_batch_mixing_label_widths_trains_as_one_of_int64_labels() -> None:
    torch.manual_seed(0)
    learner = MAML(nn.Linear(3, 3), lr_inner=0.1, loss_fn="cross_entropy", vectorize="loop")
    (a, b) = _tasks(torch.int64)
    mixed = [a, tuple(t.to(torch.int32) if not t.is_floating_point() else t for t in b)]
    assert learner.meta_train_step(mixed)["meta_loss"] == _run(MAML, "loop", torch.int64)[0]


def test_true_false_labels_are_classes_1_and_0() -> None:
    def tasks(dtype: torch.dtype) -> list[tuple[torch.Tensor, ...]]:
        return [(x, (x[:, 0] > 0).to(dtype), q, (q[:, 0] > 0).to(dtype)) for x, q in torch.randn(2, 2, 4, 3)]

    torch.manual_seed(0)
    batch = tasks(torch.bool)
    as_ints = [tuple(t.long() if t.dtype == torch.bool else t for t in task) for task in batch]
    results = []
    for labelled in (batch, as_ints):
        torch.manual_seed(1)
        learner = MAML(nn.Linear(3, 2), lr_inner=0.1, loss_fn="cross_entropy", vectorize="loop")
        results.append((learner.meta_train_step(labelled)["meta_loss"], learner.evaluate(labelled)["accuracy"]))
    assert results[0][0] == results[1][0] and torch.equal(results[0][1], results[1][1])
