"""Meta-learning hook: meta/'s MAML adapts only the LoRA weights of a frozen model."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.func import functional_call

from adapters_lib import AdapterConfig, AdapterModel, AdapterType
from meta import MAML


def task(seed: int) -> tuple[torch.Tensor, ...]:
    """A linear regression task on 8 features; the base model has not seen it."""
    generator = torch.Generator().manual_seed(seed)
    w = torch.randn(8, 1, generator=generator)
    xs = torch.randn(20, 8, generator=generator)
    ys = xs @ w
    return xs[:10], ys[:10], xs[10:], ys[10:]


def lora_model() -> AdapterModel:
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
    return AdapterModel(base, AdapterConfig(adapter_type=AdapterType.LORA, input_dim=8, lora_r=2, lora_alpha=4))


@pytest.mark.parametrize("selector", ["names", "predicate"])
def test_maml_adapts_only_lora_weights(selector: str) -> None:
    model = lora_model()
    lora_names = model.adapter_parameter_names([AdapterType.LORA])
    adapt = lora_names if selector == "names" else model.is_adapter_parameter
    base_before = {n: p.detach().clone() for n, p in model.named_parameters() if n not in lora_names}
    lora_before = {n: p.detach().clone() for n, p in model.named_parameters() if n in lora_names}

    maml = MAML(model, lr_inner=0.1, lr_meta=0.01, num_inner_steps=2, adapt_parameters=adapt, vectorize="loop")
    assert set(maml.adapt_names) == set(lora_names)
    parameters_before = list(model.parameters())
    for step in range(3):
        maml.meta_train_step([task(10 * step + i) for i in range(4)])

    # The meta-optimiser stepped the model's own parameters, which are still leaves.
    assert all(a is b and a.is_leaf for a, b in zip(model.parameters(), parameters_before))
    named = dict(model.named_parameters())
    for name, value in base_before.items():
        assert torch.equal(named[name], value), f"frozen base weight {name} changed"
    assert any(not torch.equal(named[n], v) for n, v in lora_before.items()), "meta-training left LoRA unchanged"

    sx, sy, qx, qy = task(99)
    weights = maml.adapt_to_task(sx, sy, num_steps=5)
    for name in base_before:
        assert torch.equal(weights[name], named[name])
    assert all(not torch.equal(weights[n], named[n]) for n in lora_names if n.endswith("lora_B"))
    before = nn.functional.mse_loss(functional_call(model, dict(named), (sx,)), sy)
    after = nn.functional.mse_loss(functional_call(model, weights, (sx,)), sy)
    assert after < before


def test_maml_vmap_path_runs_through_adapted_modules() -> None:
    model = lora_model()
    maml = MAML(model, lr_inner=0.1, num_inner_steps=1, adapt_parameters=model.is_adapter_parameter, vectorize="vmap")
    metrics = maml.meta_train_step([task(i) for i in range(3)])
    assert metrics["path"] == "vmap" and torch.isfinite(torch.tensor(metrics["meta_loss"]))


class _Attend(nn.Module):
    """Self-attention and a linear head, as torch's transformer layers call it (no weights out)."""

    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.head = nn.Linear(8, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.attn(x, x, x, need_weights=False)[0].mean(1))


@pytest.mark.parametrize("vectorize", ["loop", "vmap"])
def test_second_order_maml_differentiates_twice_through_lora_on_an_attention(vectorize: str) -> None:
    # torch's fused attention kernels have a backward that cannot be differentiated again; the
    # second-order meta-gradient failed with "derivative for ..._flash_attention_for_cpu_backward"
    torch.manual_seed(0)
    model = AdapterModel(_Attend(), AdapterConfig(adapter_type=AdapterType.LORA, target_modules=["attn"], lora_r=2))
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_(std=0.3)
    g = torch.Generator().manual_seed(1)
    tasks = [tuple(torch.randn(*shape, generator=g) for shape in ((4, 3, 8), (4, 1)) * 2) for _ in range(2)]
    grads = {}
    for first_order in (False, True):
        maml = MAML(model, lr_inner=0.5, adapt_parameters=model.is_adapter_parameter, first_order=first_order, vectorize=vectorize)
        maml.compute_meta_gradients(tasks)
        grads[first_order] = torch.cat([p.grad.flatten() for p in model.adapter_parameters()])
        maml.zero_meta_grad()
    assert torch.isfinite(grads[False]).all()
    assert not torch.allclose(grads[False], grads[True], atol=1e-6)  # the second-order terms are there
