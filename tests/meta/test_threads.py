"""Threads sharing one learner: its calls run one at a time, each on a consistent model."""

from __future__ import annotations

import copy
import threading
import time

import torch
from torch import nn

from meta import MAML, ContinualLearner, FewShotLearner


class _Slow(nn.Module):
    """A layer that takes a while and records the mode it was in when it finished."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(dim, dim)
        self.modes: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        time.sleep(0.02)  # lets another thread run in the middle of the call
        self.modes.append(self.training)
        return self.linear(x)


def _together(*calls) -> None:
    threads = [threading.Thread(target=call) for call in calls]
    for i, t in enumerate(threads):
        t.start()
        time.sleep(0.005 * (i + 1))  # the second call starts while the first is inside the model
    for t in threads:
        t.join()


def test_concurrent_predictions_of_a_continual_learner_run_in_eval_mode() -> None:
    torch.manual_seed(0)
    slow = _Slow(4)
    learner = ContinualLearner(nn.Sequential(slow, nn.Dropout(0.5), nn.Linear(4, 2)), strategy="naive", batch_size=8)
    x = torch.randn(8, 4)
    learner.train_task((x, (x[:, 0] > 0).long()), 0)  # leaves the model in training mode
    slow.modes.clear()
    results: list[torch.Tensor] = []
    _together(*[lambda: results.append(learner.predict(x))] * 3)
    assert slow.modes == [False] * 3  # none ran with dropout on
    assert all(torch.equal(r, results[0]) for r in results)
    assert learner.model.training  # and the mode it was in is back


def test_concurrent_predictions_of_a_few_shot_learner_run_in_eval_mode() -> None:
    torch.manual_seed(0)
    slow = _Slow(4)
    learner = FewShotLearner("prototypical", encoder=nn.Sequential(slow, nn.Dropout(0.5)))
    sx, sy, qx = torch.randn(4, 4), torch.arange(4), torch.randn(6, 4)
    learner.train_episode(sx, sy, qx, torch.arange(4).repeat(2)[:6])  # leaves the network in training mode
    slow.modes.clear()
    results: list[torch.Tensor] = []
    _together(*[lambda: results.append(learner.predict(sx, sy, qx))] * 3)
    assert slow.modes == [False] * 3
    assert all(torch.equal(r, results[0]) for r in results)
    assert learner.network.training


def test_concurrent_meta_steps_are_the_same_as_two_steps_in_turn() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(_Slow(2), nn.Tanh(), nn.Linear(2, 1))
    shared = MAML(model, vectorize="loop")
    alone = copy.deepcopy(shared)  # a copy has a lock of its own
    gen = torch.Generator().manual_seed(1)
    tasks = [tuple(torch.randn(3, d, generator=gen) for d in (2, 1, 2, 1)) for _ in range(2)]
    alone.meta_train_step(tasks)
    alone.meta_train_step(tasks)
    _together(lambda: shared.meta_train_step(tasks), lambda: shared.meta_train_step(tasks))
    assert shared.meta_step_count == 2
    for a, b in zip(shared.parameters(), alone.parameters(), strict=True):
        torch.testing.assert_close(a, b)
