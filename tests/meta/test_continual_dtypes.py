"""The continual learners run models of any floating dtype, not only float32: inputs and whatever
they build for the model (a progressive network's new columns) take the model's dtype."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import ContinualLearner
from meta.continual import DriftAdapter, ProgressiveNetwork


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_drift_adapter_fits_a_model_of_another_dtype(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Linear(16, 1)).to(dtype)
    adapter = DriftAdapter(model, steps=20, seed=0)
    x = torch.randn(32, 3)  # float32 features and utilities, as a stream delivers them
    for _ in range(2):
        report = adapter.adapt(x, x.sum(dim=1))
    assert report["mse_after"] < report["mse_before"]
    assert adapter.predict(x).dtype == dtype and adapter.replay.x.dtype == dtype  # type: ignore[union-attr]


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_progressive_columns_take_the_model_dtype(dtype: torch.dtype) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4)).to(dtype)
    learner = ContinualLearner(model, strategy="progressive", setting="task", seed=0)
    tasks = [(torch.randn(12, 3, dtype=dtype), torch.randint(2 * t, 2 * t + 2, (12,))) for t in range(2)]
    for task_id, data in enumerate(tasks):
        learner.train_task(data, task_id, num_epochs=1)
    assert {p.dtype for p in learner.model.parameters()} == {dtype} and learner.model.num_columns == 2
    assert learner.predict(tasks[1][0], task_id=1).shape == (12,)


def test_a_progressive_network_built_bare_trains_and_predicts() -> None:
    # no parameters before its first column: its dtype is torch's default until then
    learner = ContinualLearner(ProgressiveNetwork(4, [8], 2), strategy="progressive", setting="task", seed=0)
    x, y = torch.randn(10, 4), torch.randint(0, 2, (10,))
    assert learner.train_task((x, y), 0)["samples"] == 10
    assert learner.predict(x, task_id=0).shape == (10,)
