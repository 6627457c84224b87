"""A user's own BaseAdapter subclass is injected like a built-in type (AdapterConfig.adapter_class):
the same target matching and errors, training, switching off, merging or a clear refusal, saving."""

from __future__ import annotations

import json

import pytest
import torch
from pydantic import ValidationError
from safetensors import safe_open
from torch import nn

from adapters_lib import (
    AdaptedModule,
    AdapterConfig,
    AdapterDimensionError,
    AdapterModel,
    AdapterStateError,
    AdapterTargetError,
    AdapterType,
    BaseAdapter,
)


# --- the design document's "Custom Adapter Architectures" example, verbatim but for its import line
class CustomAdapter(BaseAdapter):
    def __init__(self, config):
        super().__init__(config)
        # Implement custom adapter architecture
        
    def forward(self, x):
        # Custom forward pass logic
        pass
# ---


class Gain(BaseAdapter):
    """A user's sequential adapter with its own parameters: ``h * (1 + g) + b``, the identity at start."""

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__(config)
        self.g = nn.Parameter(torch.zeros(config.input_dim))
        self.b = nn.Parameter(torch.zeros(config.input_dim))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h * (1 + self.g) + self.b


class LowRankDelta(BaseAdapter):
    """A user's mergeable delta adapter on a square Linear: ``out + x D^T U^T``, folded into the weight."""

    role = "delta"
    mergeable = True

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__(config)
        g = torch.Generator().manual_seed(config.seed)
        self.down = nn.Parameter(0.3 * torch.randn(2, config.input_dim, generator=g))
        self.up = nn.Parameter(torch.zeros(config.input_dim, 2))

    def apply_delta(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return out + x @ self.down.t() @ self.up.t()

    def delta_parameters(self, module: nn.Module) -> dict[str, torch.Tensor]:
        return {"weight": (self.up @ self.down).detach()}


def _base(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 8))


