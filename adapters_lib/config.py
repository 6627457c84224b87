"""What a user passes in: the adapter types and one validated configuration per adapter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Any, Literal, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

__all__ = ["AdapterType", "AdapterConfig", "Placement", "Activation"]

Placement = Literal["sequential", "parallel"]
Activation = Literal["relu", "gelu", "tanh", "silu", "identity"]


class AdapterType(str, Enum):
    """The parameter-efficient methods adapters_lib implements.

    * ``LINEAR``: a residual linear map on a module's output, ``h + U D h`` (low rank when
      ``hidden_dim`` is set, full rank otherwise), zero at initialisation.
    * ``ADAPTER``: the bottleneck adapter of Houlsby et al. (2019), ``h + U act(D h)``, placed after
      the module (sequential) or beside it (parallel, He et al. 2022).
    * ``LORA``: low-rank adaptation of a Linear, Conv1d/2d/3d or Embedding weight, ``W x + (alpha / r) B A x``
      (Hu et al. 2021), or of an nn.MultiheadAttention's input and output projections; mergeable into the weights.
    * ``PREFIX``: prefix tuning (Li and Liang 2021): learned key and value vectors prepended in
      attention.
    * ``BITFIT``: bias-only fine-tuning (Ben Zaken et al. 2022); mergeable into the bias.
    * ``COMPACTER``: a bottleneck adapter whose projections are parameterised hypercomplex
      multiplication layers with shared slow weights (Karimi Mahabadi et al. 2021).
    * ``MULTIMODAL``: modality-specific bottleneck adapters around a shared cross-modal core.
    """

    LINEAR = "linear"
    ADAPTER = "adapter"
    LORA = "lora"
    PREFIX = "prefix"
    BITFIT = "bitfit"
    COMPACTER = "compacter"
    MULTIMODAL = "multimodal"


_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AdapterConfig(BaseModel):
    """Configuration of one adapter: its type, its sizes, and which modules of a model it wraps.

    Fields that a type does not use are ignored by it (the seed passes ``hidden_dim`` to a LoRA
    config, for instance); unknown field names are rejected, so a typo never passes silently.

    A user's own adapter, a subclass of :class:`~adapters_lib.layers.base.BaseAdapter`, is injected
    by passing its class as ``adapter_class``; ``adapter_type`` then says which type it is switched
    on and off and reported with, and targets are matched and checked as for the built-in types.

    Which modules are wrapped, when ``target_modules`` is None (the default rule per type):

    * LORA, and ADAPTER with ``placement="parallel"``: every ``nn.Linear`` whose ``in_features``
      equals ``input_dim``;
    * LINEAR, ADAPTER (sequential), COMPACTER, MULTIMODAL: every ``nn.Linear`` whose
      ``out_features`` equals ``input_dim`` (the adapter transforms that layer's output);
    * PREFIX: every ``nn.MultiheadAttention`` (or attention block following the prefix protocol of
      :mod:`adapters_lib.layers.prefix`) whose ``embed_dim`` equals ``input_dim``;
    * BITFIT: every Linear, Bilinear, ConvNd, LayerNorm, GroupNorm, BatchNorm or InstanceNorm module
      that has a ``bias`` parameter (of size ``input_dim`` when it is set), outside ``nn.MultiheadAttention``
      (whose ``in_proj_bias`` and ``out_proj.bias`` BitFit fits when the attention is named in ``target_modules``).

    A rule that matches nothing raises :class:`~adapters_lib.errors.AdapterTargetError`.

    Example:
        >>> cfg = AdapterConfig(adapter_type=AdapterType.LORA, input_dim=512, lora_r=8, lora_alpha=16)
        >>> cfg.lora_scaling
        2.0
    """

    # allow_inf_nan: Field(gt=0) lets inf through, and an infinite alpha or scale makes every output NaN
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    adapter_type: AdapterType = Field(description="Which method; see AdapterType.")
    input_dim: int | None = Field(
        default=None,
        gt=0,
        description=(
            "Feature size the adapter works on: the input features of the wrapped layer for LoRA "
            "and parallel adapters, the output features for output-side adapters, the embedding "
            "size for prefix tuning. Checked against every target; None infers it per target "
            "(then target_modules is required, except for BITFIT)."
        ),
    )
    hidden_dim: int | None = Field(
        default=None,
        gt=0,
        description=(
            "Bottleneck width of ADAPTER, COMPACTER and MULTIMODAL (None: input_dim // 4) and rank "
            "of LINEAR (None: a full-rank input_dim x input_dim map)."
        ),
    )
    lora_r: int = Field(default=8, gt=0, description="LoRA rank r.")
    lora_alpha: float = Field(default=16.0, gt=0, description="LoRA alpha; the update is scaled by alpha / r.")
    use_rslora: bool = Field(
        default=False, strict=True, description="Scale LoRA by alpha / sqrt(r) (rank-stabilised LoRA) instead of alpha / r."
    )
    dropout: float = Field(
        default=0.0, ge=0.0, lt=1.0, description="Dropout on the adapter's input (LoRA) or bottleneck (others)."
    )
    target_modules: tuple[str, ...] | None = Field(
        default=None,
        description=(
            "Which modules to wrap, by name. A plain pattern matches a module whose dotted name "
            "equals it or ends with '.' + pattern; 're:<regex>' matches names the regex fully "
            "matches. Every pattern must match at least one module. None applies the type's "
            "default rule (see the class docstring)."
        ),
    )
    placement: Placement = Field(
        default="sequential",
        description="ADAPTER only: 'sequential' transforms the module's output, 'parallel' adds a branch beside it.",
    )
    activation: Activation = Field(default="relu", description="Non-linearity inside bottleneck adapters.")
    adapter_scaling: float = Field(
        default=1.0, gt=0, description="Multiplier on the output of bottleneck, compacter and multi-modal adapters."
    )
    num_prefix_tokens: int = Field(default=10, gt=0, description="PREFIX: number of learned key/value positions.")
    phm_dim: int = Field(
        default=4, gt=1, description="COMPACTER: n, the number of Kronecker summands; input_dim and hidden_dim must be divisible by it."
    )
    phm_rank: int = Field(default=1, gt=0, description="COMPACTER: rank of each layer's fast weights B_i = s_i t_i^T.")
    modalities: tuple[str, ...] = Field(
        default=("language", "vision"),
        description="MULTIMODAL: the modalities, each with its own adapter around the shared core; the first is the default.",
    )
    init_std: float = Field(
        default=0.02, gt=0, description="PREFIX: standard deviation of the prefixes' random initialisation."
    )
    seed: int = Field(default=0, description="Seed of this adapter's random initialisation (deterministic by default).")
    adapter_class: Any = Field(
        default=None,
        description=(
            "A BaseAdapter subclass to inject instead of adapter_type's built-in class (a user's own "
            "adapter); None uses the built-in class. Saved files record its dotted name only: a set "
            "with one is loaded into a model that holds the set already."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _refuse_mistyped(cls, data: Any) -> Any:
        # pydantic takes True for 1 (a bool is an int in Python): lora_r=True is a mistake, not rank 1;
        # and "4" for 4, a value read from text and not converted, which toolrouter's and meta's
        # options refuse (meta._checks.NumbersOnly, which adapters_lib may not import): one wording;
        # and 8.0 for 8 where an integer is due: a saved "lora_r": 8.0 is damage, not a rank
        if isinstance(data, Mapping):
            for key, value in data.items():
                if key in _NUMBER_FIELDS and isinstance(value, _NOT_NUMBERS):
                    raise ValueError(f"{key}: expected a number, not a {type(value).__name__}, got {value!r}")
                if key in _INTEGER_FIELDS and value is not None and not isinstance(value, (int, np.integer)):
                    raise ValueError(f"{key}: expected an integer, not a {type(value).__name__}, got {value!r}")
        return data

    @field_validator("adapter_class")
    @classmethod
    def _check_adapter_class(cls, value: Any) -> Any:
        if value is None:
            return value
        # Imported here: the layers import this module.
        from adapters_lib.layers.base import check_adapter_class

        return check_adapter_class(value)

    @field_serializer("adapter_class", when_used="json")
    def _adapter_class_name(self, value: Any) -> str | None:
        return None if value is None else f"{value.__module__}.{value.__qualname__}"

    @field_validator("target_modules", mode="before")
    @classmethod
    def _targets_as_tuple(cls, value: object) -> object:
        if isinstance(value, str):
            return (value,)
        return value

    @field_validator("target_modules")
    @classmethod
    def _check_targets(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is None:
            return value
        if len(value) == 0:
            raise ValueError("target_modules: empty; pass None for the type's default rule")
        for pattern in value:
            if not pattern:
                raise ValueError("target_modules: an empty pattern matches nothing")
            if pattern.startswith("re:"):
                try:
                    re.compile(pattern[3:])
                except re.error as exc:
                    raise ValueError(f"target_modules: invalid regex {pattern!r}: {exc}") from exc
        return value

    @field_validator("modalities")
    @classmethod
    def _check_modalities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("modalities: at least one modality is needed")
        for name in value:
            if not _NAME_RE.match(name):
                raise ValueError(f"modalities: {name!r} is not an identifier")
        if len(set(value)) != len(value):
            raise ValueError(f"modalities: duplicates in {list(value)}")
        return value

    @model_validator(mode="after")
    def _check_sizes(self) -> AdapterConfig:
        if self.input_dim is None:
            if self.target_modules is None and self.adapter_type is not AdapterType.BITFIT:
                raise ValueError(
                    f"input_dim: required for adapter_type={self.adapter_type.value} when target_modules is None"
                )
            return self
        hidden = self.bottleneck_dim
        if self.adapter_type is AdapterType.COMPACTER:
            for name, size in (("input_dim", self.input_dim), ("hidden_dim", hidden)):
                if size % self.phm_dim:
                    raise ValueError(f"{name}: {size} is not divisible by phm_dim={self.phm_dim}")
        if self.adapter_type is AdapterType.LINEAR and self.hidden_dim is not None and self.hidden_dim > self.input_dim:
            raise ValueError(f"hidden_dim: rank {self.hidden_dim} exceeds input_dim={self.input_dim}")
        return self

    @property
    def lora_scaling(self) -> float:
        """The factor on LoRA's update: alpha / r, or alpha / sqrt(r) with ``use_rslora``."""
        return self.lora_alpha / (self.lora_r**0.5 if self.use_rslora else self.lora_r)

    @property
    def bottleneck_dim(self) -> int:
        """The bottleneck width for the bottleneck family (``hidden_dim`` or ``input_dim // 4``)."""
        if self.hidden_dim is not None:
            return self.hidden_dim
        if self.input_dim is None:
            raise ValueError(f"hidden_dim: required for adapter_type={self.adapter_type.value} without input_dim")
        quarter = max(1, self.input_dim // 4)
        if self.adapter_type is AdapterType.COMPACTER:
            # The default must stay divisible by phm_dim, or the default config would be invalid.
            return max(self.phm_dim, quarter // self.phm_dim * self.phm_dim)
        return quarter

    def require_input_dim(self, owner: str) -> int:
        """``input_dim``, or a ValueError naming the field where a standalone adapter needs it."""
        if self.input_dim is None:
            raise ValueError(f"input_dim: {owner} needs input_dim; got None")
        return self.input_dim


def _is_number(annotation: Any) -> bool:
    return annotation in (int, float) or any(_is_number(a) for a in get_args(annotation))


#: What a number field refuses, although pydantic reads it as a number.
_NOT_NUMBERS = (bool, np.bool_, str, bytes, bytearray)
#: The fields that take a number, and refuse a bool or a string for it.
_NUMBER_FIELDS = frozenset(name for name, info in AdapterConfig.model_fields.items() if _is_number(info.annotation))
#: The fields that take an integer (optional or not), and refuse a float for it.
_INTEGER_FIELDS = frozenset(name for name, info in AdapterConfig.model_fields.items() if int in (info.annotation, *get_args(info.annotation)))
