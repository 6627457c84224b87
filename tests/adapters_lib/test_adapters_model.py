"""AdapterModel: target patterns and their errors, adapter sets, reports, saving and loading."""

from __future__ import annotations

import re

import pytest
import torch
from torch import nn

from adapters_lib import (
    AdaptedModule,
    AdapterConfig,
    AdapterDimensionError,
    AdapterKeyError,
    AdapterModel,
    AdapterStateError,
    AdapterTargetError,
    AdapterType,
    TransformerBlock,
    match_pattern,
)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.ModuleDict({"q": nn.Linear(8, 8), "qk": nn.Linear(8, 8)})
        self.head = nn.Linear(8, 4)
        self.emb = nn.Embedding(10, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.encoder["qk"](self.encoder["q"](x))))


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_pattern_kinds() -> None:
    assert match_pattern("q", "encoder.q")
    assert not match_pattern("q", "encoder.qk")
    assert match_pattern("encoder.q", "encoder.q")
    assert match_pattern(r"re:encoder\.q.*", "encoder.qk")
    assert not match_pattern(r"re:q", "encoder.q")  # regexes match the whole name


def test_every_unmatched_pattern_is_named_and_nothing_changes() -> None:
    net = Net()
    before_modules = [type(m) for m in net.modules()]
    before_grad = [p.requires_grad for p in net.parameters()]
    with pytest.raises(AdapterTargetError) as info:
        AdapterModel(net, [
            AdapterConfig(adapter_type="lora", target_modules=["q", "qv_typo"], lora_r=2),
            AdapterConfig(adapter_type="bitfit", target_modules=["hed"]),
        ])
    message = str(info.value)
    assert "'qv_typo'" in message and "'hed'" in message and "target_modules" in message
    assert [type(m) for m in net.modules()] == before_modules
    assert [p.requires_grad for p in net.parameters()] == before_grad


def test_wrong_module_kind_names_module_and_field() -> None:
    with pytest.raises(AdapterTargetError, match=r"target_modules.*'emb'.*Embedding"):
        AdapterModel(Net(), AdapterConfig(adapter_type="prefix", target_modules=["emb"]))


def test_mismatched_dimension_names_module_and_field() -> None:
    with pytest.raises(AdapterDimensionError, match=r"input_dim.*'head'.*expects 6.*has 8"):
        AdapterModel(Net(), AdapterConfig(adapter_type="lora", input_dim=6, target_modules=["head"], lora_r=2))
    with pytest.raises(AdapterDimensionError, match=r"input_dim.*'encoder.q'"):
        AdapterModel(Net(), AdapterConfig(adapter_type="adapter", input_dim=4, target_modules=["encoder.q"]))


def test_default_rule_matching_nothing_is_an_error() -> None:
    with pytest.raises(AdapterTargetError, match=r"in_features == input_dim=123"):
        AdapterModel(Net(), AdapterConfig(adapter_type="lora", input_dim=123))


def test_multihead_attention_out_proj_is_refused_not_silently_ignored() -> None:
    base = nn.Sequential(nn.MultiheadAttention(8, 2))
    with pytest.raises(AdapterTargetError, match="MultiheadAttention"):
        AdapterModel(base, AdapterConfig(adapter_type="lora", target_modules=["out_proj"], lora_r=2))


def test_base_is_frozen_and_adapter_selection_helpers() -> None:
    model = AdapterModel(Net(), [
        AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2),
        AdapterConfig(adapter_type="bitfit", target_modules=["head"]),
    ])
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == set(model.adapter_parameter_names())
    lora = model.adapter_parameter_names([AdapterType.LORA])
    assert lora == ["base_model.encoder.q.adapters.default.lora.lora_A", "base_model.encoder.q.adapters.default.lora.lora_B"]
    assert model.is_adapter_parameter(lora[0])
    assert not model.is_adapter_parameter("base_model.head.base_layer.weight")
    assert len(model.adapter_parameters("bitfit")) == 1
    with pytest.raises(ValueError, match="adapter_types.*'loraa'"):
        model.adapter_parameter_names(["loraa"])


