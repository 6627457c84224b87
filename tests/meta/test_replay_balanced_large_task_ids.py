"""Class-balanced replay groups its memory by (task, class) pairs as they are: it made one number of
both, task * (labels + 1) + label, which overflowed int64 for a large task id and wrapped onto
another task's groups, so a task with id 2**62 shared task 0's groups and got no slot."""

from __future__ import annotations

import torch
from torch import nn

from meta import ContinualLearner


def test_a_large_task_id_gets_its_share_of_a_class_balanced_memory() -> None:
    torch.manual_seed(0)
    learner = ContinualLearner(nn.Linear(4, 4), strategy="replay_balanced", buffer_size=8, setting="task")
    x, y = torch.randn(20, 4), torch.arange(20) % 4
    learner.train_task((x, y), 0)
    learner.train_task((x, y), 2**62)
    memory = learner.strategy
    for task_id in (0, 2**62):
        kept = memory.y[memory.task_ids == task_id]
        assert sorted(kept.tolist()) == [0, 1, 2, 3]  # one slot per (task, class) group
