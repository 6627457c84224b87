"""The bottleneck adapter (Houlsby et al. 2019), placed after a module or beside it (He et al. 2022)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import skip_init

from adapters_lib._checks import check_size
from adapters_lib.config import AdapterConfig, AdapterType
from adapters_lib.errors import AdapterDimensionError, AdapterTargetError
from adapters_lib.layers.base import BaseAdapter, activation_fn, make_generator, raise_for_input_dim, target_config

__all__ = ["BottleneckAdapter"]


class BottleneckAdapter(BaseAdapter):
    """``s * up(act(down(x)))`` with a ``hidden_dim`` bottleneck; ``up`` starts at zero.

    * sequential placement (default): ``h -> h + s * up(act(down(h)))`` on the module's output;
    * parallel placement: ``out -> out + s * up(act(down(x)))`` from the module's input ``x``, so
      input and output sizes may differ (``output_dim``).

    Arguments:
        config: ``input_dim``, ``hidden_dim``, ``activation``, ``dropout``, ``adapter_scaling``,
            ``placement``, ``seed``.
        output_dim: parallel placement: the wrapped module's output size (default ``input_dim``).
        name: the target's name, mixed into the initialisation seed.

    Example:
        >>> import torch
        >>> cfg = AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=16, hidden_dim=4)
        >>> BottleneckAdapter(cfg)(torch.randn(2, 5, 16)).shape
        torch.Size([2, 5, 16])
    """

    computed_fields = ("placement", "activation", "adapter_scaling")

    def __init__(self, config: AdapterConfig, output_dim: int | None = None, name: str = "") -> None:
        super().__init__(config)
        dim = config.require_input_dim("BottleneckAdapter")
        self.role = "delta" if config.placement == "parallel" else "sequential"  # type: ignore[misc]
        self.output_dim = check_size("output_dim", output_dim) if output_dim is not None else dim
        if self.role == "sequential" and self.output_dim != dim:
            raise AdapterDimensionError(f"output_dim: a sequential adapter maps {dim} to {dim}, got {self.output_dim}")
        hidden = config.bottleneck_dim
        # skip_init: every weight is set below from the adapter's own generator, so torch's default
        # init would only draw from the global RNG and shift the caller's seeded randomness.
        self.down = skip_init(nn.Linear, dim, hidden)
        self.act = activation_fn(config.activation)
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()
        self.up = skip_init(nn.Linear, hidden, self.output_dim)
        generator = make_generator(config.seed, name)
        with torch.no_grad():
            bound = dim**-0.5
            self.down.weight.uniform_(-bound, bound, generator=generator)
            self.down.bias.zero_()
            self.up.weight.zero_()
            self.up.bias.zero_()
        self.scaling = config.adapter_scaling

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        """The adapter's branch alone, ``s * up(act(down(x)))``."""
        z = self.up(self.dropout(self.act(self.down(x))))
        return z * self.scaling if self.scaling != 1.0 else z

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Sequential placement: ``h + branch(h)``; parallel placement: ``branch(h)``."""
        try:
            if self.role == "delta":
                return self.branch(h)
            return h + self.branch(h)
        except RuntimeError as error:
            raise_for_input_dim(self, h, error)
            raise

    def apply_delta(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        return out + self.branch(x)

    @classmethod
    def default_rule(cls, config: AdapterConfig) -> str:
        side = "in_features" if config.placement == "parallel" else "out_features"
        return f"nn.Linear with {side} == input_dim={config.input_dim}"

    @classmethod
    def matches_default(cls, name: str, module: nn.Module, parent: nn.Module | None, config: AdapterConfig) -> bool:
        if not isinstance(module, nn.Linear) or isinstance(parent, nn.MultiheadAttention):
            return False
        size = module.in_features if config.placement == "parallel" else module.out_features
        return size == config.input_dim

    @classmethod
    def check_target(cls, name: str, module: nn.Module, parent: nn.Module | None, config: AdapterConfig) -> None:
        if config.placement == "sequential":
            super().check_target(name, module, parent, config)
            return
        if not isinstance(module, nn.Linear) or isinstance(parent, nn.MultiheadAttention):
            raise AdapterTargetError(
                f"target_modules: a parallel adapter can wrap nn.Linear; module {name!r} is a {type(module).__name__}"
            )
        if config.input_dim is not None and module.in_features != config.input_dim:
            raise AdapterDimensionError(
                f"input_dim: parallel adapter on module {name!r} expects {config.input_dim} input features, "
                f"the module has {module.in_features}"
            )

    @classmethod
    def for_target(
        cls, name: str, module: nn.Module, config: AdapterConfig, shared: dict[str, nn.Module]
    ) -> BottleneckAdapter:
        if config.placement == "parallel":
            assert isinstance(module, nn.Linear)
            return cls(config.model_copy(update={"input_dim": module.in_features}), module.out_features, name=name)
        return cls(target_config(config, module), name=name)


ADAPTER_TYPE = AdapterType.ADAPTER
ADAPTER_CLASS = BottleneckAdapter
