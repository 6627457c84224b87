"""LoRA under torch.autocast: mixed-precision training runs the wrapped Linear like the plain one."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel


def test_lora_linear_runs_and_trains_under_autocast() -> None:
    torch.manual_seed(0)
    layer = nn.Linear(16, 8)
    model = AdapterModel(nn.Sequential(layer), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=4, lora_alpha=8))
    adapter = model.base_model[0].adapters["default"]["lora"]
    with torch.no_grad():
        adapter.lora_B.normal_()
    # 2 rows take the low-rank path of the fused function, 200 rows its folded weight: both ran
    # their matmuls on bfloat16 activations and float32 weights and failed.
    for rows in (2, 200):
        x = torch.randn(rows, 16)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(x)
            expected = layer(x) + 2.0 * F.linear(F.linear(x, adapter.lora_A), adapter.lora_B)
        assert out.dtype == torch.bfloat16
        torch.testing.assert_close(out.float(), expected.float(), rtol=2e-2, atol=5e-2)
        out.float().pow(2).sum().backward()
        assert adapter.lora_A.grad is not None and adapter.lora_B.grad is not None
        assert adapter.lora_B.grad.dtype == torch.float32  # the parameters stay float32
        assert layer.weight.grad is None  # the frozen base gets no gradient
        model.zero_grad()


def test_lora_linear_still_runs_on_the_meta_device() -> None:
    """Shape inference on "meta" tensors, a device autocast has no state for."""
    model = AdapterModel(nn.Sequential(nn.Linear(16, 8)), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=4)).to("meta")
    assert model(torch.empty(3, 16, device="meta")).shape == (3, 8)