def _train(model: AdapterModel, steps: int = 60) -> tuple[float, float]:
    """Adam on the adapter parameters alone, towards a target the adapted model can reach: half the
    base model's output, shifted. Returns the first and the last loss."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(64, 8, generator=g)
    with torch.no_grad():
        model.disable_adapters()
        y = 0.5 * model(x) + 0.2
        model.enable_adapters()
    opt = torch.optim.Adam(model.adapter_parameters(), lr=0.05)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses[0], losses[-1]


def test_the_design_example_is_injected_and_its_stub_forward_is_named_when_called() -> None:
    base = _base()
    model = AdapterModel(
        base, AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=16, adapter_class=CustomAdapter)
    )
    # the default rule wraps both width-16 outputs, with the user's class
    wrapped = [m for m in base.modules() if isinstance(m, AdaptedModule)]
    assert len(wrapped) == 2
    assert all(type(m.adapters["default"]["adapter"]) is CustomAdapter for m in wrapped)
    [row] = model.parameter_report().rows
    assert (row.adapter_type, row.num_modules, row.num_parameters) == (AdapterType.ADAPTER, 2, 0)
    with pytest.raises(TypeError, match="CustomAdapter.forward returned NoneType; a sequential adapter must return"):
        model(torch.randn(3, 8))
    # switched off by its type, as a built-in adapter would be, the model is the base model again
    model.disable_adapters([AdapterType.ADAPTER])
    x = torch.randn(3, 8)
    assert torch.equal(model(x), model.unload()(x))


def test_target_errors_are_the_built_in_ones_and_a_rejected_model_is_left_as_it_was() -> None:
    base = _base()
    before = {n: p.requires_grad for n, p in base.named_parameters()}

    def config(**fields: object) -> AdapterConfig:
        return AdapterConfig(adapter_type=AdapterType.ADAPTER, adapter_class=Gain, **fields)

    with pytest.raises(AdapterTargetError, match=r"no module matched '7' \(adapter_configs\[0\], adapter, Gain\)"):
        AdapterModel(base, config(input_dim=16, target_modules=["2", "7"]))
    with pytest.raises(AdapterDimensionError, match=r"expects 16 output features, the module has 8"):
        AdapterModel(base, config(input_dim=16, target_modules=["2", "re:[4]"]))
    with pytest.raises(AdapterTargetError, match=r"\(adapter, Gain\) gives none, and the default rule \(nn.Linear with out_features == input_dim=32\)"):
        AdapterModel(base, config(input_dim=32))
    assert not any(isinstance(m, AdaptedModule) for m in base.modules())
    assert {n: p.requires_grad for n, p in base.named_parameters()} == before
    # with input_dim left out it is taken from each named target, as for built-in types
    model = AdapterModel(base, config(target_modules=["2", "4"]))
    assert [tuple(p.shape) for p in model.adapter_parameters()] == [(16,), (16,), (8,), (8,)]


def test_a_user_adapter_with_parameters_trains_only_itself_and_is_not_merged() -> None:
    base = _base()
    frozen = [p.detach().clone() for p in base.parameters()]
    model = AdapterModel(base, AdapterConfig(adapter_type=AdapterType.LINEAR, input_dim=16, adapter_class=Gain))
    assert model.adapter_parameter_names() == [
        "base_model.0.adapters.default.linear.g",
        "base_model.0.adapters.default.linear.b",
        "base_model.2.adapters.default.linear.g",
        "base_model.2.adapters.default.linear.b",
    ]
    first, last = _train(model)
    assert last < 0.5 * first
    base_parameters = [p for n, p in model.named_parameters() if not model.is_adapter_parameter(n)]
    assert all(torch.equal(p, q) for p, q in zip(base_parameters, frozen, strict=True))
    # a sequential adapter is not mergeable: merging folds nothing in, and the adapter keeps running
    x = torch.randn(5, 8)
    expected = model(x)
    model.merge_adapters()
    assert torch.equal(model(x), expected)
    assert not any(m.merged for m in model.base_model.modules() if isinstance(m, AdaptedModule))
    model.unmerge_adapters()


def test_a_mergeable_user_adapter_merges_and_unmerges_exactly() -> None:
    torch.manual_seed(0)
    base = nn.Sequential(nn.Linear(8, 8), nn.Tanh(), nn.Linear(8, 8))
    original = base[0].weight.detach().clone()
    model = AdapterModel(base, AdapterConfig(adapter_type=AdapterType.LORA, input_dim=8, adapter_class=LowRankDelta))
    first, last = _train(model)
    assert last < 0.5 * first
    x = torch.randn(5, 8)
    unmerged = model(x)
    model.merge_adapters()
    assert not torch.equal(base[0].base_layer.weight, original)  # the delta is in the base weight now
    torch.testing.assert_close(model(x), unmerged)  # and gives what the adapters gave
    with pytest.raises(AdapterStateError, match="unmerge_adapters"):
        model.disable_adapters()
    model.unmerge_adapters()
    assert torch.equal(base[0].base_layer.weight, original)  # bit for bit
    torch.testing.assert_close(model(x), unmerged)
    # PEFT's format holds LoRA weights only: a user's class typed LORA is refused, not dropped
    with pytest.raises(AdapterStateError, match=r"\['LowRankDelta \(lora\)'\] adapters, which PEFT's LoRA format"):
        model.export_peft("unused")


class NoForward(BaseAdapter):
    pass


class MergeableSequential(Gain):
    mergeable = True


class MergeableWithoutDelta(BaseAdapter):
    role = "delta"
    mergeable = True

    def apply_delta(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return out


class UnknownRole(Gain):
    role = "parallel"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (nn.Linear, "expected a subclass of BaseAdapter, got <class 'torch.nn.modules.linear.Linear'>"),
        ("my.Adapter", "expected a subclass of BaseAdapter, got 'my.Adapter'"),
        (NoForward, "NoForward is a sequential adapter but does not implement forward"),
        (UnknownRole, "UnknownRole.role must be one of ['sequential', 'delta', 'call', 'weight'], got 'parallel'"),
        (MergeableSequential, "MergeableSequential.mergeable is True, but only a delta or weight adapter can be merged"),
        (MergeableWithoutDelta, "MergeableWithoutDelta.mergeable is True but MergeableWithoutDelta does not implement delta_parameters"),
    ],
)
def test_a_class_that_cannot_run_is_refused_by_the_config(value: object, message: str) -> None:
    with pytest.raises(ValidationError) as raised:
        AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=8, adapter_class=value)
    assert "adapter_class" in str(raised.value) and message in str(raised.value)


def test_saved_sets_name_the_class_and_load_only_into_a_set_built_with_it(tmp_path) -> None:
    config = AdapterConfig(adapter_type=AdapterType.LINEAR, input_dim=16, adapter_class=Gain)
    model = AdapterModel(_base(), config)
    _train(model, steps=5)
    path = model.save_adapters(tmp_path / "gain.safetensors")
    with safe_open(str(path), framework="pt") as handle:
        [saved] = json.loads(handle.metadata()["configs"])
    assert saved["adapter_class"] == f"{__name__}.Gain"

    fresh = _base(seed=3)
    target = AdapterModel(fresh, AdapterConfig(adapter_type=AdapterType.LORA, input_dim=8), adapter_name="other")
    with pytest.raises(AdapterStateError, match=rf"path: set 'default' in .* uses the adapter class {__name__}.Gain"):
        target.load_adapters(path)
    assert target.adapter_names == ["other"]  # nothing was added
    target.add_adapter("default", config)
    assert target.load_adapters(path) == "default"
    for key, value in model.adapter_state_dict().items():
        assert torch.equal(target.adapter_state_dict()[key], value)


def test_files_of_built_in_types_keep_their_format(tmp_path) -> None:
    model = AdapterModel(_base(), AdapterConfig(adapter_type=AdapterType.LORA, input_dim=8))
    path = model.save_adapters(tmp_path / "lora.safetensors")
    with safe_open(str(path), framework="pt") as handle:
        [saved] = json.loads(handle.metadata()["configs"])
    assert "adapter_class" not in saved
    assert AdapterModel(_base(), AdapterConfig(adapter_type=AdapterType.LORA, input_dim=8), adapter_name="x").load_adapters(path) == "default"
