"""A layer's hooks, forward and backward, run when it carries one LoRA, as with any other
adapters: the fused path, which computes with the layer's weights instead of calling it, skipped
them, so a hook that records a layer's activations or gradients saw nothing on the layers LoRA
adapts most often (a plain Linear with one LoRA and no dropout). The fused path now runs only
where no hook would be skipped."""

from __future__ import annotations

import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel


def test_the_hooks_of_a_layer_with_one_lora_run_on_every_call() -> None:
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 4))
    reference = nn.Linear(8, 8)
    reference.load_state_dict(base[0].state_dict())
    calls: list[str] = []
    outputs: list[torch.Tensor] = []
    base[0].register_forward_pre_hook(lambda module, args: calls.append("pre"))
    base[0].register_forward_hook(lambda module, args, out: outputs.append(out.detach()))
    model = AdapterModel(base, AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2))
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    x = torch.randn(5, 8)
    model(x)
    assert calls == ["pre"] and len(outputs) == 1
    torch.testing.assert_close(outputs[0], reference(x))  # the layer's own output, before its adapters


def test_a_global_forward_hook_sees_the_layer_too() -> None:
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2))
    layer = model.base_model[0].base_layer
    seen: list[nn.Module] = []
    handle = torch.nn.modules.module.register_module_forward_hook(lambda module, args, out: seen.append(module))
    try:
        model(torch.randn(2, 8))
    finally:
        handle.remove()
    assert any(module is layer for module in seen)


def test_a_full_backward_hook_of_a_layer_with_one_lora_sees_its_gradients() -> None:
    model = AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2))
    grads: list[torch.Tensor] = []
    model.base_model[0].base_layer.register_full_backward_hook(lambda module, grad_in, grad_out: grads.append(grad_out[0]))
    x = torch.randn(3, 8, requires_grad=True)
    model(x).sum().backward()
    assert len(grads) == 1 and torch.equal(grads[0], torch.ones(3, 8))
