"""Architecture search spaces: what an architecture is, how it maps to Optuna parameters and to features.

A space has one fixed set of Optuna distributions (so any Optuna sampler can search it and a study can be
shared across processes), a ``decode`` from those parameters to an architecture (a JSON-serialisable
dict that :func:`~meta.nas.builder.build_model_from_architecture` turns into an ``nn.Module``), a one-hot
``encode`` for surrogate models, and the one-step ``neighbours`` that local and evolutionary search use.

Two spaces ship:

* :class:`LayerSearchSpace` (from :func:`create_nas_search_space`): a chain of 1 to ``max_layers`` layers,
  each with an operation, a width and an activation; convolutions and pooling for image inputs
  ``(C, H, W)``, dense layers for vector inputs ``(D,)``.
* :class:`CellSearchSpace` (from :func:`create_nb201_search_space`): the NAS-Bench-201 cell, 6 edges of a
  4-node DAG, each one of 5 operations, stacked into a network; 15,625 cells in all.
"""

from __future__ import annotations

import itertools
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import numpy as np
import optuna
from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from meta._checks import NumbersOnly
from meta.data.nasbench201 import NB201_NUM_EDGES, NB201_OPS

Architecture = dict[str, Any]

IMAGE_OPS: tuple[str, ...] = ("conv3x3", "conv5x5", "conv1x1", "sep_conv3x3", "max_pool", "avg_pool", "skip")
VECTOR_OPS: tuple[str, ...] = ("dense", "residual_dense")
ACTIVATIONS: tuple[str, ...] = ("relu", "gelu", "silu", "tanh")
# Image operations that keep their input's channels and apply no activation: a layer of one of them is
# the same network whatever its width and activation say, so those two choices are inactive for it.
SHAPELESS_OPS: frozenset[str] = frozenset({"max_pool", "avg_pool", "skip"})
POOL_OPS: frozenset[str] = frozenset({"max_pool", "avg_pool"})


def built_op(op: str, width: int, size: int) -> str:
    """The operation a chain layer builds, given the ``size`` that reaches it (an image's larger side, a
    vector's width): pooling at 1x1 has nothing left to reduce and is the identity, ``'skip'`` (on an
    image of one row, a signal laid out ``(C, 1, L)``, it still halves the length); a
    ``'residual_dense'`` layer whose width differs from its input's has no input it could add and is a
    ``'dense'`` one. The builder builds by it, and keys and codes go by it, so that two architectures
    that build the same network are one."""
    if op in POOL_OPS and size < 2:
        return "skip"
    if op == "residual_dense" and width != size:
        return "dense"
    return op


def input_size(shape: tuple[int, ...]) -> int:
    """The size (as in :func:`built_op`) of an input of ``shape``, ``(D,)`` or ``(C, H, W)``: a 2x2
    pooling (ceil mode) takes each side from ``s`` to ``ceil(s / 2)``, so the larger side tells when it
    has nothing left to reduce; the smaller one made every pooling of a ``(C, 1, L)`` input a skip."""
    return shape[0] if len(shape) == 1 else max(shape[1], shape[2])


def size_after(op: str, width: int, size: int) -> int:
    """The size (as in :func:`built_op`) after a layer that builds ``op``."""
    if op in POOL_OPS:
        return (size + 1) // 2
    return width if op in VECTOR_OPS else size


def _sizes_only_numbers(field: str, value: Any) -> Any:
    """``value`` unless it is a list or tuple holding what is no integer (numpy's included): pydantic
    reads ``True`` there as the size 1, ``"16"`` and ``16.0`` as 16, and NumbersOnly looks only at
    whole fields (``widths=(True, 16)`` built 1-wide layers)."""
    if isinstance(value, (list, tuple)):
        for v in value:
            if isinstance(v, NumbersOnly._not_numbers) or not isinstance(v, (int, np.integer)):
                kind = "bools" if isinstance(v, (bool, np.bool_)) else "strings" if isinstance(v, NumbersOnly._not_numbers) else f"{type(v).__name__}s"
                raise ValueError(f"{field}: expected whole numbers, not {kind}, got {value!r}")
    return value


