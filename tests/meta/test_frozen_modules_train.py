"""A module frozen in eval mode inside a model in training mode (a BatchNorm kept in eval for
fine-tuning) stays frozen while the model trains: ``model.train()`` in the training loops switched
it back to training, and the update moved its running statistics."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from meta import ContinualLearner, DriftAdapter, FewShotLearner
from meta.backbones import conv4
from meta.protonet_recipe import ProtoNetRecipe, train_protonet

X = torch.randn(12, 4, generator=torch.Generator().manual_seed(0))
Y = torch.arange(12) % 3


def _with_norm(outputs: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, outputs))


def _few_shot(model: nn.Module) -> None:
    FewShotLearner("prototypical", encoder=model).train_episode(X[:6], Y[:6], X[6:], Y[6:])


def _continual(model: nn.Module) -> None:
    ContinualLearner(model, strategy="naive", batch_size=4).train_task((X, Y), 0)


def _drift(model: nn.Module) -> None:
    DriftAdapter(model, steps=2, buffer_size=0).adapt(X, X.sum(dim=1))


TRAININGS: dict[str, tuple[Callable[[nn.Module], None], int]] = {
    "FewShotLearner.train_episode": (_few_shot, 8),
    "ContinualLearner.train_task": (_continual, 3),
    "DriftAdapter.adapt": (_drift, 1),
}


@pytest.mark.parametrize("name", list(TRAININGS))
def test_a_frozen_batchnorm_keeps_its_statistics_through_training(name: str) -> None:
    train, outputs = TRAININGS[name]
    torch.manual_seed(0)
    model = _with_norm(outputs)
    model[1].eval()
    modes = [m.training for m in model.modules()]
    train(model)
    assert torch.equal(model[1].running_mean, torch.zeros(8)) and int(model[1].num_batches_tracked) == 0
    assert [m.training for m in model.modules()] == modes


@pytest.mark.parametrize("name", list(TRAININGS))
def test_a_model_wholly_in_eval_mode_trains_whole_and_is_left_so(name: str) -> None:
    train, outputs = TRAININGS[name]
    torch.manual_seed(0)
    model = _with_norm(outputs).eval()
    train(model)
    assert int(model[1].num_batches_tracked) > 0  # the norm trained: nothing was frozen
    assert not any(m.training for m in model.modules())


def test_train_protonet_keeps_the_encoders_frozen_norms_frozen() -> None:
    torch.manual_seed(0)
    encoder = conv4(4)
    norms = [m for m in encoder.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in norms:
        m.eval()
    x, y = torch.rand(24, 1, 16, 16, generator=torch.Generator().manual_seed(0)), torch.arange(6).repeat_interleave(4)
    recipe = ProtoNetRecipe(n_way=3, n_query=1, episodes=2, rotation_classes=False, precision="float32")
    train_protonet(x, y, recipe, encoder=encoder)
    assert all(int(m.num_batches_tracked) == 0 for m in norms)


def test_train_mode_goes_through_a_modules_own_train() -> None:
    from meta.base import train_mode

    class KeepsNormFrozen(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.BatchNorm1d(2)

        def train(self, mode: bool = True) -> KeepsNormFrozen:
            super().train(mode)
            self.norm.eval()
            return self

    model = nn.Sequential(KeepsNormFrozen(), nn.Dropout()).eval()
    with train_mode(model):
        assert [m.training for m in model.modules()] == [True, True, False, True]
    assert not any(m.training for m in model.modules())
