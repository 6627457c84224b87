"""Checkpoints of learners whose networks size some layers on first use (``nn.LazyLinear``), such as
the default relation module of ``RelationNetwork``."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.parameter import is_lazy

from meta import FewShotLearner


def _relation(seed: int) -> FewShotLearner:
    torch.manual_seed(seed)
    return FewShotLearner("relation", encoder=nn.Linear(4, 8))


def _episode(step: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(step)
    return torch.randn(6, 4, generator=g), torch.tensor([0, 0, 1, 1, 2, 2]), torch.randn(3, 4, generator=g), torch.tensor([0, 1, 2])


def test_a_trained_relation_learner_loads_into_a_fresh_one_and_resumes_bit_for_bit(tmp_path) -> None:
    path = str(tmp_path / "relation.safetensors")
    straight = _relation(0)
    for step in range(2):
        straight.train_episode(*_episode(step))
    straight.save(path)
    resumed = _relation(1)  # its relation module is not sized yet
    resumed.load(path)
    assert resumed.episodes_trained == 2
    for step in range(2, 4):
        assert straight.train_episode(*_episode(step)) == resumed.train_episode(*_episode(step))
    for k, v in straight.state_dict().items():
        assert torch.equal(v, resumed.state_dict()[k]), k


def test_a_relation_learner_saved_before_its_first_episode_loads_unsized(tmp_path) -> None:
    path = str(tmp_path / "fresh.safetensors")
    _relation(0).save(path)
    fresh = _relation(1)
    fresh.load(path)
    assert is_lazy(fresh.network.relation[0].weight) and fresh.optimizer is None
    fresh.train_episode(*_episode(0))  # sized and trained as usual
    trained = _relation(2)
    trained.train_episode(*_episode(0))
    # a sized layer the file has no value for is missing, not left as it was
    with pytest.raises(KeyError, match=r"missing \[.*'network\.relation\.0\.weight'"):
        trained.load(path)
