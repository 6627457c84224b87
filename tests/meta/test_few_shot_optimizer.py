"""FewShotLearner's optimizer factory: one that cannot train the network is named, and the
episode that finds it out changes nothing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import FewShotLearner

SX, SY = torch.randn(6, 4), torch.tensor([0, 0, 1, 1, 2, 2])
QX, QY = torch.randn(3, 4), torch.tensor([0, 1, 2])


def _learner(optimizer: object) -> FewShotLearner:
    torch.manual_seed(0)
    return FewShotLearner("prototypical", nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8)), optimizer=optimizer)


def test_an_optimizer_that_is_not_a_factory_is_named_at_once() -> None:
    with pytest.raises(TypeError, match="optimizer must be a factory params -> torch.optim.Optimizer, got 'sgd'"):
        _learner("sgd")


@pytest.mark.parametrize(
    "factory, error, message",
    [
        (lambda params: 3, TypeError, "optimizer must return a torch.optim.Optimizer, got int"),
        # another module's parameters: every episode counted as trained, and nothing moved
        (lambda params: torch.optim.SGD(nn.Linear(1, 1).parameters(), lr=0.1), ValueError, "leaves 4 of the 4 parameters to train out"),
    ],
)
def test_a_factory_that_cannot_train_the_network_is_named_and_changes_nothing(factory, error, message) -> None:  # type: ignore[no-untyped-def]
    learner = _learner(factory)
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    with pytest.raises(error, match=message):
        learner.train_episode(SX, SY, QX, QY)
    assert learner.episodes_trained == 0 and learner.optimizer is None
    # BatchNorm's running statistics included
    assert all(torch.equal(before[k], v) for k, v in learner.state_dict().items())


def test_a_factory_over_the_given_parameters_trains() -> None:
    learner = _learner(lambda params: torch.optim.SGD(params, lr=0.1))
    before = learner.network.encoder[0].weight.detach().clone()
    learner.train_episode(SX, SY, QX, QY)
    assert isinstance(learner.optimizer, torch.optim.SGD) and not torch.equal(before, learner.network.encoder[0].weight)