class NASSearchSpaceConfig(NumbersOnly):
    """A chain-of-layers search space (every field validated; see :func:`create_nas_search_space`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["layers"] = "layers"
    input_shape: tuple[int, ...]
    num_classes: int = Field(ge=2)
    max_layers: int = Field(ge=1, le=64)
    min_layers: int = Field(1, ge=1)
    operations: tuple[str, ...] = ()  # left out: every operation for the input_shape
    widths: tuple[int, ...] = (16, 32, 64, 128)
    activations: tuple[str, ...] = ("relu", "gelu", "silu")

    @field_validator("input_shape", "widths", mode="before")
    @classmethod
    def _sizes(cls, v: Any, info: ValidationInfo) -> Any:
        return _sizes_only_numbers(info.field_name, v)

    @field_validator("input_shape")
    @classmethod
    def _shape(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if len(v) not in (1, 3) or any(d < 1 for d in v):
            raise ValueError(f"input_shape must be (D,) or (C, H, W) with positive sizes, got {v!r}")
        return v

    @field_validator("widths")
    @classmethod
    def _widths(cls, v: tuple[int, ...]) -> tuple[int, ...]:
        if not v or any(w < 1 for w in v) or len(set(v)) != len(v):
            raise ValueError(f"widths must be distinct positive ints, got {v!r}")
        return v

    @field_validator("activations")
    @classmethod
    def _acts(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in v if a not in ACTIVATIONS]
        if not v or bad or len(set(v)) != len(v):
            raise ValueError(f"activations must be distinct names from {ACTIVATIONS}, got {v!r}")
        return v

    @model_validator(mode="after")
    def _ops(self) -> NASSearchSpaceConfig:
        allowed = IMAGE_OPS if len(self.input_shape) == 3 else VECTOR_OPS
        if "operations" not in self.model_fields_set:
            object.__setattr__(self, "operations", allowed)
        bad = [op for op in self.operations if op not in allowed]
        # An empty tuple is refused as empty widths are, not read as "all".
        if bad or not self.operations or len(set(self.operations)) != len(self.operations):
            raise ValueError(f"operations must be one or more distinct names from {allowed} for this input_shape, got {self.operations!r}")
        if self.min_layers > self.max_layers:
            raise ValueError(f"min_layers {self.min_layers} is above max_layers {self.max_layers}")
        return self


class NB201SpaceConfig(NumbersOnly):
    """The NAS-Bench-201 cell space and the network a cell is stacked into."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["nb201_cell"] = "nb201_cell"
    input_shape: tuple[int, int, int] = (3, 32, 32)
    num_classes: int = Field(10, ge=2)
    channels: int = Field(16, ge=1)
    cells_per_stage: int = Field(1, ge=1)
    num_stages: int = Field(1, ge=1, le=3)

    @field_validator("input_shape", mode="before")
    @classmethod
    def _sizes(cls, v: Any) -> Any:
        return _sizes_only_numbers("input_shape", v)

    @field_validator("input_shape")
    @classmethod
    def _shape(cls, v: tuple[int, int, int]) -> tuple[int, int, int]:
        # else taken, and every trial failed when its network was built
        if any(d < 1 for d in v):
            raise ValueError(f"input_shape must be (C, H, W) with positive sizes, got {v!r}")
        return v


SpaceConfig = NASSearchSpaceConfig | NB201SpaceConfig


