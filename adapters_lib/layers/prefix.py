"""Prefix tuning (Li and Liang 2021): learned keys and values prepended in attention.

Two kinds of attention are supported:

* ``nn.MultiheadAttention``: the learned prefixes are prepended to its ``key`` and ``value``
  inputs, one prefix for keys and one for values. The module projects them with its own (frozen,
  linear) key and value projections, so when those are invertible this reaches every prefix in the
  projected space, and the module's optimised kernels stay in use. Padding and attention masks are
  extended so that every query sees the prefix.
* any attention block following the prefix protocol of :mod:`adapters_lib.blocks`
  (``supports_prefix_kv = True``, ``embed_dim``, ``forward(..., prefix_kv=(k, v))``): the prefixes
  go in after the projections, as in the original method.
"""

from __future__ import annotations

import inspect

import torch
from torch import nn

from adapters_lib._checks import check_size
from adapters_lib.config import AdapterConfig, AdapterType
from adapters_lib.errors import AdapterDimensionError, AdapterTargetError
from adapters_lib.layers.base import BaseAdapter, make_generator

__all__ = ["PrefixAdapter", "supports_prefix"]

_MHA_PARAMS = list(inspect.signature(nn.MultiheadAttention.forward).parameters)[1:]


def supports_prefix(module: nn.Module) -> bool:
    """Whether prefix tuning can wrap ``module``."""
    return isinstance(module, nn.MultiheadAttention) or bool(getattr(module, "supports_prefix_kv", False))


def _embed_dim(module: nn.Module) -> int | None:
    value = getattr(module, "embed_dim", None)
    return int(value) if value is not None else None


class PrefixAdapter(BaseAdapter):
    """``num_prefix_tokens`` learned key and value vectors for one attention module (a call adapter).

    Arguments:
        config: ``num_prefix_tokens``, ``input_dim`` (the embedding size), ``init_std``, ``seed``.
        key_dim, value_dim: sizes of the key and value prefixes (``kdim``/``vdim`` of an
            ``nn.MultiheadAttention``; default ``input_dim``).
        for_mha: whether the wrapped module is an ``nn.MultiheadAttention`` (else the protocol).
        batch_first: the wrapped ``nn.MultiheadAttention``'s layout.
        name: the target's name, mixed into the initialisation seed.

    Example:
        >>> mha = nn.MultiheadAttention(16, 2, batch_first=True)
        >>> cfg = AdapterConfig(adapter_type=AdapterType.PREFIX, input_dim=16, num_prefix_tokens=3)
        >>> prefix = PrefixAdapter.for_target("attn", mha, cfg, {})
        >>> x = torch.randn(2, 5, 16)
        >>> args, kwargs = prefix.transform_call(mha, (x, x, x), {})
        >>> kwargs["key"].shape  # 3 prefix positions before the 5 keys
        torch.Size([2, 8, 16])
        >>> mha(*args, **kwargs)[0].shape
        torch.Size([2, 5, 16])
    """

    role = "call"
    computed_fields = ("num_prefix_tokens",)

    def __init__(
        self,
        config: AdapterConfig,
        key_dim: int | None = None,
        value_dim: int | None = None,
        for_mha: bool = False,
        batch_first: bool = False,
        name: str = "",
    ) -> None:
        super().__init__(config)
        dim = config.input_dim
        key_dim = check_size("key_dim", key_dim) if key_dim is not None else config.require_input_dim("PrefixAdapter")
        value_dim = check_size("value_dim", value_dim) if value_dim is not None else (dim if dim is not None else key_dim)
        generator = make_generator(config.seed, name)
        n = config.num_prefix_tokens
        self.prefix_key = nn.Parameter(torch.randn(n, key_dim, generator=generator) * config.init_std)
        self.prefix_value = nn.Parameter(torch.randn(n, value_dim, generator=generator) * config.init_std)
        self.for_mha, self.batch_first = for_mha, batch_first

    @classmethod
    def default_rule(cls, config: AdapterConfig) -> str:
        return f"attention modules (nn.MultiheadAttention or prefix protocol) with embed_dim == input_dim={config.input_dim}"

    @classmethod
    def matches_default(cls, name: str, module: nn.Module, parent: nn.Module | None, config: AdapterConfig) -> bool:
        return supports_prefix(module) and _embed_dim(module) == config.input_dim

    @classmethod
    def check_target(cls, name: str, module: nn.Module, parent: nn.Module | None, config: AdapterConfig) -> None:
        if not supports_prefix(module):
            raise AdapterTargetError(
                f"target_modules: prefix tuning can wrap nn.MultiheadAttention or an attention block with "
                f"supports_prefix_kv=True; module {name!r} is a {type(module).__name__}"
            )
        size = _embed_dim(module)
        if config.input_dim is not None and size != config.input_dim:
            raise AdapterDimensionError(
                f"input_dim: prefix tuning on module {name!r} expects embed_dim={config.input_dim}, the module has {size}"
            )

    @classmethod
    def for_target(
        cls, name: str, module: nn.Module, config: AdapterConfig, shared: dict[str, nn.Module]
    ) -> PrefixAdapter:
        size = _embed_dim(module)
        config = config.model_copy(update={"input_dim": size})
        if isinstance(module, nn.MultiheadAttention):
            return cls(config, module.kdim, module.vdim, for_mha=True, batch_first=module.batch_first, name=name)
        return cls(config, size, size, name=name)

    def forward(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The prefix keys and values, each of shape (num_prefix_tokens, dim)."""
        return self.prefix_key, self.prefix_value

    def transform_call(self, module: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        if not self.for_mha:
            kwargs = dict(kwargs)
            previous = kwargs.get("prefix_kv")
            pk, pv = self.prefix_key, self.prefix_value
            if previous is not None:
                pk, pv = torch.cat([previous[0], pk]), torch.cat([previous[1], pv])
            kwargs["prefix_kv"] = (pk, pv)
            return args, kwargs
        bound = dict(zip(_MHA_PARAMS, args))
        overlap = set(bound) & set(kwargs)
        if overlap:
            raise TypeError(f"MultiheadAttention.forward got multiple values for {sorted(overlap)}")
        bound.update(kwargs)
        key, value = bound["key"], bound["value"]
        n = self.prefix_key.shape[0]
        if key.dim() == 3:
            batch_dim, seq_dim = (0, 1) if self.batch_first else (1, 0)
            batch = key.shape[batch_dim]
            pk = self.prefix_key.unsqueeze(batch_dim).expand(*((batch, -1, -1) if batch_dim == 0 else (-1, batch, -1)))
            pv = self.prefix_value.unsqueeze(batch_dim).expand(*((batch, -1, -1) if batch_dim == 0 else (-1, batch, -1)))
        else:
            seq_dim, pk, pv = 0, self.prefix_key, self.prefix_value
        bound["key"] = torch.cat([pk.to(key.dtype), key], dim=seq_dim)
        bound["value"] = torch.cat([pv.to(value.dtype), value], dim=seq_dim)
        for mask_name in ("key_padding_mask", "attn_mask"):
            mask = bound.get(mask_name)
            if mask is not None:
                pad = torch.zeros(*mask.shape[:-1], n, dtype=mask.dtype, device=mask.device)
                bound[mask_name] = torch.cat([pad, mask], dim=-1)
        if bound.get("is_causal") and bound.get("attn_mask") is not None:
            # The extended mask carries the causal structure; the hint would now be wrong.
            bound["is_causal"] = False
        return (), bound


ADAPTER_TYPE = AdapterType.PREFIX
ADAPTER_CLASS = PrefixAdapter
