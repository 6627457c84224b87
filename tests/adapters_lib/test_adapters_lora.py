"""LoRA: the formula by hand, merging, disabling, Conv2d, shapes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from adapters_lib import AdapterConfig, AdapterModel, AdapterType, LoRAAdapter


def mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 16))


def randomise_lora(model: AdapterModel, seed: int = 1) -> None:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.copy_(torch.randn(p.shape, generator=generator) * 0.3)


def test_lora_equals_hand_computed_formula() -> None:
    layer = nn.Linear(16, 8)
    model = AdapterModel(nn.Sequential(layer), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=4, lora_alpha=12))
    randomise_lora(model)
    adapter = model.base_model[0].adapters["default"]["lora"]
    x = torch.randn(5, 16)
    expected = x @ layer.weight.T + layer.bias + (12 / 4) * (x @ adapter.lora_A.T @ adapter.lora_B.T)
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)
    # Batched (3-D) inputs take the reshaped path and give the same rows.
    torch.testing.assert_close(model(x.view(1, 5, 16))[0], expected, rtol=1e-5, atol=1e-5)


def test_rslora_scaling() -> None:
    cfg = AdapterConfig(adapter_type="lora", input_dim=16, lora_r=4, lora_alpha=8, use_rslora=True)
    assert cfg.lora_scaling == pytest.approx(8 / 2)
    assert LoRAAdapter(cfg).scaling == pytest.approx(4.0)


def test_default_targets_are_linears_with_matching_in_features() -> None:
    model = AdapterModel(mlp(), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=2))
    wrapped = {name for name in model.adapter_parameter_names()}
    assert {n.split(".")[1] for n in wrapped} == {"0", "4"}


def test_merge_then_unmerge_restores_base_weights_and_merged_output_matches() -> None:
    base = mlp()
    originals = {k: v.clone() for k, v in base.state_dict().items()}
    model = AdapterModel(base, AdapterConfig(adapter_type="lora", input_dim=16, lora_r=4))
    randomise_lora(model)
    x = torch.randn(7, 16)
    unmerged = model(x)
    model.merge_adapters()
    assert model.merged
    torch.testing.assert_close(model(x), unmerged, rtol=1e-5, atol=1e-5)
    # While merged the wrapper calls the base layer alone.
    assert not model.base_model[0]._active
    assert not torch.equal(base[0].base_layer.weight, originals["0.weight"])
    model.unmerge_adapters()
    for key in ("0.weight", "4.weight"):
        idx = key.split(".")[0]
        restored = getattr(base, idx).base_layer.weight
        assert (restored - originals[key]).abs().max() <= 1e-6
    torch.testing.assert_close(model(x), unmerged)


def test_changes_are_refused_while_merged() -> None:
    model = AdapterModel(mlp(), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=2))
    model.merge_adapters()
    with pytest.raises(ValueError, match="unmerge"):
        model.disable_adapters()
    with pytest.raises(ValueError, match="unmerge"):
        model.merge_adapters()
    model.unmerge_adapters()
    with pytest.raises(ValueError, match="nothing is merged"):
        model.unmerge_adapters()


def test_disabled_adapters_give_exactly_the_base_output() -> None:
    base = mlp()
    reference = mlp()  # same seed: identical weights
    model = AdapterModel(base, [
        AdapterConfig(adapter_type="lora", input_dim=16, lora_r=2),
        AdapterConfig(adapter_type="linear", input_dim=16, hidden_dim=4),
    ])
    randomise_lora(model)
    x = torch.randn(9, 16)
    assert not torch.equal(model(x), reference(x))
    model.disable_adapters()
    assert torch.equal(model(x), reference(x))
    model.enable_adapters([AdapterType.LINEAR])
    assert not torch.equal(model(x), reference(x))
    model.disable_adapters(["linear"])
    assert torch.equal(model(x), reference(x))


def test_lora_conv2d_matches_dense_update_and_merges() -> None:
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 6, 3, stride=2, padding=1)
    reference = nn.Conv2d(3, 6, 3, stride=2, padding=1)
    reference.load_state_dict(conv.state_dict())
    model = AdapterModel(nn.Sequential(conv), AdapterConfig(adapter_type="lora", target_modules=["0"], lora_r=2, lora_alpha=4))
    randomise_lora(model)
    adapter = model.base_model[0].adapters["default"]["lora"]
    x = torch.randn(2, 3, 9, 9)
    dense = reference.weight + adapter.delta_weight().detach()
    expected = torch.nn.functional.conv2d(x, dense, reference.bias, stride=2, padding=1)
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)
    model.merge_adapters()
    torch.testing.assert_close(model(x), expected, rtol=1e-5, atol=1e-5)
    model.unmerge_adapters()
    assert (model.base_model[0].base_layer.weight - reference.weight).abs().max() <= 1e-6


def test_lora_b_starts_at_zero_so_the_model_starts_at_the_base() -> None:
    reference = mlp()
    model = AdapterModel(mlp(), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=2))
    x = torch.randn(3, 16)
    assert torch.equal(model(x), reference(x))


def test_initialisation_is_deterministic_and_seeded() -> None:
    a = AdapterModel(mlp(), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=2, seed=3))
    b = AdapterModel(mlp(), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=2, seed=3))
    c = AdapterModel(mlp(), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=2, seed=4))
    sa, sb, sc = a.adapter_state_dict(), b.adapter_state_dict(), c.adapter_state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["0.lora.lora_A"], sc["0.lora.lora_A"])
    assert not torch.equal(sa["0.lora.lora_A"][:, :16], sa["4.lora.lora_A"])  # layers differ


def test_fused_function_gradients_and_double_backward() -> None:
    from adapters_lib.layers.lora import _LoRALinear

    generator = torch.Generator().manual_seed(0)

    def t(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator, dtype=torch.float64, requires_grad=True)

    # 5 rows on a 3x4 layer run on the folded weight, 1 row takes the low-rank path.
    for rows in (5, 1):
        inputs = (t(rows, 4), t(3, 4), t(3), t(2, 4), t(3, 2), 1.5)

        def layer(*args: object) -> torch.Tensor:
            return _LoRALinear.apply(*args)[0]

        assert torch.autograd.gradcheck(layer, inputs)
        assert torch.autograd.gradgradcheck(layer, inputs)


def test_fused_and_composable_paths_agree() -> None:
    """The fused function (plain autograd) and the composable path (under torch.func) match."""
    from torch.func import functional_call, grad

    model = AdapterModel(mlp(), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=4))
    randomise_lora(model)
    x = torch.randn(2, 3, 16, requires_grad=True)
    out = model(x)
    assert out.shape == (2, 3, 16)
    single = AdapterModel(nn.Sequential(nn.Linear(16, 8)), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=2))
    assert type(single(torch.randn(2, 16)).grad_fn).__name__ == "_LoRALinearBackward"  # the fused path ran
    params = dict(model.named_parameters())
    names = model.adapter_parameter_names()

    def loss_of(adapted: dict[str, torch.Tensor], inp: torch.Tensor) -> torch.Tensor:
        return functional_call(model, {**params, **adapted}, (inp,)).pow(2).sum()

    adapted = {n: params[n].detach() for n in names}
    composable = grad(loss_of, argnums=(0, 1))(adapted, x.detach())
    loss = model(x).pow(2).sum()
    fused = torch.autograd.grad(loss, [params[n] for n in names] + [x])
    for name, value in zip(names, fused):
        torch.testing.assert_close(value, composable[0][name], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(fused[-1], composable[1], rtol=1e-4, atol=1e-4)


def test_wrappers_register_each_adapter_once() -> None:
    model = AdapterModel(mlp(), AdapterConfig(adapter_type="lora", input_dim=16, lora_r=4))
    all_paths = [n for n, _ in model.named_modules(remove_duplicate=False)]
    assert len(all_paths) == len({id(m) for m in model.modules()})
