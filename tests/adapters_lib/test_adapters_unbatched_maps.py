"""Output-side adapters give an unbatched feature map (C, H, W) the result they give it in a batch of
one: on an instance norm they took the wrong axis for the channels, and a VisionAdapter on a conv
skipped its spatial mixing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel


def _randomised(base: nn.Module, config: AdapterConfig) -> AdapterModel:
    model = AdapterModel(base, config)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.3)
    return model.eval()


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        (nn.InstanceNorm1d(4, affine=True), (4, 4)),  # square: the wrong axis fitted and was used
        (nn.InstanceNorm1d(4, affine=True), (4, 10)),
        (nn.InstanceNorm2d(4, affine=True), (4, 5, 6)),
        (nn.Conv1d(3, 4, 3), (3, 7)),
    ],
)
def test_an_unbatched_map_is_adapted_as_in_a_batch_of_one(layer: nn.Module, shape: tuple[int, ...]) -> None:
    torch.manual_seed(0)
    model = _randomised(nn.Sequential(layer), AdapterConfig(adapter_type="linear", target_modules="0", hidden_dim=2))
    x = torch.randn(*shape)
    torch.testing.assert_close(model(x), model(x[None])[0])


def test_a_vision_adapter_mixes_positions_of_an_unbatched_conv_output() -> None:
    torch.manual_seed(0)
    model = _randomised(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1)),
                        AdapterConfig(adapter_type="multimodal", target_modules="0", hidden_dim=4))
    model.set_modality("vision")
    x = torch.randn(3, 6, 6)
    torch.testing.assert_close(model(x), model(x[None])[0])