def test_named_sets_activate_and_delete() -> None:
    net = Net()
    reference = Net()
    model = AdapterModel(net, AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2), adapter_name="a")
    model.add_adapter("b", AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=3, seed=1))
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    x = torch.randn(4, 8)
    layer = net.encoder["q"]  # LoRA terms of two sets add up at the layer they share
    both = layer(x)
    model.set_active_adapters(["a"])
    only_a = layer(x)
    model.set_active_adapters("b")
    only_b = layer(x)
    base = reference.encoder["q"](x)
    torch.testing.assert_close(both - base, (only_a - base) + (only_b - base), rtol=1e-4, atol=1e-4)
    model.set_active_adapters(["a", "b"])
    with pytest.raises(AdapterKeyError, match="adapter_name.*'c'"):
        model.set_active_adapters(["c"])
    with pytest.raises(ValueError, match="adapter_name.*exists"):
        model.add_adapter("a", AdapterConfig(adapter_type="bitfit"))
    model.delete_adapter("a")
    model.delete_adapter("b")
    assert not any(isinstance(m, AdaptedModule) for m in net.modules())
    assert torch.equal(model(x), reference(x))


def test_two_configs_of_one_type_on_one_module_are_refused() -> None:
    with pytest.raises(AdapterTargetError, match="both target module 'encoder.q'"):
        AdapterModel(Net(), [
            AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2),
            AdapterConfig(adapter_type="lora", target_modules=["encoder.q"], lora_r=4),
        ])


def test_parameter_report_counts_each_adapter() -> None:
    model = AdapterModel(Net(), [
        AdapterConfig(adapter_type="lora", target_modules=["q", "qk"], lora_r=2),
        AdapterConfig(adapter_type="bitfit", target_modules=["head"]),
    ])
    report = model.parameter_report()
    rows = {(r.adapter_name, r.adapter_type): r for r in report.rows}
    assert rows[("default", AdapterType.LORA)].num_parameters == 2 * (2 * 8 + 8 * 2)
    assert rows[("default", AdapterType.LORA)].num_modules == 2
    assert rows[("default", AdapterType.BITFIT)].num_parameters == 4
    assert report.base_parameters == sum(p.numel() for p in Net().parameters())
    assert report.trainable_parameters == report.adapter_parameters == 68
    assert "lora" in str(report)


def test_compacter_shares_slow_weights_across_layers() -> None:
    block = TransformerBlock(16, 2)
    model = AdapterModel(block, AdapterConfig(adapter_type="compacter", input_dim=16, hidden_dim=8, phm_dim=4))
    wrapped = [m for m in block.modules() if isinstance(m, AdaptedModule)]
    rules = {id(w.adapters["default"]["compacter"].rules.rules) for w in wrapped}
    assert len(wrapped) >= 2 and len(rules) == 1
    names = model.adapter_parameter_names()
    assert len(names) == len({id(p) for p in model.adapter_parameters()})


def test_save_and_load_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    configs = [
        AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2),
        AdapterConfig(adapter_type="compacter", target_modules=["qk"], input_dim=8, hidden_dim=4, phm_dim=2),
    ]
    model = AdapterModel(Net(), configs)
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    x = torch.randn(3, 8)
    expected = model(x)
    path = model.save_adapters(tmp_path / "a.safetensors")
    fresh = AdapterModel(Net(), AdapterConfig(adapter_type="bitfit", target_modules=["head"]), adapter_name="other")
    name = fresh.load_adapters(path)
    assert name == "default"
    fresh.set_active_adapters(["default"])
    torch.testing.assert_close(fresh(x), expected)
    # Loading into an existing set of the same shape works too, under another name.
    again = AdapterModel(Net(), configs, adapter_name="task")
    again.load_adapters(path, adapter_name="task")
    torch.testing.assert_close(again(x), expected)


def test_weights_that_no_load_would_take_back_are_not_written(tmp_path) -> None:  # type: ignore[no-untyped-def]
    model = AdapterModel(Net(), AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2))
    with torch.no_grad():
        model.adapter_parameters()[0][0, 0] = float("nan")
    with pytest.raises(ValueError, match=r"save_adapters: set 'default': \['encoder.q.lora.lora_A'\] hold NaN or infinite values"):
        model.save_adapters(tmp_path / "a.safetensors")
    with pytest.raises(ValueError, match=r"export_peft: set 'default': \[.*lora_A.weight'\] hold NaN or infinite values"):
        model.export_peft(tmp_path / "peft")
    assert list(tmp_path.iterdir()) == []


