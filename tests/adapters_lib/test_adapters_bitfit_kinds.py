"""BitFit fits the bias of every module the config's docstring names as having one: an affine
instance norm and an nn.Bilinear too, where they were refused as modules BitFit cannot wrap (and
the default rule passed them by). The increment is added along the channels, batched or not, and
merges into the bias exactly."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel

CASES = {
    "instance norm 1d, batched": (lambda: nn.InstanceNorm1d(4, affine=True), [(2, 4, 6)]),
    "instance norm 1d, unbatched": (lambda: nn.InstanceNorm1d(4, affine=True), [(4, 6)]),
    "instance norm 2d": (lambda: nn.InstanceNorm2d(4, affine=True), [(2, 4, 3, 5)]),
    "bilinear": (lambda: nn.Bilinear(3, 5, 4), [(2, 3), (2, 5)]),
}


@pytest.mark.parametrize("case", CASES)
def test_bitfit_fits_and_merges_the_bias_of_instance_norms_and_bilinear_layers(case: str) -> None:
    make, shapes = CASES[case]
    torch.manual_seed(0)
    layer = make()
    reference, original = copy.deepcopy(layer), layer.bias.detach().clone()
    model = AdapterModel(nn.ModuleDict({"layer": layer}), AdapterConfig(adapter_type="bitfit"))  # the default rule
    (delta,) = model.adapter_parameters()
    with torch.no_grad():
        delta.copy_(torch.randn(delta.shape, generator=torch.Generator().manual_seed(1)))
        reference.bias.add_(delta)
    inputs = [torch.randn(shape, generator=torch.Generator().manual_seed(2)) for shape in shapes]
    expected = reference(*inputs)
    torch.testing.assert_close(model.base_model["layer"](*inputs), expected)
    model.merge_adapters()
    torch.testing.assert_close(model.base_model["layer"](*inputs), expected)
    model.unmerge_adapters()
    assert torch.equal(model.base_model["layer"].base_layer.bias, original)
