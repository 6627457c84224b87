"""A refused training step (a NaN loss) leaves BatchNorm's running statistics as they were, as it
leaves the weights: the forward passes of the step must not poison them with NaN."""

from __future__ import annotations


import pytest
import torch
from torch import nn

from meta import FewShotLearner, MAML, MetaSGD, Reptile
from meta.backbones import conv4
from meta.base import NonFiniteLossError
from meta.distributed import DistributedMetaTrainer


def _buffers(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.named_buffers()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_refused_few_shot_episode_keeps_the_running_statistics_and_the_predictions() -> None:
    torch.manual_seed(0)
    sx, sy, qx, qy = torch.rand(6, 1, 28, 28), torch.tensor([0, 0, 1, 1, 2, 2]), torch.rand(3, 1, 28, 28), torch.tensor([0, 1, 2])
    learner = FewShotLearner("prototypical", encoder=conv4(8))
    learner.train_episode(sx, sy, qx, qy)
    before, scores = _buffers(learner.network), learner.predict_scores(sx, sy, qx)
    poisoned = sx.clone()
    poisoned[0, 0, 0, 0] = float("nan")
    with pytest.raises(NonFiniteLossError, match="episode 2"):
        learner.train_episode(poisoned, sy, qx, qy)
    assert _same(before, _buffers(learner.network))
    torch.testing.assert_close(learner.predict_scores(sx, sy, qx), scores, rtol=0, atol=0)


def _bn_model() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 1))


def _tasks(poisoned: bool) -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(0)
    tasks = [tuple(torch.randn(5, d, generator=g) for d in (3, 1, 3, 1)) for _ in range(2)]
    if poisoned:
        tasks[1][0][0, 0] = float("nan")
    return tasks


@pytest.mark.parametrize("cls", [MAML, MetaSGD, Reptile])
def test_a_refused_meta_step_keeps_the_running_statistics(cls) -> None:
    torch.manual_seed(0)
    learner = cls(_bn_model(), vectorize="loop")
    learner.meta_train_step(_tasks(False))
    before = _buffers(learner)
    with pytest.raises(NonFiniteLossError, match="meta-step 2"):
        learner.meta_train_step(_tasks(True))
    assert _same(before, _buffers(learner)) and learner.meta_step_count == 1


def test_a_refused_distributed_step_keeps_the_running_statistics(one_process_group: None) -> None:
    torch.manual_seed(0)
    trainer = DistributedMetaTrainer(MAML(_bn_model(), vectorize="loop"))
    trainer.meta_train_step(_tasks(False))
    before = _buffers(trainer.learner)
    with pytest.raises(NonFiniteLossError):
        trainer.meta_train_step(_tasks(True))
    assert _same(before, _buffers(trainer.learner))
