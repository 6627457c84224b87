"""The seed document's adapter snippets run with only their import line changed."""

from __future__ import annotations

import torch
from torch import nn

SECTION_7 = '''
from adapters_lib import AdapterModel, AdapterConfig, AdapterType

# Create adapter configurations
adapter_configs = [
    AdapterConfig(
        adapter_type=AdapterType.LINEAR,
        input_dim=512,
        hidden_dim=128
    ),
    AdapterConfig(
        adapter_type=AdapterType.LORA,
        input_dim=512,
        lora_r=8,
        lora_alpha=16
    )
]

# Create adapter model
adapter_model = AdapterModel(base_model, adapter_configs)

# Training with adapters
for batch in dataloader:
    output = adapter_model(batch)
    loss = compute_loss(output, target)
    loss.backward()
    optimizer.step()

# Control adapter usage
adapter_model.enable_adapters([AdapterType.LORA])
adapter_model.disable_adapters([AdapterType.LINEAR])
'''

MULTI_MODAL = '''
from adapters_lib import MultiModalAdapter, LanguageAdapter, VisionAdapter

# Create multi-modal model
multimodal_config = AdapterConfig(
    adapter_type=AdapterType.ADAPTER,
    input_dim=768,
    hidden_dim=384
)

multimodal_adapter = MultiModalAdapter(multimodal_config)

# Language-specific adaptation
language_adapter = LanguageAdapter(multimodal_config)

# Vision-specific adaptation  
vision_adapter = VisionAdapter(multimodal_config)
'''

CUSTOM = '''
from adapters_lib import BaseAdapter, AdapterConfig

class CustomAdapter(BaseAdapter):
    def __init__(self, config):
        super().__init__(config)
        # Implement custom adapter architecture
        
    def forward(self, x):
        # Custom forward pass logic
        pass
'''


class _LazyOptimizer:
    """Steps an Adam over the adapter parameters, created once the snippet has built the model."""

    def __init__(self, scope: dict) -> None:
        self.scope, self.optimizer = scope, None

    def step(self) -> None:
        if self.optimizer is None:
            self.optimizer = torch.optim.Adam(self.scope["adapter_model"].adapter_parameters(), lr=1e-3)
        self.optimizer.step()
        self.optimizer.zero_grad()


def test_section_7_runs_on_a_width_512_mlp() -> None:
    torch.manual_seed(0)
    base_model = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512))
    target = torch.randn(8, 512)
    scope: dict = {
        "base_model": base_model,
        "dataloader": [torch.randn(8, 512) for _ in range(3)],
        "compute_loss": nn.functional.mse_loss,
        "target": target,
    }
    scope["optimizer"] = _LazyOptimizer(scope)
    exec(SECTION_7, scope)
    model = scope["adapter_model"]
    assert model.enabled_types and torch.isfinite(scope["loss"])
    assert set(model.enabled_types) == set(scope["AdapterType"]) - {scope["AdapterType"].LINEAR}
    # The default rules wrapped every width-512 Linear with both types, and the updates landed.
    kinds = {(r.adapter_type.value, r.num_modules) for r in model.parameter_report().rows}
    assert kinds == {("linear", 3), ("lora", 3)}
    assert any(p.abs().sum() > 0 for n, p in model.named_parameters() if n.endswith("lora_B"))


def test_multi_modal_snippet_runs() -> None:
    from adapters_lib import AdapterConfig, AdapterType

    scope: dict = {"AdapterConfig": AdapterConfig, "AdapterType": AdapterType}
    exec(MULTI_MODAL, scope)
    x = torch.randn(2, 768)
    for name in ("multimodal_adapter", "language_adapter", "vision_adapter"):
        assert scope[name](x).shape == (2, 768)


def test_custom_adapter_snippet_runs() -> None:
    scope: dict = {}
    exec(CUSTOM, scope)
    from adapters_lib import AdapterConfig, AdapterType

    adapter = scope["CustomAdapter"](AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=8))
    assert adapter.config.input_dim == 8 and adapter.adapter_type is AdapterType.ADAPTER
