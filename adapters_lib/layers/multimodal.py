"""Multi-modal adapters: one adapter per modality around a cross-modal core that all of them share.

Each modality projects its features into a common bottleneck space (its own ``down``), passes
them through the shared :class:`CrossModalCore`, and projects back (its own ``up``, zero at
start). What one modality's training teaches the core, the others use; what is specific to a
modality stays in its own projections.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import skip_init

from adapters_lib._checks import check_size
from adapters_lib.config import AdapterConfig, AdapterType
from adapters_lib.errors import AdapterKeyError
from adapters_lib.layers.base import BaseAdapter, SeededByTargetName, activation_fn, make_generator, raise_for_input_dim

__all__ = ["CrossModalCore", "ModalityAdapter", "LanguageAdapter", "VisionAdapter", "MultiModalAdapter"]


class CrossModalCore(nn.Module):
    """The shared part: ``z + act(W z + b)`` on the bottleneck features.

    Example:
        >>> CrossModalCore(8)(torch.randn(2, 8)).shape
        torch.Size([2, 8])
    """

    def __init__(self, hidden_dim: int, activation: str = "relu", seed: int = 0) -> None:
        super().__init__()
        hidden_dim = check_size("hidden_dim", hidden_dim)
        # skip_init here and below: every weight is set from the adapter's own generator, so torch's
        # default init would only draw from the global RNG and shift the caller's seeded randomness.
        self.mix = skip_init(nn.Linear, hidden_dim, hidden_dim)
        with torch.no_grad():
            bound = hidden_dim**-0.5
            self.mix.weight.uniform_(-bound, bound, generator=make_generator(seed, "cross_modal_core"))
            self.mix.bias.zero_()
        self.act = activation_fn(activation)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z + self.act(self.mix(z))


class ModalityAdapter(BaseAdapter):
    """``x + s * up(core(act(down(x))))`` for one modality, with a possibly shared ``core``.

    Arguments:
        config: ``input_dim``, ``hidden_dim``, ``activation``, ``dropout``, ``adapter_scaling``, ``seed``.
        shared: the cross-modal core to use (a fresh one when None).
        name: mixed into the initialisation seed.
    """

    role = "sequential"
    modality = "generic"

    def __init__(self, config: AdapterConfig, shared: CrossModalCore | None = None, name: str = "") -> None:
        super().__init__(config)
        dim = config.require_input_dim(type(self).__name__)
        hidden = config.bottleneck_dim
        self.core = shared if shared is not None else CrossModalCore(hidden, config.activation, config.seed)
        if self.core.mix.in_features != hidden:
            raise ValueError(f"hidden_dim: the shared core has width {self.core.mix.in_features}, config gives {hidden}")
        self.down = skip_init(nn.Linear, dim, hidden)
        self.up = skip_init(nn.Linear, hidden, dim)
        with torch.no_grad():
            bound = dim**-0.5
            self.down.weight.uniform_(-bound, bound, generator=make_generator(config.seed, f"{name}.{self.modality}"))
            self.down.bias.zero_()
            self.up.weight.zero_()
            self.up.bias.zero_()
        self.act = activation_fn(config.activation)
        self.dropout = nn.Dropout(config.dropout) if config.dropout > 0 else nn.Identity()
        self.scaling = config.adapter_scaling

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The modality-specific way into the bottleneck."""
        return self.act(self.down(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` of shape (..., input_dim), features last."""
        try:
            z = self.up(self.dropout(self.core(self.encode(x))))
        except RuntimeError as error:
            raise_for_input_dim(self, x, error)
            raise
        return x + (z * self.scaling if self.scaling != 1.0 else z)


class LanguageAdapter(ModalityAdapter):
    """The language adapter: layer-normalises token features before the bottleneck.

    Token embeddings vary in scale from token to token; normalising them makes the shared core see
    inputs on the same scale as the other modalities'.

    Arguments:
        config: as for :class:`ModalityAdapter`.
        shared: the cross-modal core (a fresh one when None).

    Example:
        >>> cfg = AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=32, hidden_dim=8)
        >>> LanguageAdapter(cfg)(torch.randn(2, 7, 32)).shape  # (batch, tokens, features)
        torch.Size([2, 7, 32])
    """

    modality = "language"

    def __init__(self, config: AdapterConfig, shared: CrossModalCore | None = None, name: str = "") -> None:
        super().__init__(config, shared, name)
        self.norm = nn.LayerNorm(self.down.in_features)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.down(self.norm(x)))


class VisionAdapter(ModalityAdapter):
    """The vision adapter: on feature maps, a depthwise 3x3 convolution mixes neighbouring positions.

    Inputs are channels-last: (batch, height, width, input_dim) feature maps get the spatial
    convolution in the bottleneck (initialised to the identity); (..., input_dim) patch tokens are
    treated like any other features.

    Arguments:
        config: as for :class:`ModalityAdapter`.
        shared: the cross-modal core (a fresh one when None).

    Example:
        >>> cfg = AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=32, hidden_dim=8)
        >>> VisionAdapter(cfg)(torch.randn(2, 6, 6, 32)).shape
        torch.Size([2, 6, 6, 32])
    """

    modality = "vision"

    def __init__(self, config: AdapterConfig, shared: CrossModalCore | None = None, name: str = "") -> None:
        super().__init__(config, shared, name)
        hidden = self.down.out_features
        self.spatial = skip_init(nn.Conv2d, hidden, hidden, 3, padding=1, groups=hidden)
        with torch.no_grad():
            nn.init.dirac_(self.spatial.weight, groups=hidden)
            self.spatial.bias.zero_()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        z = self.down(x)
        if z.dim() == 4:
            z = self.spatial(z.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        return self.act(z)


_MODALITY_CLASSES: dict[str, type[ModalityAdapter]] = {"language": LanguageAdapter, "vision": VisionAdapter}


class MultiModalAdapter(SeededByTargetName, BaseAdapter):
    """One adapter per modality in ``config.modalities`` around one shared :class:`CrossModalCore`.

    ``language`` gets a :class:`LanguageAdapter`, ``vision`` a :class:`VisionAdapter`, any other
    name a plain :class:`ModalityAdapter`. ``forward(x, modality)`` runs that modality's adapter
    (``active_modality`` when ``modality`` is None; :meth:`AdapterModel.set_modality` sets it on
    every injected multi-modal adapter).

    Arguments:
        config: as for :class:`ModalityAdapter`, plus ``modalities``.
        name: mixed into the initialisation seed.

    Example:
        >>> cfg = AdapterConfig(adapter_type=AdapterType.ADAPTER, input_dim=32, hidden_dim=8)
        >>> adapter = MultiModalAdapter(cfg)
        >>> adapter(torch.randn(4, 32), modality="vision").shape
        torch.Size([4, 32])
        >>> adapter.adapters["language"].core is adapter.adapters["vision"].core
        True
    """

    role = "sequential"
    computed_fields = ("activation", "adapter_scaling", "modalities")

    def __init__(self, config: AdapterConfig, name: str = "") -> None:
        super().__init__(config)
        config.require_input_dim("MultiModalAdapter")
        self.core = CrossModalCore(config.bottleneck_dim, config.activation, config.seed)
        self.adapters = nn.ModuleDict(
            {
                modality: _MODALITY_CLASSES.get(modality, ModalityAdapter)(config, self.core, name=f"{name}.{modality}")
                for modality in config.modalities
            }
        )
        self.active_modality = config.modalities[0]

    def forward(self, x: torch.Tensor, modality: str | None = None) -> torch.Tensor:
        """``x`` adapted for ``modality`` (default ``active_modality``)."""
        key = self.check_modality(modality if modality is not None else self.active_modality)
        return self.adapters[key](x)

    def check_modality(self, modality: object) -> str:
        """``modality`` if this adapter has it; else TypeError (not a name) or AdapterKeyError naming it."""
        if not isinstance(modality, str):  # a list failed in the lookup with "unhashable type"
            raise TypeError(f"modality: expected a modality name (str), got {modality!r}")
        if modality not in self.adapters:
            raise AdapterKeyError(f"modality: unknown {modality!r}; known {list(self.adapters)}")
        return modality

    def set_modality(self, modality: str) -> None:
        """Choose the modality used when ``forward`` is called without one."""
        self.active_modality = self.check_modality(modality)


ADAPTER_TYPE = AdapterType.MULTIMODAL
ADAPTER_CLASS = MultiModalAdapter

