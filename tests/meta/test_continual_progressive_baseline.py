"""Scoring a progressive learner's untrained baseline (forward transfer's reference) builds a fresh
column for the task: its weights were drawn from torch's global generator, so every evaluation moved
the caller's random stream."""

from __future__ import annotations

import torch
from torch import nn

from meta import ContinualLearner


def _learner() -> ContinualLearner:
    torch.manual_seed(0)
    return ContinualLearner(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4)), strategy="progressive", setting="task")


def _tasks() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(1)
    xs = torch.randn(2, 24, 4, generator=g)
    return [(x, (x[:, t] > 0).long() + 2 * t) for t, x in enumerate(xs)]


def test_an_evaluation_leaves_the_global_random_stream_as_it_was() -> None:
    learner, tasks = _learner(), _tasks()
    learner.train_task(tasks[0], 0)
    before = torch.get_rng_state()
    learner.evaluate_all_tasks(tasks, include_untrained=True)
    assert torch.equal(torch.get_rng_state(), before)

