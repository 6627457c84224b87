"""A prediction with adapted weights in one thread never puts the running statistics back over a
meta-step running in another: both hold the learner's lock."""

from __future__ import annotations

import copy
import threading
import time

import torch
from torch import nn

from meta import MAML


class _Slow(nn.Module):
    """Takes a while, so that another thread's call starts in the middle of this one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(0.02)
        return x


def test_a_prediction_during_a_meta_step_keeps_the_steps_running_statistics() -> None:
    torch.manual_seed(0)
    learner = MAML(nn.Sequential(nn.Linear(3, 8), _Slow(), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1)), vectorize="loop")
    g = torch.Generator().manual_seed(0)
    tasks = [tuple(torch.randn(5, d, generator=g) + 3 for d in (3, 1, 3, 1)) for _ in range(2)]
    alone = copy.deepcopy(learner)
    alone.meta_train_step(tasks)
    weights = learner.adapt_to_task(tasks[0][0], tasks[0][1])
    step = threading.Thread(target=learner.meta_train_step, args=(tasks,))
    step.start()
    time.sleep(0.01)  # the step is inside the model
    learner._forward_with_weights(tasks[0][2], weights)
    step.join()
    for name, value in alone.named_buffers():
        assert torch.equal(dict(learner.named_buffers())[name], value), name
