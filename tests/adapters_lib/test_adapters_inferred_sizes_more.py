"""An output-side adapter takes its size from the module it follows for recurrent layers (the
output sequence's features: hidden or projected size, times two when bidirectional), nn.Bilinear
and nn.RMSNorm too, as for a Linear; injecting one there without input_dim failed with 'has no
known output size'."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel

CASES = {
    "lstm, bidirectional, projected": (lambda: nn.LSTM(5, 8, proj_size=3, bidirectional=True, batch_first=True), [(2, 4, 5)], 6),
    "gru": (lambda: nn.GRU(5, 7), [(4, 2, 5)], 7),
    "rnn, bidirectional": (lambda: nn.RNN(5, 4, bidirectional=True), [(4, 5)], 8),
    "bilinear": (lambda: nn.Bilinear(3, 5, 6), [(2, 3), (2, 5)], 6),
    "rms norm": (lambda: nn.RMSNorm(6), [(2, 4, 6)], 6),
}


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("case", CASES)
def test_an_output_side_adapter_takes_its_size_from_the_module(case: str) -> None:
    make, shapes, size = CASES[case]
    torch.manual_seed(0)
    layer = make()
    inputs = [torch.randn(shape) for shape in shapes]
    plain = layer(*inputs)
    model = AdapterModel(nn.ModuleDict({"layer": layer}), AdapterConfig(adapter_type="adapter", hidden_dim=2, target_modules=["layer"]))
    adapter = model.base_model["layer"].adapters["default"]["adapter"]
    assert adapter.down.in_features == size
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    out = model.base_model["layer"](*inputs)
    first, adapted = (plain[0], out[0]) if isinstance(plain, tuple) else (plain, out)
    assert adapted.shape == first.shape and not torch.allclose(adapted, first)
    if isinstance(plain, tuple):  # a recurrent layer's final states pass through as they were
        torch.testing.assert_close(out[1:], plain[1:])