def test_bad_state_is_rejected_before_any_copy() -> None:
    model = AdapterModel(Net(), AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2))
    state = model.adapter_state_dict()
    before = {k: v.clone() for k, v in state.items()}
    bad = dict(state)
    bad["encoder.q.lora.lora_A"] = torch.full_like(state["encoder.q.lora.lora_A"], float("nan"))
    bad["encoder.q.lora.lora_B"] = torch.ones_like(state["encoder.q.lora.lora_B"])
    with pytest.raises(ValueError, match=re.escape("state['encoder.q.lora.lora_A']")):
        model.load_adapter_state_dict(bad)
    with pytest.raises(AdapterKeyError, match="missing keys"):
        model.load_adapter_state_dict({"encoder.q.lora.lora_A": state["encoder.q.lora.lora_A"]})
    with pytest.raises(AdapterDimensionError, match="shape"):
        model.load_adapter_state_dict({**state, "encoder.q.lora.lora_A": torch.zeros(3, 8)})
    with pytest.raises(TypeError, match=re.escape("state['encoder.q.lora.lora_A']: dtype torch.int64")):
        model.load_adapter_state_dict({k: v.long() for k, v in bad.items() if k.endswith("A")} | {"encoder.q.lora.lora_B": before["encoder.q.lora.lora_B"]})
    after = model.adapter_state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize("damage", ["truncated", "not safetensors", "metadata lost", "configs not JSON"])
def test_a_damaged_adapter_file_is_named_and_changes_nothing(tmp_path, damage: str) -> None:  # type: ignore[no-untyped-def]
    from safetensors.torch import save_file

    model = AdapterModel(Net(), AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2))
    path = model.save_adapters(tmp_path / "a.safetensors")
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:-8])
    elif damage == "not safetensors":
        path.write_text("lora weights")
    else:
        metadata = {"format": "adapters_lib", "adapter_name": "other"}
        if damage == "configs not JSON":
            metadata["configs"] = "[{"
        save_file(model.adapter_state_dict(), str(path), metadata=metadata)
    before = snapshot(model)
    expected = {
        "truncated": "is not a readable safetensors file",
        "not safetensors": "is not a readable safetensors file",
        "metadata lost": "lacks the metadata ['configs']",
        "configs not JSON": "metadata 'configs': not valid JSON",
    }[damage]
    with pytest.raises(ValueError, match=re.escape(f"path: {str(path)!r}") + ".*" + re.escape(expected)):
        model.load_adapters(path)
    assert model.adapter_names == ["default"]
    after = snapshot(model)
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_unload_returns_the_plain_base_model() -> None:
    net = Net()
    model = AdapterModel(net, AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2))
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    x = torch.randn(2, 8)
    expected = model(x)
    plain = model.unload(merge=True)
    assert isinstance(plain.encoder["q"], nn.Linear)
    assert all(p.requires_grad for p in plain.parameters())
    torch.testing.assert_close(plain(x), expected, rtol=1e-5, atol=1e-5)


def test_unload_without_merge_after_merging_returns_the_original_weights() -> None:
    net = Net()
    original = {k: v.clone() for k, v in net.state_dict().items()}
    model = AdapterModel(net, AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2))
    with torch.no_grad():
        for p in model.adapter_parameters():
            p.normal_()
    model.merge_adapters()  # for inference
    plain = model.unload()
    assert isinstance(plain.encoder["q"], nn.Linear)
    after = plain.state_dict()
    assert all(torch.equal(original[k], after[k]) for k in original)


def test_an_unloaded_model_refuses_to_be_used_and_leaves_the_returned_base_alone() -> None:
    model = AdapterModel(Net(), AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2))
    plain = model.unload()
    calls = {
        "forward": lambda: model(torch.randn(2, 8)),
        "add_adapter": lambda: model.add_adapter("again", AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2)),
        "merge_adapters": model.merge_adapters,
        "unload": model.unload,
    }
    for operation, call in calls.items():
        with pytest.raises(AdapterStateError, match=f"{operation}: this AdapterModel was unloaded"):
            call()
    assert isinstance(plain.encoder["q"], nn.Linear) and all(p.requires_grad for p in plain.parameters())


def test_events_are_quiet_by_default_and_logged_when_enabled(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    AdapterModel(Net(), AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2))
    out = capsys.readouterr()
    assert "adapters_added" not in out.out + out.err
    with caplog.at_level(logging.INFO, logger="adapters_lib"):
        AdapterModel(Net(), AdapterConfig(adapter_type="lora", target_modules=["q"], lora_r=2))
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("adapters_lib")]
    assert any("adapters_added" in m and "modules=1" in m for m in messages)
