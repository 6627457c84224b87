"""A progressive network made from an MLP whose Linear layers have no bias: its first column starts
with zero biases and computes what the MLP does. It failed at the first column, inside the first
training call, with torch's bare "copy_(): argument 'other' must be Tensor, not NoneType"."""

from __future__ import annotations

import torch
from torch import nn

from meta import ContinualLearner
from meta.continual import ProgressiveNetwork


def test_the_first_column_of_a_bias_free_mlp_computes_what_it_does() -> None:
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 8, bias=False), nn.ReLU(), nn.Linear(8, 3))
    net = ProgressiveNetwork.from_mlp(mlp)
    net.add_column(0)
    x = torch.randn(5, 4)
    torch.testing.assert_close(net(x, 0), mlp(x))
    assert not net.columns[0].layers[0].bias.any()


def test_the_progressive_strategy_trains_a_bias_free_mlp() -> None:
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 8, bias=False), nn.Tanh(), nn.Linear(8, 2, bias=False))
    learner = ContinualLearner(mlp, strategy="progressive", setting="task")
    x, y = torch.randn(12, 4), torch.arange(12) % 2
    learner.train_task((x, y), task_id=0)
    learner.train_task((x, 1 - y), task_id=1)
    assert learner.model.num_columns == 2 and learner.predict(x, task_id=1).shape == (12,)
