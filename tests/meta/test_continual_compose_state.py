"""A composed strategy's state is its parts' states: ``make_strategy("ewc+replay").state_dict()``
held nothing, so a loop of one's own that saved it lost the Fisher and the replay memory."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from meta import ContinualLearner


def _learner() -> ContinualLearner:
    torch.manual_seed(0)
    return ContinualLearner(nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 4)), strategy="ewc+replay",
                            buffer_size=6)


def _task(t: int) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(20, 6, generator=torch.Generator().manual_seed(t))
    return x, (x[:, t] > 0).long() + 2 * t


def test_a_composed_strategy_round_trips_its_parts_state() -> None:
    trained = _learner()
    trained.train_task(_task(0), 0)
    state = trained.strategy.state_dict()
    assert [sorted(part) for part in state["strategies"]] == [
        ["anchor", "fisher", "generator"], ["generator", "priority", "seen", "task_ids", "x", "y"]]
    resumed = _learner()
    resumed.strategy.load_state_dict(state, resumed)
    ewc, replay = resumed.strategy.strategies  # type: ignore[attr-defined]
    assert sorted(ewc.fisher_) == [0] and len(replay) == 6 and replay.seen == 20


def test_a_part_that_refuses_its_state_leaves_every_part_as_it_was() -> None:
    trained, other = _learner(), _learner()
    trained.train_task(_task(0), 0)
    other.train_task(_task(1), 1)
    state = copy.deepcopy(trained.strategy.state_dict())
    state["strategies"][1]["seen"] = 2  # fewer offered than the memory holds
    ewc, replay = other.strategy.strategies  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="replay: seen"):
        other.strategy.load_state_dict(state, other)
    assert sorted(ewc.fisher_) == [1] and replay.seen == 20 and set(replay.task_ids.tolist()) == {1}
    with pytest.raises(ValueError, match="expected the states of 2 strategies, got 1"):
        other.strategy.load_state_dict({"strategies": state["strategies"][:1]}, other)
