"""Exceptions of adapters_lib. Each subclasses the builtin a caller would expect to catch."""

from __future__ import annotations

__all__ = [
    "AdapterError",
    "AdapterTargetError",
    "AdapterDimensionError",
    "AdapterStateError",
    "AdapterKeyError",
]


class AdapterError(Exception):
    """Base class of every error adapters_lib raises on purpose."""


class AdapterTargetError(AdapterError, ValueError):
    """A target pattern matched no module, or matched a module the adapter cannot wrap."""


class AdapterDimensionError(AdapterError, ValueError):
    """A module's feature size does not match the adapter's configured dimension."""


class AdapterStateError(AdapterError, ValueError):
    """A call that the model's current state forbids (for example changing adapters while merged)."""


class AdapterKeyError(AdapterError, KeyError):
    """An unknown adapter set name or a missing tensor key."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])
