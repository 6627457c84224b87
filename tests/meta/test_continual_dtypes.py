"""The continual learners run models of any floating dtype, not only float32: inputs and whatever
they build for the model (a progressive network's new columns) take the model's dtype."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta.continual import DriftAdapter


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
