"""Models and timed calls for the adapters suite: one entry per adapter method, ours and PEFT's."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterType, TransformerBlock


@dataclass
class Variant:
    """One way of running the base model: its inference call, its training step, its size."""

    name: str
    infer: Callable[[], Any]
    train: Callable[[], Any] | None
    trainable_parameters: int


def mlp(widths: list[int], seed: int = 0) -> nn.Sequential:
    """Linear layers of the given widths with ReLU between them."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(a, b))
    return nn.Sequential(*layers)


class BlockModel(nn.Module):
    """One pre-norm transformer block (its attention follows the prefix protocol)."""

    def __init__(self, dim: int, heads: int, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.block = TransformerBlock(dim, heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


def _randomise(params: list[nn.Parameter], seed: int) -> None:
    # Non-zero adapter weights, so that nothing is skipped because it happens to be zero.
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in params:
            p.copy_(torch.randn(p.shape, generator=generator) * 0.01)


def _calls(model: nn.Module, x: torch.Tensor, train: bool) -> tuple[Callable[[], Any], Callable[[], Any] | None, int]:
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=1e-6) if params and train else None

    def infer() -> Any:
        with torch.no_grad():
            return model(x)

    def step() -> None:
        assert optimizer is not None
        optimizer.zero_grad(set_to_none=True)
        model(x).pow(2).mean().backward()
        optimizer.step()

    return infer, (step if optimizer is not None else None), sum(p.numel() for p in params)


def build_variants(
    base: nn.Module,
    x: torch.Tensor,
    ours: dict[str, list[AdapterConfig]],
    lora_targets: list[str],
    lora_r: int,
    lora_alpha: float,
    with_peft: bool,
) -> tuple[list[Variant], int]:
    """The base (full fine-tuning for training), every config set of ``ours``, LoRA merged, PEFT LoRA.

    Returns the variants in the order to interleave them and the base model's parameter count.
    """
    base_params = sum(p.numel() for p in base.parameters())
    variants: list[Variant] = []
    reference = copy.deepcopy(base).eval()
    infer, step, n = _calls(reference, x, train=True)
    variants.append(Variant("base (full fine-tuning)", infer, step, n))

    def ours_model(configs: list[AdapterConfig], seed: int) -> AdapterModel:
        model = AdapterModel(copy.deepcopy(base), configs).eval()
        _randomise(model.adapter_parameters(), seed)
        return model

    lora = [AdapterConfig(adapter_type=AdapterType.LORA, target_modules=lora_targets, lora_r=lora_r, lora_alpha=lora_alpha)]
    model = ours_model(lora, 1)
    infer, step, n = _calls(model, x, train=True)
    variants.append(Variant("lora", infer, step, n))
    if with_peft:
        import peft

        theirs = peft.get_peft_model(
            copy.deepcopy(base), peft.LoraConfig(r=lora_r, lora_alpha=lora_alpha, target_modules=lora_targets)
        ).eval()
        _randomise([p for p in theirs.parameters() if p.requires_grad], 1)
        infer, step, n = _calls(theirs, x, train=True)
        variants.append(Variant("peft lora", infer, step, n))
    merged = ours_model(lora, 1)
    merged.merge_adapters()
    infer, _, n = _calls(merged, x, train=False)
    variants.append(Variant("lora merged", infer, None, n))
    if with_peft:
        theirs_merged = peft.get_peft_model(
            copy.deepcopy(base), peft.LoraConfig(r=lora_r, lora_alpha=lora_alpha, target_modules=lora_targets)
        ).eval()
        _randomise([p for p in theirs_merged.parameters() if p.requires_grad], 1)
        theirs_merged.base_model.merge_adapter()
        infer, _, n = _calls(theirs_merged, x, train=False)
        variants.append(Variant("peft lora merged", infer, None, n))
    for i, (name, configs) in enumerate(ours.items()):
        model = ours_model(configs, 10 + i)
        infer, step, n = _calls(model, x, train=True)
        variants.append(Variant(name, infer, step, n))
    return variants, base_params


def mlp_setup(
    widths: list[int], batch: int, lora_r: int, with_peft: bool, lora_only: bool = False
) -> tuple[list[Variant], int]:
    """The targets' MLP (512-2048-512-512 at full size) with every MLP-applicable adapter."""
    base = mlp(widths)
    x = torch.randn(batch, widths[0], generator=torch.Generator().manual_seed(0))
    linear_names = [str(i) for i, m in enumerate(base) if isinstance(m, nn.Linear)]
    dim = widths[-1]
    hidden = max(4, dim // 8)
    ours = {
        "linear": [AdapterConfig(adapter_type=AdapterType.LINEAR, input_dim=dim, hidden_dim=lora_r)],
        "adapter (sequential)": [AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=dim, hidden_dim=hidden)],
        "adapter (parallel)": [
            AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=widths[0], hidden_dim=hidden, placement="parallel")
        ],
        "bitfit": [AdapterConfig(adapter_type=AdapterType.BITFIT)],
        "compacter": [AdapterConfig(adapter_type=AdapterType.COMPACTER, input_dim=dim, hidden_dim=hidden, phm_dim=4)],
        "multimodal": [AdapterConfig(adapter_type=AdapterType.MULTIMODAL, input_dim=dim, hidden_dim=hidden)],
    }
    return build_variants(base, x, {} if lora_only else ours, linear_names, lora_r, 2 * lora_r, with_peft)


def block_setup(
    dim: int, heads: int, batch: int, seq: int, lora_r: int, with_peft: bool, lora_only: bool = False
) -> tuple[list[Variant], int]:
    """One transformer block with every attention-applicable adapter (prefix included)."""
    base = BlockModel(dim, heads)
    x = torch.randn(batch, seq, dim, generator=torch.Generator().manual_seed(0))
    hidden = max(4, dim // 8)
    outputs = ["attn.o", "fc2"]  # Houlsby placement: after attention and after the MLP
    ours = {
        "linear": [AdapterConfig(adapter_type=AdapterType.LINEAR, input_dim=dim, hidden_dim=lora_r, target_modules=outputs)],
        "adapter (sequential)": [AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=dim, hidden_dim=hidden, target_modules=outputs)],
        "prefix (10 tokens)": [AdapterConfig(adapter_type=AdapterType.PREFIX, input_dim=dim, num_prefix_tokens=10)],
        "bitfit": [AdapterConfig(adapter_type=AdapterType.BITFIT)],
        "compacter": [
            AdapterConfig(adapter_type=AdapterType.COMPACTER, input_dim=dim, hidden_dim=hidden, phm_dim=4, target_modules=outputs)
        ],
    }
    targets = ["attn.q", "attn.k", "attn.v", "attn.o", "fc1", "fc2"]
    return build_variants(base, x, {} if lora_only else ours, targets, lora_r, 2 * lora_r, with_peft)
