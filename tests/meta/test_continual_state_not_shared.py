"""A strategy loaded from a state takes a copy of it: two strategies (or drift adapters) loaded from
one state never write into each other's memory, Fisher or anchors."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
import torch
from torch import nn

from meta import EWC, ContinualLearner, DriftAdapter, ExperienceReplay, Strategy


def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4))


def _tasks() -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(0)
    return [(x, (x[:, t] > 0).long() + 2 * t) for t, x in enumerate(torch.randn(2, 20, 6, generator=g))]


def _same(a: object, b: object) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


@pytest.mark.parametrize("make", [lambda: ExperienceReplay(8, "loss_prioritized"), lambda: ExperienceReplay(8), EWC],
                         ids=["replay_prioritized", "replay", "ewc"])
def test_training_a_strategy_loaded_from_another_leaves_the_other_as_it_was(make: Callable[[], Strategy]) -> None:
    tasks = _tasks()
    source = ContinualLearner(_mlp(), strategy=make())
    source.train_task(tasks[0], 0)
    kept = copy.deepcopy(source.strategy.state_dict())
    copied = ContinualLearner(_mlp(), strategy=make())
    copied.strategy.load_state_dict(source.strategy.state_dict(), copied)
    copied.train_task(tasks[1], 1)
    assert _same(source.strategy.state_dict(), kept)


def test_two_drift_adapters_loaded_from_one_state_keep_their_own_memory() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 3, generator=g)

    def adapter() -> DriftAdapter:
        torch.manual_seed(0)
        return DriftAdapter(nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)), steps=3, buffer_size=6)

    trained = adapter()
    trained.adapt(x, x.sum(dim=1))
    state = trained.state_dict()
    first, second = adapter(), adapter()
    first.load_state_dict(state)
    second.load_state_dict(state)
    kept = copy.deepcopy(state)
    for _ in range(3):  # the reservoir is full: new rows replace stored ones in place
        first.adapt(torch.randn(16, 3, generator=g), torch.randn(16, generator=g))
    assert _same(second.state_dict(), kept) and _same(state, kept)
