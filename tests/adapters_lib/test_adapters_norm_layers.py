"""Output-side adapters on normalisation layers work on the channel dimension, with its size inferred."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel


def _randomised(base: nn.Module, **config: object) -> AdapterModel:
    model = AdapterModel(base, AdapterConfig(adapter_type="linear", target_modules=["0"], **config))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    return model


def test_an_adapter_on_an_instance_norm_transforms_its_channels() -> None:
    torch.manual_seed(0)
    norm = nn.InstanceNorm2d(4, affine=True)
    model = _randomised(nn.Sequential(norm), input_dim=4)
    adapter = model.base_model[0].adapters["default"]["linear"]
    x = torch.randn(2, 4, 3, 4)  # as wide as it has channels: the wrong axis would fit too
    with torch.no_grad():
        expected = adapter(norm(x).movedim(1, -1)).movedim(-1, 1)
        torch.testing.assert_close(model(x), expected)


@pytest.mark.parametrize(
    ("layer", "shape"),
    [(nn.BatchNorm1d(4), (2, 4, 5)), (nn.BatchNorm2d(4), (2, 4, 3, 3)), (nn.GroupNorm(2, 4), (2, 4, 5)), (nn.InstanceNorm1d(4), (2, 4, 5))],
)
def test_the_channel_count_of_a_norm_layer_is_inferred(layer: nn.Module, shape: tuple[int, ...]) -> None:
    model = _randomised(nn.Sequential(layer))
    assert model.adapter_configs()[0].input_dim is None
    assert model.base_model[0].adapters["default"]["linear"].dim == 4
    model.eval()
    assert model(torch.randn(*shape)).shape == shape