def create_nas_search_space(
    input_shape: tuple[int, ...], num_classes: int, max_layers: int, **options: Any
) -> NASSearchSpaceConfig:
    """A chain-of-layers space: 1 to ``max_layers`` layers, each an operation, a width and an activation.

    Image inputs ``(C, H, W)`` get convolutions (3x3, 5x5, 1x1, depthwise-separable 3x3), pooling and skip
    layers (a pooling or skip layer has no width and no activation); vector inputs ``(D,)`` get dense
    and residual dense layers. Architectures that build the same network are counted, keyed and
    evaluated once: those that differ only in a pooling or skip layer's width or activation, and
    those where a layer builds what another op does there (pooling at 1x1 resolution is the
    identity, a skip; a residual dense layer of another width than its input's has nothing to add
    to and is a dense layer). ``options`` sets ``min_layers``,
    ``operations``, ``widths`` and ``activations``.

    Example:
        >>> space = create_nas_search_space(input_shape=(3, 32, 32), num_classes=10, max_layers=20)
        >>> space.max_layers, space.operations[0]
        (20, 'conv3x3')
    """
    return NASSearchSpaceConfig(
        input_shape=tuple(input_shape), num_classes=num_classes, max_layers=max_layers, **options
    )


def create_nb201_search_space(
    input_shape: tuple[int, int, int] = (3, 32, 32), num_classes: int = 10, **options: Any
) -> NB201SpaceConfig:
    """The NAS-Bench-201 cell space (6 edges x 5 operations), stacked into a small network.

    Example:
        >>> make_space(create_nb201_search_space()).size
        15625
    """
    return NB201SpaceConfig(input_shape=tuple(input_shape), num_classes=num_classes, **options)


def _canonical(arch: Architecture) -> str:
    return json.dumps(arch, sort_keys=True, separators=(",", ":"))


class ArchitectureSpace(ABC):
    """One search space, seen by the search algorithms. Subclasses define the five methods below."""

    config: SpaceConfig

    @abstractmethod
    def distributions(self) -> dict[str, optuna.distributions.BaseDistribution]:
        """The fixed Optuna parameters of the space (the same for every trial)."""

    @abstractmethod
    def decode(self, params: Mapping[str, Any]) -> Architecture:
        """The architecture that a full set of parameters describes."""

    @abstractmethod
    def to_params(self, arch: Architecture) -> dict[str, Any]:
        """Parameters that decode to ``arch`` (inactive ones set to their first choice)."""

    @abstractmethod
    def encode(self, arch: Architecture) -> np.ndarray:
        """A fixed-length float vector (one-hot per choice) for surrogate models."""

    @abstractmethod
    def neighbours(self, arch: Architecture) -> list[Architecture]:
        """Every architecture one elementary change away."""

    size: int | None = None
    """Number of distinct architectures when small enough to enumerate, else None."""

    def key(self, arch: Architecture) -> str:
        """A canonical string: two parameter sets with the same key are the same architecture."""
        return _canonical(arch)

    def suggest(self, trial: optuna.trial.BaseTrial) -> Architecture:
        """The architecture an Optuna trial proposes (for ``study.optimize`` with these samplers)."""
        params: dict[str, Any] = {}
        for name, dist in self.distributions().items():
            if isinstance(dist, optuna.distributions.CategoricalDistribution):
                params[name] = trial.suggest_categorical(name, dist.choices)
            elif isinstance(dist, optuna.distributions.IntDistribution):
                params[name] = trial.suggest_int(name, dist.low, dist.high)
            else:
                raise TypeError(f"distribution {name!r}: spaces are discrete, got {dist!r}")
        return self.decode(params)

    def sample(self, rng: np.random.Generator) -> Architecture:
        """A uniformly random parameter set, decoded."""
        params = {}
        for name, dist in self.distributions().items():
            if isinstance(dist, optuna.distributions.CategoricalDistribution):
                params[name] = dist.choices[int(rng.integers(len(dist.choices)))]
            elif isinstance(dist, optuna.distributions.IntDistribution):
                params[name] = int(rng.integers(dist.low, dist.high + 1))
            else:
                raise TypeError(f"distribution {name!r}: spaces are discrete, got {dist!r}")
        return self.decode(params)

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        """One uniformly random neighbour (spaces with many neighbours override this to avoid listing them);
        in a space of one architecture, that architecture."""
        options = self.neighbours(arch) or [arch]
        return options[int(rng.integers(len(options)))]

    def enumerate(self) -> Iterator[Architecture]:
        """Every architecture (only for spaces with a finite, small ``size``)."""
        raise NotImplementedError(f"{type(self).__name__} is too large to enumerate")

    def catalogue(self) -> tuple[list[str], np.ndarray, Callable[[int], Architecture]]:
        """Keys, one-hot codes (one row each) and a lookup by row of every architecture; computed once."""
        cached = getattr(self, "_catalogue", None)
        if cached is None:
            archs = list(self.enumerate())
            cached = ([self.key(a) for a in archs], np.stack([self.encode(a) for a in archs]), archs.__getitem__)
            self._catalogue = cached
        return cached


