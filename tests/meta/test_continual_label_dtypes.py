"""Integer labels of any width train, replay and evaluate as int64 labels do (numpy gives int32,
image datasets uint8): they failed in the loss ('expected target dtype to be Long') or in replay."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import ContinualLearner


@pytest.mark.parametrize("dtype", [torch.int32, torch.int16, torch.uint8])
@pytest.mark.parametrize("strategy", ["ewc+replay_prioritized", "lwf+replay_balanced"])
def test_labels_of_a_narrower_integer_type_give_what_int64_labels_give(dtype: torch.dtype, strategy: str) -> None:
    g = torch.Generator().manual_seed(0)
    tasks = [(x, (x[:, t] > 0).long() + 2 * t) for t, x in enumerate(torch.randn(2, 20, 6, generator=g))]

    def run(label_dtype: torch.dtype) -> tuple[list, dict]:
        torch.manual_seed(0)
        learner = ContinualLearner(nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4)), strategy=strategy,
                                   buffer_size=6)
        losses = [learner.train_task((x, y.to(label_dtype)), t)["losses"] for t, (x, y) in enumerate(tasks)]
        return losses, learner.evaluate_all_tasks([(x, y.to(label_dtype)) for x, y in tasks])["accuracy"]

    assert run(dtype) == run(torch.int64)
