"""Forward transfer compares a task's accuracy just before it was trained with the untrained
model's on the same data: the baseline was cached from the first test data a task was evaluated
on, so a later evaluation on other data (the one the accuracy matrix keeps) was compared with it."""

from __future__ import annotations

import copy

import torch
from torch import nn

from meta import ContinualLearner


def test_the_baseline_is_measured_on_the_data_the_accuracy_before_training_was() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4))
    untrained = copy.deepcopy(model)
    learner = ContinualLearner(model, strategy="naive")
    g = torch.Generator().manual_seed(1)
    x0, x1 = torch.randn(2, 32, 4, generator=g)
    with torch.no_grad():
        guessed = untrained(x1).argmax(dim=1)  # labels the untrained model gets all right
    first = (x1, (guessed + 1) % 4)  # and ones it gets all wrong
    second = (x1, guessed)
    learner.evaluate_all_tasks({1: first}, include_untrained=True)
    learner.train_task((x0, (x0[:, 0] > 0).long()), 0)
    before = learner.evaluate_all_tasks({0: (x0, (x0[:, 0] > 0).long()), 1: second}, include_untrained=True)
    assert before["per_task"][1]["baseline_accuracy"] == 1.0
    learner.train_task(second, 1)
    after = learner.evaluate_all_tasks({0: (x0, (x0[:, 0] > 0).long()), 1: first})
    matrix = learner.accuracy_matrix()
    assert list(matrix.baseline) == [matrix.baseline[0], 1.0]  # not 0.0, on the first data
    assert after["per_task"][1]["baseline_accuracy"] == 1.0  # kept once trained: forward transfer's
    assert matrix.forward_transfer() == before["accuracy"][1] - 1.0
