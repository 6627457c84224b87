"""ContinualLearner, DriftAdapter, train_protonet and DARTS take their data as data: tensors computed by
another network (still in its autograd graph) train them over several batches and calls, and leave
that network's gradients untouched."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta.continual import ContinualLearner
from meta.continual.drift import DriftAdapter


@pytest.mark.parametrize("strategy", ["naive", "replay"])
def test_continual_learner_trains_on_data_computed_by_another_network(strategy: str) -> None:
    torch.manual_seed(0)
    encoder = nn.Linear(4, 4)
    x, y = encoder(torch.randn(20, 4)), torch.randint(0, 2, (20,))
    learner = ContinualLearner(nn.Linear(4, 2), strategy=strategy)
    learner.train_task((x, y), 0, num_epochs=2)  # failed at the second batch: backward through a freed graph
    learner.train_task((x, y), 1)
    assert encoder.weight.grad is None
    assert strategy == "naive" or not learner.strategy.x.requires_grad  # the memory holds no graph


def test_drift_adapter_adapts_twice_on_features_computed_by_another_network() -> None:
    torch.manual_seed(0)
    encoder = nn.Linear(4, 4)
    features, utility = encoder(torch.randn(8, 4)), torch.rand(8, 3)
    adapter = DriftAdapter(nn.Linear(4, 3), steps=3)
    first = adapter.adapt(features, utility)
    second = adapter.adapt(features, utility)
    assert second["batches_seen"] == 2 and second["mse_before"] == first["mse_after"]
    assert encoder.weight.grad is None


def test_train_protonet_trains_on_images_computed_by_another_network() -> None:
    from meta.protonet_recipe import ProtoNetRecipe, train_protonet

    torch.manual_seed(0)
    encoder = nn.Conv2d(1, 1, 1)
    images, labels = encoder(torch.rand(40, 1, 8, 8)), torch.arange(40) % 10
    recipe = ProtoNetRecipe(n_way=5, n_query=2, episodes=2, rotation_classes=False, augment=False)
    result = train_protonet(images, labels, recipe, encoder=nn.Sequential(nn.Flatten(), nn.Linear(64, 8)))
    assert result.episodes == 2 and encoder.weight.grad is None


def test_darts_searches_on_images_computed_by_another_network() -> None:
    from meta.nas import create_nb201_search_space, make_space
    from meta.nas.darts import DARTSConfig, run_darts

    torch.manual_seed(0)
    encoder = nn.Conv2d(1, 1, 1)
    x, y = encoder(torch.randn(8, 1, 4, 4)), torch.randint(0, 10, (8,))
    space = make_space(create_nb201_search_space((1, 4, 4), num_classes=10, channels=2))
    result = run_darts(space, (x, y, x, y), DARTSConfig(epochs=2, batch_size=4))
    assert len(result.val_accuracy_history) == 2 and encoder.weight.grad is None
