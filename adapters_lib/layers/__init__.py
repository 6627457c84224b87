"""One module per adapter type, all on :class:`BaseAdapter`, and the registry from type to class.

Adding a type touches one new module here (with ``ADAPTER_TYPE`` and ``ADAPTER_CLASS``) and one
line in ``_MODULES``.
"""

from __future__ import annotations

import importlib

from adapters_lib.config import AdapterType
from adapters_lib.layers.base import AdaptedModule, BaseAdapter
from adapters_lib.layers.bitfit import BitFitAdapter
from adapters_lib.layers.bottleneck import BottleneckAdapter
from adapters_lib.layers.compacter import CompacterAdapter, PHMLinear, PHMRules
from adapters_lib.layers.linear import LinearAdapter
from adapters_lib.layers.lora import LoRAAdapter
from adapters_lib.layers.multimodal import (
    CrossModalCore,
    LanguageAdapter,
    ModalityAdapter,
    MultiModalAdapter,
    VisionAdapter,
)
from adapters_lib.layers.prefix import PrefixAdapter

__all__ = [
    "AdaptedModule",
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
    "PrefixAdapter",
    "VisionAdapter",
    "adapter_class",
]

_MODULES = ("linear", "bottleneck", "lora", "prefix", "bitfit", "compacter", "multimodal")


def _build_registry() -> dict[AdapterType, type[BaseAdapter]]:
    registry: dict[AdapterType, type[BaseAdapter]] = {}
    for name in _MODULES:
        module = importlib.import_module(f"adapters_lib.layers.{name}")
        registry[module.ADAPTER_TYPE] = module.ADAPTER_CLASS
    return registry


_REGISTRY = _build_registry()


def adapter_class(adapter_type: AdapterType | str) -> type[BaseAdapter]:
    """The class that implements ``adapter_type``; an unknown type raises ValueError naming it."""
    try:
        key = AdapterType(adapter_type)
    except ValueError:
        raise ValueError(
            f"adapter_type: unknown {adapter_type!r}; choose from {[t.value for t in AdapterType]}"
        ) from None
    return _REGISTRY[key]
