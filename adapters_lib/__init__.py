"""adapters_lib: parameter-efficient adapters for any ``nn.Module``.

LoRA, bottleneck (sequential and parallel), linear, prefix tuning, BitFit, Compacter and
multi-modal adapters, injected into any model by module-name patterns with
:class:`AdapterModel`; LoRA and BitFit merge into the base weights; adapter weights save alone
with safetensors, and LoRA moves to and from PEFT's on-disk format.

Where it differs from PEFT on purpose: a ``target_modules`` pattern that matches nothing is an
error naming every such pattern (PEFT passes it silently when another pattern matches); so is a
target the adapter cannot wrap (for example ``out_proj`` inside ``nn.MultiheadAttention``, which
never calls it: LoRA targets the attention module itself and adapts both its projections);
adapters inside torch's ``nn.TransformerEncoderLayer`` and ``nn.TransformerEncoder`` run in eval
mode too (their fast paths, which read the weights directly, are turned off while a layer's
adapters run, so eval computes what training without dropout computes, and are back once none
runs: switched off, out of the active sets, or merged); merging keeps an
exact backup, so unmerging restores the base weights bit for bit; PEFT exports name their
targets with an anchored regex, so that PEFT wraps exactly the modules we did; the adapter
parameters are easy to hand to a meta-learner (:meth:`AdapterModel.adapter_parameter_names`,
:meth:`AdapterModel.is_adapter_parameter`).

Example:
    >>> import torch
    >>> from torch import nn
    >>> from adapters_lib import AdapterConfig, AdapterModel, AdapterType
    >>> base = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))
    >>> model = AdapterModel(base, [
    ...     AdapterConfig(adapter_type=AdapterType.LINEAR, input_dim=512, hidden_dim=128),
    ...     AdapterConfig(adapter_type=AdapterType.LORA, input_dim=512, lora_r=8, lora_alpha=16),
    ... ])
    >>> model(torch.randn(4, 512)).shape
    torch.Size([4, 10])
"""

from __future__ import annotations

from adapters_lib.blocks import SelfAttention, TransformerBlock
from adapters_lib.config import AdapterConfig, AdapterType
from adapters_lib.errors import (
    AdapterDimensionError,
    AdapterError,
    AdapterKeyError,
    AdapterStateError,
    AdapterTargetError,
)
from adapters_lib.layers import (
    AdaptedModule,
    BaseAdapter,
    BitFitAdapter,
    BottleneckAdapter,
    CompacterAdapter,
    CrossModalCore,
    LanguageAdapter,
    LinearAdapter,
    LoRAAdapter,
    ModalityAdapter,
    MultiModalAdapter,
    PHMLinear,
    PHMRules,
    PrefixAdapter,
    VisionAdapter,
    adapter_class,
)
from adapters_lib.model import AdapterModel, ParameterReport, ParameterReportRow, match_pattern
from adapters_lib.peft_format import export_peft, import_peft

__all__ = [
    "AdaptedModule",
    "AdapterConfig",
    "AdapterDimensionError",
    "AdapterError",
    "AdapterKeyError",
    "AdapterModel",
    "AdapterStateError",
    "AdapterTargetError",
    "AdapterType",
    "BaseAdapter",
    "BitFitAdapter",
    "BottleneckAdapter",
    "CompacterAdapter",
    "CrossModalCore",
    "LanguageAdapter",
    "LinearAdapter",
    "LoRAAdapter",
    "ModalityAdapter",
    "MultiModalAdapter",
    "PHMLinear",
    "PHMRules",
    "ParameterReport",
    "ParameterReportRow",
    "PrefixAdapter",
    "SelfAttention",
    "TransformerBlock",
    "VisionAdapter",
    "adapter_class",
    "export_peft",
    "import_peft",
    "match_pattern",
]
