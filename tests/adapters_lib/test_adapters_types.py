"""Every adapter type trains with only its own parameters changing; prefix and multi-modal details."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import (
    AdapterConfig,
    AdapterModel,
    AdapterType,
    BottleneckAdapter,
    CompacterAdapter,
    LanguageAdapter,
    LinearAdapter,
    MultiModalAdapter,
    PrefixAdapter,
    SelfAttention,
    TransformerBlock,
    VisionAdapter,
)


class AttnNet(nn.Module):
    """Tokens -> nn.MultiheadAttention -> mean-pool -> linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.mha = nn.MultiheadAttention(16, 2, batch_first=True)
        self.head = nn.Linear(16, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.mha(x, x, x, need_weights=False)[0].mean(dim=1))


class BlockNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.block = TransformerBlock(16, 2, mlp_ratio=2)
        self.head = nn.Linear(16, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.block(x).mean(dim=1))


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 1))


CASES = {
    "linear": (mlp, AdapterConfig(adapter_type="linear", input_dim=16, hidden_dim=4), (32, 16)),
    "adapter_sequential": (mlp, AdapterConfig(adapter_type="adapter", input_dim=16, hidden_dim=4), (32, 16)),
    "adapter_parallel": (mlp, AdapterConfig(adapter_type="adapter", input_dim=16, hidden_dim=4, placement="parallel"), (32, 16)),
    "lora": (mlp, AdapterConfig(adapter_type="lora", input_dim=16, lora_r=4), (32, 16)),
    "lora_block": (BlockNet, AdapterConfig(adapter_type="lora", target_modules=["attn.q", "attn.v", "fc1"], lora_r=4), (32, 5, 16)),
    "prefix_mha": (AttnNet, AdapterConfig(adapter_type="prefix", input_dim=16, num_prefix_tokens=4), (32, 5, 16)),
    "prefix_block": (BlockNet, AdapterConfig(adapter_type="prefix", input_dim=16, num_prefix_tokens=4), (32, 5, 16)),
    "bitfit": (mlp, AdapterConfig(adapter_type="bitfit"), (32, 16)),
    "compacter": (mlp, AdapterConfig(adapter_type="compacter", input_dim=16, hidden_dim=8, phm_dim=4), (32, 16)),
    "multimodal": (mlp, AdapterConfig(adapter_type="multimodal", input_dim=16, hidden_dim=8), (32, 16)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_type_trains_and_only_its_parameters_change(case: str) -> None:
    factory, config, shape = CASES[case]
    torch.manual_seed(0)
    base = factory()
    model = AdapterModel(base, config)
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(*shape, generator=generator)
    y = torch.randn(shape[0], 1, generator=generator)
    names = set(model.adapter_parameter_names())
    assert names and all(model.adapter_parameter_names([config.adapter_type]))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.Adam(model.adapter_parameters(), lr=5e-2)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.9 * losses[0]
    for name, p in model.named_parameters():
        changed = not torch.equal(before[name], p)
        if name in names:
            # Only the active modality (the first, "language") of a multi-modal adapter runs.
            idle = ".adapters.vision." in name
            assert changed != idle, f"adapter parameter {name}: changed={changed}"
        else:
            assert not changed, f"base parameter {name} changed"


def test_prefix_on_mha_extends_masks_and_respects_batch_layout() -> None:
    torch.manual_seed(0)
    for batch_first in (True, False):
        mha = nn.MultiheadAttention(8, 2, batch_first=batch_first)
        cfg = AdapterConfig(adapter_type="prefix", input_dim=8, num_prefix_tokens=3)
        prefix = PrefixAdapter.for_target("mha", mha, cfg, {})
        x = torch.randn(2, 5, 8) if batch_first else torch.randn(5, 2, 8)
        padding = torch.zeros(2, 5, dtype=torch.bool)
        padding[:, -1] = True
        mask = torch.zeros(5, 5, dtype=torch.bool)
        args, kwargs = prefix.transform_call(mha, (x, x, x), {"key_padding_mask": padding, "attn_mask": mask})
        out, weights = mha(*args, **kwargs)
        assert weights.shape == (2, 5, 8)
        assert torch.all(weights[..., -1] == 0)  # the padded key stays masked
        assert torch.all(weights[..., :3].sum(-1) > 0)  # the prefix is attended to
        # By hand: prefixes prepended to the key and value inputs.
        pk = prefix.prefix_key.unsqueeze(0 if batch_first else 1).expand_as(x[:3] if not batch_first else x[:, :3])
        pv = prefix.prefix_value.unsqueeze(0 if batch_first else 1).expand_as(pk)
        dim = 1 if batch_first else 0
        expected, _ = mha(x, torch.cat([pk, x], dim), torch.cat([pv, x], dim), key_padding_mask=torch.cat([torch.zeros(2, 3, dtype=torch.bool), padding], 1))
        torch.testing.assert_close(out, expected)


def test_prefix_protocol_block_keeps_causality_for_real_tokens() -> None:
    torch.manual_seed(0)
    attn = SelfAttention(8, 2, causal=True)
    x = torch.randn(1, 4, 8)
    pk, pv = torch.randn(2, 8), torch.randn(2, 8)
    full = attn(x, prefix_kv=(pk, pv))
    truncated = attn(x[:, :2], prefix_kv=(pk, pv))
    torch.testing.assert_close(full[:, :2], truncated)  # later tokens do not leak backwards


def test_standalone_adapters_start_as_identity() -> None:
    x = torch.randn(3, 4, 16)
    for cls, kind in ((LinearAdapter, "linear"), (BottleneckAdapter, "adapter"), (CompacterAdapter, "compacter")):
        adapter = cls(AdapterConfig(adapter_type=kind, input_dim=16, hidden_dim=8))
        assert torch.equal(adapter(x), x)


def test_multimodal_shares_the_core_and_switches_modality() -> None:
    config = AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=16, hidden_dim=8)
    adapter = MultiModalAdapter(config)
    assert adapter.adapters["language"].core is adapter.adapters["vision"].core is adapter.core
    assert isinstance(adapter.adapters["language"], LanguageAdapter)
    assert isinstance(adapter.adapters["vision"], VisionAdapter)
    with torch.no_grad():
        for p in adapter.parameters():
            p.normal_(0, 0.3)
    x = torch.randn(4, 16)
    assert not torch.allclose(adapter(x, "language"), adapter(x, "vision"))
    adapter.set_modality("vision")
    assert torch.equal(adapter(x), adapter(x, "vision"))
    with pytest.raises(KeyError, match="modality: unknown 'audio'"):
        adapter(x, "audio")
    # Both modality adapters train the shared core.
    loss = adapter(x, "language").sum() + adapter(x, "vision").sum()
    loss.backward()
    assert adapter.core.mix.weight.grad is not None and adapter.core.mix.weight.grad.abs().sum() > 0


def test_vision_adapter_mixes_neighbouring_positions_of_feature_maps() -> None:
    config = AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=8, hidden_dim=4)
    adapter = VisionAdapter(config)
    with torch.no_grad():
        adapter.up.weight.normal_()
        adapter.spatial.weight.normal_()
    x = torch.zeros(1, 5, 5, 8)
    x[0, 2, 2] = 1.0
    out = adapter(x)
    assert out[0, 2, 3].abs().sum() > 0  # a neighbour of the only non-zero position is affected


def test_model_set_modality_reaches_injected_multimodal_adapters() -> None:
    model = AdapterModel(mlp(), AdapterConfig(adapter_type="multimodal", input_dim=16, hidden_dim=8, modalities=("text", "audio")))
    model.set_modality("audio")
    wrapped = [a for _, _, a in model._held()]
    assert wrapped and all(a.active_modality == "audio" for a in wrapped)
    with pytest.raises(KeyError, match="'video'"):
        model.set_modality("video")


def test_bitfit_merges_into_the_bias() -> None:
    torch.manual_seed(0)
    base = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.LazyLinear(2) if False else nn.Linear(4 * 4 * 4, 2))
    model = AdapterModel(base, AdapterConfig(adapter_type="bitfit"))
    model.eval()
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    x = torch.randn(2, 3, 6, 6)
    expected = model(x)
    model.merge_adapters()
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)
    model.unmerge_adapters()
    torch.testing.assert_close(model(x), expected)
