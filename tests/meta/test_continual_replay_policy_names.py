"""A replay strategy's name says its policy, as make_strategy names it, so that a learner saved with
one replay policy is refused by a learner built with another: every policy was named "replay", and a
class-balanced memory loaded into a reservoir learner (or the other way round) without a word.
Files saved when every replay was "replay" still load."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from meta import ContinualLearner, make_strategy
from meta.checkpoint import load_state, save_state


def _learner(strategy: str) -> ContinualLearner:
    torch.manual_seed(0)
    return ContinualLearner(nn.Sequential(nn.Linear(4, 3)), strategy=strategy, buffer_size=8)


def _trained(strategy: str, path: Path) -> Path:
    learner = _learner(strategy)
    learner.train_task((torch.randn(12, 4), torch.arange(12) % 3), task_id=0)
    learner.save(str(path))
    return path


@pytest.mark.parametrize("name", ["replay", "replay_balanced", "replay_prioritized", "ewc+replay_balanced"])
def test_a_replay_strategy_is_named_as_make_strategy_takes_it(name: str) -> None:
    assert make_strategy(name, buffer_size=8).name == name


def test_a_learner_saved_with_another_replay_policy_is_refused_naming_the_strategy(tmp_path: Path) -> None:
    path = _trained("replay_balanced", tmp_path / "balanced.safetensors")
    learner = _learner("replay")
    with pytest.raises(ValueError, match=r"strategy: 'replay_balanced' in the file, 'replay' in this learner"):
        learner.load(str(path))
    assert learner.trained_tasks == [] and len(learner.strategy) == 0


def test_a_file_saved_when_every_replay_was_named_replay_still_loads(tmp_path: Path) -> None:
    path = _trained("ewc+replay_prioritized", tmp_path / "old.safetensors")
    state = load_state(path, "ContinualLearner")
    save_state(path, "ContinualLearner", {**state, "strategy": "ewc+replay"})  # what such a file holds
    learner = _learner("ewc+replay_prioritized")
    learner.load(str(path))
    assert learner.trained_tasks == [0] and len(learner.strategy.strategies[1]) == 8