class CellSearchSpace(ArchitectureSpace):
    """The NAS-Bench-201 cell: 6 edges, each one of :data:`NB201_OPS`."""

    def __init__(self, config: NB201SpaceConfig | None = None) -> None:
        self.config = config or NB201SpaceConfig()
        self.size = len(NB201_OPS) ** NB201_NUM_EDGES
        self._dists = {
            f"edge_{e}": optuna.distributions.CategoricalDistribution(list(NB201_OPS)) for e in range(NB201_NUM_EDGES)
        }

    def distributions(self) -> dict[str, optuna.distributions.BaseDistribution]:
        return dict(self._dists)

    def cell_arch(self, ops: tuple[str, ...] | list[str]) -> Architecture:
        """The architecture dict of a cell given its 6 operation names."""
        cfg = self.config
        return {
            "type": "nb201_cell",
            "ops": list(ops),
            "input_shape": list(cfg.input_shape),
            "num_classes": cfg.num_classes,
            "channels": cfg.channels,
            "cells_per_stage": cfg.cells_per_stage,
            "num_stages": cfg.num_stages,
        }

    def decode(self, params: Mapping[str, Any]) -> Architecture:
        ops = []
        for e in range(NB201_NUM_EDGES):
            op = params.get(f"edge_{e}")
            if op not in NB201_OPS:
                raise KeyError(f"params: edge_{e} must be one of {NB201_OPS}, got {op!r}")
            ops.append(op)
        return self.cell_arch(ops)

    def to_params(self, arch: Architecture) -> dict[str, Any]:
        return {f"edge_{e}": op for e, op in enumerate(arch["ops"])}

    def op_indices(self, arch: Architecture) -> tuple[int, ...]:
        """The cell as 6 indices into :data:`NB201_OPS` (the tabular benchmark's key); ValueError naming
        the ``ops`` given when they are not 6 names from :data:`NB201_OPS`."""
        ops = arch.get("ops") if isinstance(arch, Mapping) else None
        if not isinstance(ops, (list, tuple)) or len(ops) != NB201_NUM_EDGES or any(op not in NB201_OPS for op in ops):
            raise ValueError(
                f"architecture: a cell's 'ops' are {NB201_NUM_EDGES} names from {NB201_OPS}, got "
                f"{ops if ops is not None else arch!r}"
            )
        return tuple(NB201_OPS.index(op) for op in ops)

    def encode(self, arch: Architecture) -> np.ndarray:
        x = np.zeros(NB201_NUM_EDGES * len(NB201_OPS))
        for e, i in enumerate(self.op_indices(arch)):
            x[e * len(NB201_OPS) + i] = 1.0
        return x

    def key(self, arch: Architecture) -> str:
        return "|".join(arch["ops"])

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        out = []
        for e, current in enumerate(arch["ops"]):
            for op in NB201_OPS:
                if op != current:
                    ops = list(arch["ops"])
                    ops[e] = op
                    out.append(self.cell_arch(ops))
        return out

    def enumerate(self) -> Iterator[Architecture]:
        for ops in itertools.product(NB201_OPS, repeat=NB201_NUM_EDGES):
            yield self.cell_arch(ops)

    def catalogue(self) -> tuple[list[str], np.ndarray, Callable[[int], Architecture]]:
        cached = getattr(self, "_catalogue", None)
        if cached is None:
            # Vectorised: building 15,625 dicts up front costs seconds; rows are turned into dicts on demand.
            cells = np.array(list(itertools.product(range(len(NB201_OPS)), repeat=NB201_NUM_EDGES)))
            codes = np.zeros((len(cells), NB201_NUM_EDGES * len(NB201_OPS)))
            for e in range(NB201_NUM_EDGES):
                codes[np.arange(len(cells)), e * len(NB201_OPS) + cells[:, e]] = 1.0
            keys = ["|".join(NB201_OPS[i] for i in row) for row in cells.tolist()]
            cached = (keys, codes, lambda i: self.cell_arch([NB201_OPS[j] for j in cells[i]]))
            self._catalogue = cached
        return cached


