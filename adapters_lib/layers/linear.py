"""The linear adapter: a residual linear map on a module's output, ``h + U D h``, zero at start."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from adapters_lib.config import AdapterConfig, AdapterType
from adapters_lib.layers.base import BaseAdapter, SeededByTargetName, make_generator, raise_for_input_dim

__all__ = ["LinearAdapter"]


class LinearAdapter(SeededByTargetName, BaseAdapter):
    """``h + U D h`` with rank ``hidden_dim`` (or ``h + W h`` at full rank when ``hidden_dim`` is None).

    No non-linearity: the adapter is a learned linear correction of the features, the cheapest
    output-side adapter. ``U`` (or ``W``) starts at zero, so the adapter starts as the identity.

    Arguments:
        config: ``input_dim`` (the feature size), ``hidden_dim`` (the rank), ``dropout``, ``seed``.
        name: the target's name, mixed into the initialisation seed.

    Example:
        >>> import torch
        >>> cfg = AdapterConfig(adapter_type=AdapterType.LINEAR, input_dim=8, hidden_dim=2)
        >>> x = torch.randn(3, 8)
        >>> bool(torch.equal(LinearAdapter(cfg)(x), x))
        True
    """

    role = "sequential"
    computed_fields = ()

    def __init__(self, config: AdapterConfig, name: str = "") -> None:
        super().__init__(config)
        dim = config.require_input_dim("LinearAdapter")
        self.dim, self.rank = dim, config.hidden_dim
        if self.rank is None:
            self.down = None
            self.up = nn.Parameter(torch.zeros(dim, dim))
        else:
            self.down = nn.Parameter(torch.empty(self.rank, dim))
            bound = 1.0 / math.sqrt(dim)
            with torch.no_grad():
                self.down.uniform_(-bound, bound, generator=make_generator(config.seed, name))
            self.up = nn.Parameter(torch.zeros(dim, self.rank))
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else None

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """``h + U D h`` over the last dimension."""
        z = self.dropout(h) if self.dropout is not None else h
        try:
            if self.down is not None:
                z = F.linear(z, self.down)
            flat = h.reshape(-1, self.dim)
            # One fused addmm: residual add and projection in a single kernel.
            return torch.addmm(flat, z.reshape(-1, z.shape[-1]), self.up.t()).view(h.shape)
        except RuntimeError as error:
            raise_for_input_dim(self, h, error)
            raise


ADAPTER_TYPE = AdapterType.LINEAR
ADAPTER_CLASS = LinearAdapter
