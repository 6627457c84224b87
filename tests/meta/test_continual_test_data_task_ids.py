"""Per-task data is keyed by task ids checked as train_task checks them: numpy integers are task ids
(train_task took them, evaluate_all_tasks refused them), and a negative id is refused by name."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from meta import ContinualLearner


def _task(t: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(t))
    return x, (x[:, t] > 0).long()


def _learner() -> ContinualLearner:
    torch.manual_seed(0)
    return ContinualLearner(nn.Linear(4, 2), strategy="naive")


def test_numpy_integer_task_ids_key_test_data_and_joint_tasks() -> None:
    learner = _learner()
    learner.train_task(_task(0), np.int64(0))
    plain = learner.evaluate_all_tasks({0: _task(0)})["accuracy"]
    numpy_keyed = learner.evaluate_all_tasks({np.int64(0): _task(0)})["accuracy"]
    assert numpy_keyed == plain and all(type(k) is int for k in numpy_keyed)
    assert learner.train_joint({np.int32(0): _task(0), np.int64(1): _task(1)})["task_ids"] == [0, 1]


def test_a_negative_task_id_in_test_data_is_refused_and_nothing_is_recorded() -> None:
    learner = _learner()
    learner.train_task(_task(0), 0)
    with pytest.raises(ValueError, match=r"test_data: task id: expected an integer in \[0, .*\], got -1"):
        learner.evaluate_all_tasks({-1: _task(1)}, include_untrained=True)
    assert learner._baseline == {} and learner._accuracy == {}
