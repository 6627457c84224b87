"""BitFit (Ben Zaken et al. 2022): only the biases train.

The base model stays frozen; each wrapped module gets a trainable increment of its bias, added to
its output along the feature dimension. The effective bias is ``b + delta``, exactly what training
``b`` itself would give, while the base stays untouched so that the adapter can be switched off,
saved alone and merged into ``b``. An ``nn.MultiheadAttention``, named in ``target_modules``, gets
increments of its ``in_proj_bias`` and ``out_proj.bias``, added to those biases for each call (it
reads them itself and never calls its ``out_proj``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from adapters_lib._checks import check_size
from adapters_lib.config import AdapterConfig, AdapterType
from adapters_lib.errors import AdapterDimensionError, AdapterTargetError
from adapters_lib.layers.base import BaseAdapter, check_held_parameters, feature_dim_of

__all__ = ["BitFitAdapter"]

# Modules whose bias is added to the output along one feature dimension (so the delta can be too).
_SUPPORTED = (
    nn.Linear,
    nn.Bilinear,
    nn.modules.conv._ConvNd,
    nn.LayerNorm,
    nn.GroupNorm,
    nn.modules.batchnorm._BatchNorm,
    nn.modules.instancenorm._InstanceNorm,
)
_KINDS = "Linear, Bilinear, ConvNd, LayerNorm, GroupNorm, BatchNorm or InstanceNorm"


class BitFitAdapter(BaseAdapter):
    """A trainable increment ``delta`` of one module's bias (a mergeable delta adapter).

    Arguments:
        config: the BITFIT config.
        bias_shape: the wrapped module's bias shape (default ``(config.input_dim,)``).
        feature_dim: the output dimension the bias runs along (-1 for Linear and LayerNorm).
        attention: the wrapped ``nn.MultiheadAttention``'s ``embed_dim``, for one: ``bias_delta``
            then increments its ``in_proj_bias`` (of ``bias_shape``) and ``out_proj_bias_delta`` its
            ``out_proj.bias``.

    Example:
        >>> import torch
        >>> cfg = AdapterConfig(adapter_type=AdapterType.BITFIT, input_dim=4)
        >>> BitFitAdapter(cfg).bias_delta.shape
        torch.Size([4])
    """

    role = "delta"
    mergeable = True
    computed_fields = ()

    def __init__(
        self,
        config: AdapterConfig,
        bias_shape: tuple[int, ...] | None = None,
        feature_dim: int = -1,
        name: str = "",
        attention: int | None = None,
    ) -> None:
        super().__init__(config)
        if bias_shape is not None:
            if isinstance(bias_shape, (int, str)) or not isinstance(bias_shape, Sequence) or not bias_shape:
                raise ValueError(f"bias_shape: expected the wrapped module's bias shape, a tuple of sizes, got {bias_shape!r}")
            shape = tuple(check_size(f"bias_shape[{i}]", size) for i, size in enumerate(bias_shape))
        else:
            shape = (config.require_input_dim("BitFitAdapter"),)
        self.bias_delta = nn.Parameter(torch.zeros(shape))
        self.feature_dim = feature_dim
        self.attention = attention
        if attention is not None:
            self.out_proj_bias_delta = nn.Parameter(torch.zeros(check_size("attention", attention)))
            self.role = "weight"  # type: ignore[misc]

    @classmethod
    def default_rule(cls, config: AdapterConfig) -> str:
        return f"every {_KINDS} module with a bias"

    @classmethod
    def matches_default(cls, name: str, module: nn.Module, parent: nn.Module | None, config: AdapterConfig) -> bool:
        if not isinstance(module, _SUPPORTED) or isinstance(parent, nn.MultiheadAttention):
            return False
        bias = getattr(module, "bias", None)
        if not isinstance(bias, nn.Parameter):
            return False
        return config.input_dim is None or bias.shape[0] == config.input_dim

    @classmethod
    def check_target(cls, name: str, module: nn.Module, parent: nn.Module | None, config: AdapterConfig) -> None:
        attention = isinstance(module, nn.MultiheadAttention)
        if not (isinstance(module, _SUPPORTED) or attention) or isinstance(parent, nn.MultiheadAttention):
            raise AdapterTargetError(
                f"target_modules: BitFit can wrap {_KINDS} outside nn.MultiheadAttention, or the attention "
                f"itself; module {name!r} is a {type(module).__name__}"
            )
        bias = getattr(module, "in_proj_bias" if attention else "bias", None)
        if not isinstance(bias, nn.Parameter):
            raise AdapterTargetError(f"target_modules: module {name!r} ({type(module).__name__}) has no bias to fit")
        if attention:
            check_held_parameters(name, module, ("in_proj_bias", "out_proj.bias"), "BitFit")
        if attention and config.input_dim is not None and module.embed_dim != config.input_dim:
            raise AdapterDimensionError(
                f"input_dim: BitFit on module {name!r} expects embed_dim={config.input_dim}, the module has {module.embed_dim}"
            )
        if not attention and config.input_dim is not None and bias.shape[0] != config.input_dim:
            raise AdapterDimensionError(
                f"input_dim: BitFit on module {name!r} expects a bias of size {config.input_dim}, "
                f"the module's has {bias.shape[0]}"
            )

    @classmethod
    def for_target(
        cls, name: str, module: nn.Module, config: AdapterConfig, shared: dict[str, nn.Module]
    ) -> BitFitAdapter:
        if isinstance(module, nn.MultiheadAttention):
            return cls(config, tuple(module.in_proj_bias.shape), name=name, attention=module.embed_dim)
        return cls(config, tuple(module.bias.shape), feature_dim_of(module), name=name)

    def forward(self, out: torch.Tensor) -> torch.Tensor:
        """``out`` with the bias increment added along ``feature_dim``; an ``out`` of another size
        there is refused naming ``input_dim`` (one of size 1 would broadcast to the bias's size)."""
        try:
            shifted = self.apply_delta(out, out)
        except RuntimeError as error:
            self._raise_for_size(out, error)
            raise
        if shifted.shape != out.shape:
            self._raise_for_size(out, None)
        return shifted

    def _raise_for_size(self, out: torch.Tensor, error: RuntimeError | None) -> None:
        """AdapterDimensionError if ``out`` does not hold the bias's size along ``feature_dim``
        (looked at only once the forward has failed or changed the shape: a call that succeeds pays
        one comparison of shapes)."""
        size = tuple(self.bias_delta.shape)
        if self.feature_dim == -1:
            held = tuple(out.shape[out.dim() - len(size):]) if out.dim() >= len(size) else None
            where = f"shape (..., {', '.join(map(str, size))})"
        else:
            held = (out.shape[self.feature_dim % out.dim()],) if out.dim() else None
            where = f"{size[0]} features along dimension {self.feature_dim}"
        if held != size:
            raise AdapterDimensionError(
                f"input_dim: BitFitAdapter expects inputs of {where}, got {tuple(out.shape)}"
            ) from error

    def apply_delta(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        if self.feature_dim == -1:
            return out + self.bias_delta
        dim = self.feature_dim % out.dim()
        shape = [1] * out.dim()
        shape[dim] = -1
        return out + self.bias_delta.view(shape)

    def weight_deltas(self, module: nn.Module) -> dict[str, torch.Tensor]:
        """On an attention: the increments of ``in_proj_bias`` and ``out_proj.bias``."""
        if self.attention is None:
            return super().weight_deltas(module)
        return {"in_proj_bias": self.bias_delta, "out_proj.bias": self.out_proj_bias_delta}

    def delta_parameters(self, module: nn.Module) -> dict[str, torch.Tensor]:
        if self.attention is not None:
            return {pname: delta.detach() for pname, delta in self.weight_deltas(module).items()}
        return {"bias": self.bias_delta.detach()}


ADAPTER_TYPE = AdapterType.BITFIT
ADAPTER_CLASS = BitFitAdapter
