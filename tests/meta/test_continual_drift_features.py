"""DriftAdapter names features it cannot use, in adapt, mse and predict, and changes nothing."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from meta import DriftAdapter


def _adapter() -> tuple[DriftAdapter, nn.Module]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    return DriftAdapter(model, steps=2, buffer_size=4), model


@pytest.mark.parametrize("features", [torch.randn(6), torch.randn(6, 4)], ids=["1-d", "4 wide"])
def test_features_the_model_cannot_take_are_named_with_their_shape(features: torch.Tensor) -> None:
    adapter, model = _adapter()
    before = copy.deepcopy(model.state_dict())
    shape = str(tuple(features.shape)).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ValueError, match=f"features: the model cannot take features of shape {shape}"):
        adapter.adapt(features, torch.randn(6))
    with pytest.raises(ValueError, match="features: the model cannot take"):
        adapter.mse(features, torch.randn(6))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()) and adapter.batches_seen == 0


def test_predict_refuses_what_is_no_tensor_and_nan_features() -> None:
    adapter, _ = _adapter()
    with pytest.raises(TypeError, match="features: expected a tensor, got list"):
        adapter.predict([[1.0, 2.0, 3.0]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="features: hold NaN or infinite values"):
        adapter.predict(torch.tensor([[1.0, float("nan"), 0.0]]))
    assert adapter.predict(torch.zeros(2, 3)).shape == (2, 1)