class LayerSearchSpace(ArchitectureSpace):
    """A chain of layers; parameters ``num_layers`` and ``layer_{i}_{op,width,activation}`` per slot."""

    def __init__(self, config: NASSearchSpaceConfig) -> None:
        self.config = config
        shape = config.input_shape
        self._input_size = input_size(shape)
        self._layers_at: dict[int, list[tuple[dict[str, Any], int]]] = {}  # see _distinct_layers
        total = self._count_networks()
        self.size = total if total <= 10**6 else None
        dists: dict[str, optuna.distributions.BaseDistribution] = {
            "num_layers": optuna.distributions.IntDistribution(config.min_layers, config.max_layers)
        }
        for i in range(config.max_layers):
            dists[f"layer_{i}_op"] = optuna.distributions.CategoricalDistribution(list(config.operations))
            dists[f"layer_{i}_width"] = optuna.distributions.CategoricalDistribution(list(config.widths))
            dists[f"layer_{i}_activation"] = optuna.distributions.CategoricalDistribution(list(config.activations))
        self._dists = dists

    def distributions(self) -> dict[str, optuna.distributions.BaseDistribution]:
        return dict(self._dists)

    def _arch(self, layers: list[dict[str, Any]]) -> Architecture:
        return {
            "type": "layers",
            "input_shape": list(self.config.input_shape),
            "num_classes": self.config.num_classes,
            "layers": layers,
        }

    def decode(self, params: Mapping[str, Any]) -> Architecture:
        cfg = self.config
        n = params.get("num_layers")
        if not isinstance(n, (int, np.integer)) or not cfg.min_layers <= n <= cfg.max_layers:
            raise KeyError(f"params: num_layers must be an int in [{cfg.min_layers}, {cfg.max_layers}], got {n!r}")
        layers = []
        for i in range(int(n)):
            layer = {
                "op": params.get(f"layer_{i}_op"),
                "width": params.get(f"layer_{i}_width"),
                "activation": params.get(f"layer_{i}_activation"),
            }
            if layer["op"] not in cfg.operations or layer["width"] not in cfg.widths or layer["activation"] not in cfg.activations:
                raise KeyError(f"params: layer {i} has an invalid choice {layer!r}")
            layers.append(layer)
        return self._arch(layers)

    def to_params(self, arch: Architecture) -> dict[str, Any]:
        cfg = self.config
        params: dict[str, Any] = {"num_layers": len(arch["layers"])}
        for i in range(cfg.max_layers):
            layer = arch["layers"][i] if i < len(arch["layers"]) else None
            params[f"layer_{i}_op"] = layer["op"] if layer else cfg.operations[0]
            params[f"layer_{i}_width"] = layer["width"] if layer else cfg.widths[0]
            params[f"layer_{i}_activation"] = layer["activation"] if layer else cfg.activations[0]
        return params

    def _built_layer(self, layer: Mapping[str, Any], size: int) -> tuple[tuple[str, Any, Any], int]:
        """The (op, width, activation) a layer builds where ``size`` reaches it (see :func:`built_op`;
        a shapeless op's width and activation are None, since they build nothing), and the size after it."""
        op = built_op(layer["op"], layer["width"], size)
        built = (op, None, None) if op in SHAPELESS_OPS else (op, layer["width"], layer["activation"])
        return built, size_after(op, layer["width"], size)

    def _built(self, layers: list[Mapping[str, Any]]) -> list[tuple[str, Any, Any]]:
        """Each layer of a chain as :meth:`_built_layer` gives it."""
        size, out = self._input_size, []
        for layer in layers:
            built, size = self._built_layer(layer, size)
            out.append(built)
        return out

    def _distinct_layers(self, size: int) -> list[tuple[dict[str, Any], int]]:
        """One layer for each distinct layer that can be built where ``size`` reaches it (the first
        choice that builds it), with the size after it; computed once per size."""
        cached = self._layers_at.get(size)
        if cached is None:
            cfg = self.config
            distinct: dict[tuple[str, Any, Any], tuple[dict[str, Any], int]] = {}
            for op, width, activation in itertools.product(cfg.operations, cfg.widths, cfg.activations):
                layer = {"op": op, "width": width, "activation": activation}
                built, after = self._built_layer(layer, size)
                distinct.setdefault(built, (layer, after))
            cached = self._layers_at[size] = list(distinct.values())
        return cached

    def _count_networks(self) -> int:
        """The number of distinct networks (of distinct keys): depth by depth, how many chains reach
        each size, and from each size the distinct layers that can be built there."""
        cfg = self.config
        counts, total = {self._input_size: 1}, 0
        for depth in range(1, cfg.max_layers + 1):
            reached: dict[int, int] = {}
            for size, n in counts.items():
                for _, nxt in self._distinct_layers(size):
                    reached[nxt] = reached.get(nxt, 0) + n
            counts = reached
            if depth >= cfg.min_layers:
                total += sum(counts.values())
        return total

    def enumerate(self) -> Iterator[Architecture]:
        """One architecture per distinct network (per key), ``size`` of them, the shallowest first; a
        space of more than 10**6 networks, which has no ``size``, raises NotImplementedError."""
        if self.size is None:
            raise NotImplementedError("LayerSearchSpace: more than 10**6 networks, too large to enumerate")

        def chains(depth: int, size: int) -> Iterator[list[dict[str, Any]]]:
            if depth == 0:
                yield []
                return
            for layer, after in self._distinct_layers(size):
                for rest in chains(depth - 1, after):
                    yield [dict(layer), *rest]

        for depth in range(self.config.min_layers, self.config.max_layers + 1):
            for layers in chains(depth, self._input_size):
                yield self._arch(layers)

    def _choices(self, layer: Mapping[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
        """The (field, choices) that make a layer what it is: its op, and its width and activation
        unless the op is in :data:`SHAPELESS_OPS`."""
        cfg = self.config
        if layer["op"] in SHAPELESS_OPS:
            return [("op", cfg.operations)]
        return [("op", cfg.operations), ("width", cfg.widths), ("activation", cfg.activations)]

    def encode(self, arch: Architecture) -> np.ndarray:
        cfg = self.config
        slot = len(cfg.operations) + len(cfg.widths) + len(cfg.activations)
        x = np.zeros(1 + cfg.max_layers * slot)
        x[0] = (len(arch["layers"]) - cfg.min_layers) / max(1, cfg.max_layers - cfg.min_layers)
        # One code per network, as one key: a layer is coded by what it builds; an op the space does
        # not offer by that name (pooling at 1x1 without 'skip' among them) leaves its op slot empty.
        for i, (op, width, activation) in enumerate(self._built(arch["layers"])):
            base = 1 + i * slot
            if op in cfg.operations:
                x[base + cfg.operations.index(op)] = 1.0
            if width is None:
                continue
            x[base + len(cfg.operations) + cfg.widths.index(width)] = 1.0
            x[base + len(cfg.operations) + len(cfg.widths) + cfg.activations.index(activation)] = 1.0
        return x

    def neighbours(self, arch: Architecture) -> list[Architecture]:
        cfg = self.config
        layers = arch["layers"]
        out = []
        for i, layer in enumerate(layers):
            for field, choices in self._choices(layer):
                for choice in choices:
                    if choice != layer[field]:
                        new = [dict(x) for x in layers]
                        new[i][field] = choice
                        out.append(self._arch(new))
        if len(layers) < cfg.max_layers:
            out.append(self._arch([dict(x) for x in layers] + [dict(layers[-1])]))
        if len(layers) > cfg.min_layers:
            out.append(self._arch([dict(x) for x in layers[:-1]]))
        # a change to what a layer builds nothing different from (a residual layer of another width
        # than its input's made dense) is no neighbour
        key = self.key(arch)
        return [a for a in out if self.key(a) != key]

    def key(self, arch: Architecture) -> str:
        # Cheaper than JSON, and the same for two parameter sets that build the same network: that
        # differ only in inactive slots or inactive choices (the width of a pooling layer), or in an
        # op that builds what another does where it stands (see built_op).
        return ";".join(op if width is None else f"{op},{width},{activation}" for op, width, activation in self._built(arch["layers"]))

    def sample(self, rng: np.random.Generator) -> Architecture:
        cfg = self.config
        n = int(rng.integers(cfg.min_layers, cfg.max_layers + 1))
        ops, widths, acts = (rng.integers(len(c), size=n) for c in (cfg.operations, cfg.widths, cfg.activations))
        return self._arch(
            [
                {"op": cfg.operations[o], "width": cfg.widths[w], "activation": cfg.activations[a]}
                for o, w, a in zip(ops, widths, acts)
            ]
        )

    def mutate(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        # A few draws, since a change may build what the layer built before (see built_op); a space of
        # one architecture gives it back.
        key = self.key(arch)
        for _ in range(8):
            child = self._mutate_once(arch, rng)
            if self.key(child) != key:
                break
        return child

    def _mutate_once(self, arch: Architecture, rng: np.random.Generator) -> Architecture:
        cfg = self.config
        layers = [dict(x) for x in arch["layers"]]
        can_grow, can_shrink = len(layers) < cfg.max_layers, len(layers) > cfg.min_layers
        move = int(rng.integers(10))
        if move == 0 and can_grow:
            return self._arch(layers + [dict(layers[-1])])
        if move == 1 and can_shrink:
            return self._arch(layers[:-1])
        i = int(rng.integers(len(layers)))
        fields = [(f, c) for f, c in self._choices(layers[i]) if len(c) > 1]
        if not fields:
            # Only the depth can change; a space of one architecture has no other to offer.
            if can_grow:
                return self._arch(layers + [dict(layers[-1])])
            return self._arch(layers[:-1] if can_shrink else layers)
        field, choices = fields[int(rng.integers(len(fields)))]
        others = [c for c in choices if c != layers[i][field]]
        layers[i][field] = others[int(rng.integers(len(others)))]
        return self._arch(layers)


def make_space(config: SpaceConfig | ArchitectureSpace | Mapping[str, Any]) -> ArchitectureSpace:
    """The :class:`ArchitectureSpace` for a space config (or a dict of one, or a space itself)."""
    if isinstance(config, ArchitectureSpace):
        return config
    if isinstance(config, Mapping):
        kind = config.get("kind", "layers")
        if kind == "nb201_cell":
            config = NB201SpaceConfig(**config)
        elif kind == "layers":
            config = NASSearchSpaceConfig(**config)
        else:
            raise ValueError(f"search_space_config: unknown kind {kind!r}; choose 'layers' or 'nb201_cell'")
    if isinstance(config, NB201SpaceConfig):
        return CellSearchSpace(config)
    if isinstance(config, NASSearchSpaceConfig):
        return LayerSearchSpace(config)
    raise TypeError(f"search_space_config: expected a space config, got {type(config).__name__}")
