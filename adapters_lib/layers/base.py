"""The common base of every adapter, and the one wrapper that injects adapters into a module.

An adapter plays one of four roles around the module it wraps:

* ``"sequential"``: it transforms the module's output, ``h -> adapter(h)`` (linear, sequential
  bottleneck, compacter, multi-modal adapters);
* ``"delta"``: it adds a term computed from the module's input, ``out -> out + delta(x)`` (LoRA,
  parallel bottleneck, BitFit); mergeable deltas can be folded into the module's own parameters;
* ``"call"``: it rewrites the call's arguments (prefix tuning prepends keys and values);
* ``"weight"``: it adds increments to the module's own parameters for the call (LoRA on an
  ``nn.MultiheadAttention``, which reads its projection weights itself instead of calling them);
  mergeable ones can be folded into those parameters.

:class:`AdaptedModule` is the single injection mechanism: it replaces a module of the base model,
keeps the original as ``base_layer`` and holds the adapters of every adapter set under
``adapters[<set name>][<type>]``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import torch
from torch import nn
from torch.func import functional_call
from torch.nn.modules import module as _torch_module

from adapters_lib.config import AdapterConfig, AdapterType
from adapters_lib.errors import AdapterDimensionError, AdapterStateError, AdapterTargetError

__all__ = [
    "BaseAdapter",
    "AdaptedModule",
    "SeededByTargetName",
    "check_adapter_class",
    "check_held_parameters",
    "raise_for_input_dim",
    "make_generator",
    "activation_fn",
    "feature_dim_of",
    "target_config",
]

ROLES = ("sequential", "delta", "call", "weight")
# the method each role's adapters implement
_ROLE_METHODS = {"sequential": "forward", "delta": "apply_delta", "call": "transform_call", "weight": "weight_deltas"}

# torch's registries of hooks that run on every module (register_module_forward_hook and the like)
_GLOBAL_HOOKS = (
    _torch_module._global_forward_hooks,
    _torch_module._global_forward_pre_hooks,
    _torch_module._global_backward_hooks,
    _torch_module._global_backward_pre_hooks,
)


def make_generator(seed: int, name: str = "") -> torch.Generator:
    """A CPU generator seeded from ``seed`` and a stable hash of ``name`` (so layers differ)."""
    generator = torch.Generator()
    generator.manual_seed((int(seed) * 1_000_003 + zlib.crc32(name.encode())) % (2**63))
    return generator


def activation_fn(name: str) -> nn.Module:
    """The activation module for an ``AdapterConfig.activation`` name."""
    table: dict[str, type[nn.Module]] = {
        "relu": nn.ReLU,
        "gelu": nn.GELU,
        "tanh": nn.Tanh,
        "silu": nn.SiLU,
        "identity": nn.Identity,
    }
    if name not in table:
        raise ValueError(f"activation: unknown {name!r}; choose from {sorted(table)}")
    return table[name]()


def feature_dim_of(module: nn.Module) -> int:
    """Which dimension of ``module``'s output holds the features (the channels for conv and norms)."""
    if isinstance(module, nn.modules.conv._ConvNd):
        # Counted from the end, so that unbatched inputs (C, H, W) work too.
        return -(len(module.kernel_size) + 1)
    if isinstance(module, nn.modules.instancenorm._InstanceNorm):
        # Instance norms take unbatched inputs (C, L) too: counted from the end, as for convs.
        return -module._get_no_batch_dim()
    if isinstance(module, (nn.modules.batchnorm._NormBase, nn.GroupNorm)):  # batch norms (batched only)
        return 1
    return -1


def out_features_of(module: nn.Module) -> int | None:
    """The output feature size of common layers, or None where it cannot be known statically."""
    if isinstance(module, (nn.Linear, nn.Bilinear)):
        return module.out_features
    if isinstance(module, nn.RNNBase):  # the output sequence's features: each direction's hidden state (or projection)
        return (module.proj_size or module.hidden_size) * (2 if module.bidirectional else 1)
    if isinstance(module, nn.modules.conv._ConvNd):
        return module.out_channels
    if isinstance(module, nn.MultiheadAttention):
        return module.embed_dim
    if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        return module.embedding_dim
    if isinstance(module, (nn.LayerNorm, nn.RMSNorm)) and len(module.normalized_shape) == 1:
        return int(module.normalized_shape[0])
    if isinstance(module, nn.modules.batchnorm._NormBase):
        return module.num_features
    if isinstance(module, nn.GroupNorm):
        return module.num_channels
    return None


def target_config(config: AdapterConfig, module: nn.Module) -> AdapterConfig:
    """``config`` with ``input_dim`` filled in from ``module``'s output size where it was None,
    validated again: the checks that involve ``input_dim`` (a rank above it, a size phm_dim does not
    divide) are skipped while it is None, and ``model_copy`` would skip them too."""
    size = config.input_dim if config.input_dim is not None else out_features_of(module)
    if size is None or size == config.input_dim:
        return config
    return type(config).model_validate({**config.model_dump(), "input_dim": size})


def check_held_parameters(name: str, module: nn.Module, pnames: Sequence[str], kind: str) -> None:
    """AdapterTargetError unless ``module`` holds each of ``pnames`` as a parameter: a weight adapter
    adds to them for each call, and one computed by a parametrization (``weight_norm``) holds none."""
    held = dict(module.named_parameters())
    computed = [pname for pname in pnames if pname not in held]
    if computed:
        raise AdapterTargetError(
            f"target_modules: {kind} on module {name!r} adds to its {computed}, which a parametrization computes "
            "rather than holds; remove the parametrization first (torch.nn.utils.parametrize.remove_parametrizations)"
        )


def raise_for_input_dim(adapter: BaseAdapter, x: torch.Tensor, error: RuntimeError, expected: int | None = None) -> None:
    """AdapterDimensionError naming ``input_dim`` if ``x``'s last dimension is not ``expected``
    (default: ``adapter``'s ``input_dim``), raised from ``error``, the shape error torch gave for it
    without naming the field. Features-last adapters call it only once their forward has failed, so
    that the call that succeeds checks nothing."""
    if expected is None:
        expected = adapter.config.input_dim
    if x.dim() == 0 or x.shape[-1] != expected:
        raise AdapterDimensionError(
            f"input_dim: {type(adapter).__name__} expects inputs of shape (..., {expected}), "
            f"got {tuple(x.shape)}"
        ) from error


class BaseAdapter(nn.Module):
    """Base class of every adapter: an ``nn.Module`` built from an :class:`AdapterConfig`.

    Subclasses set ``role`` (``"sequential"``, ``"delta"``, ``"call"`` or ``"weight"``, see the
    module docstring) and implement ``forward`` (sequential), ``apply_delta`` (delta),
    ``transform_call`` (call) or ``weight_deltas`` (weight); a ``mergeable`` delta or weight adapter
    also implements ``delta_parameters``.

    :class:`~adapters_lib.model.AdapterModel` injects any subclass, a user's own included (pass it
    as ``AdapterConfig.adapter_class``), through three class methods: ``matches_default`` picks
    the targets when the config names none, ``check_target`` refuses a module it cannot wrap, and
    ``for_target`` builds the adapter for one module. By default they wrap every ``nn.Linear``
    whose ``out_features`` equals ``input_dim``, check that size, and build ``cls(config)`` with
    ``input_dim`` filled in; override them for other targets. ``computed_fields`` names the config
    fields its computation reads, which saved weights must agree on to load into a set (by default
    every field but the initialisation, the dropout and the sizes).

    Arguments:
        config: the adapter's configuration.

    Example:
        >>> import torch
        >>> class Scale(BaseAdapter):
        ...     def __init__(self, config):
        ...         super().__init__(config)
        ...         self.gain = torch.nn.Parameter(torch.ones(config.input_dim))
        ...     def forward(self, x):
        ...         return x * self.gain
        >>> cfg = AdapterConfig(adapter_type=AdapterType.LINEAR, input_dim=4)
        >>> Scale(cfg)(torch.ones(2, 4)).shape
        torch.Size([2, 4])
        >>> from adapters_lib import AdapterModel
        >>> model = AdapterModel(torch.nn.Sequential(torch.nn.Linear(3, 4)), cfg.model_copy(update={"adapter_class": Scale}))
        >>> model.adapter_parameter_names()
        ['base_model.0.adapters.default.linear.gain']
    """

    role: ClassVar[str] = "sequential"
    mergeable: ClassVar[bool] = False
    #: The config fields whose values change what the adapter's weights compute (loading saved
    #: weights into a set compares them); None: every field but the initialisation, the dropout and
    #: the sizes (which the weights' shapes check).
    computed_fields: ClassVar[tuple[str, ...] | None] = None

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__()
        if not isinstance(config, AdapterConfig):
            raise TypeError(f"config: expected an AdapterConfig, got {type(config).__name__}")
        self.config = config

    @property
    def adapter_type(self) -> AdapterType:
        """The type this adapter was configured as."""
        return self.config.adapter_type

    def num_parameters(self) -> int:
        """Number of trainable parameters of this adapter (shared tensors counted once)."""
        return sum(p.numel() for p in self.parameters())

    # --- injection hooks, overridden by each injectable type ---------------------------------

    @classmethod
    def default_rule(cls, config: AdapterConfig) -> str:
        """Words describing which modules ``matches_default`` selects (used in error messages)."""
        return f"nn.Linear with out_features == input_dim={config.input_dim}"

    @classmethod
    def matches_default(cls, name: str, module: nn.Module, parent: nn.Module | None, config: AdapterConfig) -> bool:
        """Whether ``module`` is wrapped when ``config.target_modules`` is None.

        By default every ``nn.Linear`` whose ``out_features`` equals ``input_dim``, except the output
        projection inside ``nn.MultiheadAttention`` (which that module never calls).
        """
        return (
            isinstance(module, nn.Linear)
            and module.out_features == config.input_dim
            and not isinstance(parent, nn.MultiheadAttention)
        )

    @classmethod
    def check_target(cls, name: str, module: nn.Module, parent: nn.Module | None, config: AdapterConfig) -> None:
        """Raise AdapterTargetError/AdapterDimensionError if this type cannot wrap ``module``."""
        expected = config.input_dim
        size = out_features_of(module)
        if expected is not None and size is not None and size != expected:
            raise AdapterDimensionError(
                f"input_dim: {config.adapter_type.value} adapter on module {name!r} "
                f"({type(module).__name__}) expects {expected} output features, the module has {size}"
            )
        if expected is None and size is None:
            raise AdapterTargetError(
                f"input_dim: module {name!r} ({type(module).__name__}) has no known output size; "
                f"set input_dim for the {config.adapter_type.value} adapter"
            )
        if parent is not None and isinstance(parent, nn.MultiheadAttention):
            raise AdapterTargetError(
                f"target_modules: module {name!r} belongs to nn.MultiheadAttention, which reads its "
                "weights directly and never calls it; wrap the attention module instead"
            )

    @classmethod
    def for_target(
        cls, name: str, module: nn.Module, config: AdapterConfig, shared: dict[str, nn.Module]
    ) -> BaseAdapter:
        """Build the adapter for ``module`` (``shared`` holds per-set shared parts, such as PHM rules)."""
        return cls(target_config(config, module))

    # --- roles -----------------------------------------------------------------------------

    def apply_delta(self, x: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """Delta role: ``out`` plus this adapter's term computed from the module input ``x``."""
        raise NotImplementedError(f"{type(self).__name__} is not a delta adapter")

    def transform_call(self, module: nn.Module, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        """Call role: the arguments to call the wrapped module with."""
        raise NotImplementedError(f"{type(self).__name__} is not a call adapter")

    def weight_deltas(self, module: nn.Module) -> dict[str, torch.Tensor]:
        """Weight role: the increment (with its graph) to each named parameter of ``module``, as
        ``module.named_parameters()`` names it, added for each call."""
        raise NotImplementedError(f"{type(self).__name__} is not a weight adapter")

    def delta_parameters(self, module: nn.Module) -> dict[str, torch.Tensor]:
        """Mergeable adapters: the increment to each named parameter of ``module``."""
        raise NotImplementedError(f"{type(self).__name__} cannot be merged")

    def can_fuse_linear(self) -> bool:
        """Whether ``fused_linear(base, x)`` can replace ``apply_delta(x, base(x))`` on an nn.Linear."""
        return False

    def fused_linear(self, base: nn.Linear, x: torch.Tensor) -> torch.Tensor:
        """``apply_delta(x, base(x))`` in one fused computation (see ``can_fuse_linear``)."""
        return self.apply_delta(x, base(x))


class SeededByTargetName:
    """Mixin of the built-in adapters whose initialisation mixes the target's name into the seed, so
    that the layers of one set start differently: they are built as ``cls(config, name=name)``."""

    @classmethod
    def for_target(
        cls, name: str, module: nn.Module, config: AdapterConfig, shared: dict[str, nn.Module]
    ) -> BaseAdapter:
        return cls(target_config(config, module), name=name)  # type: ignore[call-arg,return-value]


def check_adapter_class(value: Any) -> type[BaseAdapter]:
    """``value`` if it is an adapter class :class:`AdaptedModule` can run, else ValueError saying why.

    It must subclass :class:`BaseAdapter`, implement the method of its ``role``, and, if it declares
    itself ``mergeable``, be a delta adapter with ``delta_parameters`` (merging folds those into the
    wrapped module).
    """
    if not (isinstance(value, type) and issubclass(value, BaseAdapter)):
        raise ValueError(f"adapter_class: expected a subclass of BaseAdapter, got {value!r}")
    name = value.__name__
    if value.role not in ROLES:
        raise ValueError(f"adapter_class: {name}.role must be one of {list(ROLES)}, got {value.role!r}")
    method = _ROLE_METHODS[value.role]
    if getattr(value, method) is getattr(BaseAdapter, method):
        raise ValueError(f"adapter_class: {name} is a {value.role} adapter but does not implement {method}")
    if value.mergeable:
        # Merging folds a delta adapter's delta_parameters into the wrapped module's own parameters.
        if value.role not in ("delta", "weight"):
            raise ValueError(
                f"adapter_class: {name}.mergeable is True, but only a delta or weight adapter can be merged and "
                f"{name} is a {value.role} adapter; set mergeable = False"
            )
        if value.delta_parameters is BaseAdapter.delta_parameters:
            raise ValueError(
                f"adapter_class: {name}.mergeable is True but {name} does not implement delta_parameters, "
                "the increments merging adds to the wrapped module's parameters; implement it or set mergeable = False"
            )
    return value


def _runs_hooks(module: nn.Module) -> bool:
    """Whether calling ``module`` runs hooks, forward or backward, its own or global ones: the fused
    LoRA path computes with the layer's weights instead of calling it, so it would skip them (a hook
    that records activations or gradients would see nothing)."""
    own = (module._forward_hooks, module._forward_pre_hooks, module._backward_hooks, module._backward_pre_hooks)
    return any(own) or any(_GLOBAL_HOOKS)


def _no_fast_path(module: nn.Module, args: Any) -> None:
    """A no-op hook on an adapted module of an ``nn.TransformerEncoderLayer``: in eval mode the
    layer's fast path reads ``self_attn.in_proj_weight``, ``linear1.weight`` and the others directly
    and never calls them (it would skip the adapters); a hook under the layer turns that path off."""
    return None


def _merge_after_load(module: nn.Module, incompatible_keys: Any) -> None:
    """Merge again, with the loaded weights, the adapters an ``AdaptedModule`` had merged."""
    adapters, module._merge_after_load = module._merge_after_load, ()  # type: ignore[assignment]
    if adapters:
        module.merge(adapters)  # type: ignore[operator]


class AdaptedModule(nn.Module):
    """A module of the base model with adapters injected; behaves like ``base_layer`` when none is active.

    Its settings (``in_features``, ``batch_first``...) read as ``base_layer``'s; its weights and
    methods are ``base_layer``'s own (reading them here raises: code using them directly would
    skip the adapters), except with ``reads_through`` (under torch's transformer layers, whose
    fast-path checks read them and which a hook then keeps on the path that calls this module).

    Arguments:
        base_layer: the original module, kept unchanged (except while LoRA/BitFit are merged into it).
    """

    def __init__(self, base_layer: nn.Module) -> None:
        super().__init__()
        if isinstance(base_layer, AdaptedModule):
            raise TypeError("base_layer: already an AdaptedModule")
        self.base_layer = base_layer
        self.adapters = nn.ModuleDict()
        self.feature_dim = feature_dim_of(base_layer)
        self._calls: tuple[BaseAdapter, ...] = ()
        self._deltas: tuple[BaseAdapter, ...] = ()
        self._sequentials: tuple[BaseAdapter, ...] = ()
        self._weights: tuple[BaseAdapter, ...] = ()
        self._active = False
        # Whether its weights read through to base_layer: set under torch's transformer layers, whose
        # fast-path checks read them (a hook on this module then turns that path off while adapters run).
        self.reads_through = False
        # Held in tuples, never as attributes, so that they are not registered as submodules twice.
        self._fused: tuple[BaseAdapter, ...] = ()
        self._merged: tuple[BaseAdapter, ...] = ()
        self._backup: dict[str, torch.Tensor] = {}
        self._merge_after_load: tuple[BaseAdapter, ...] = ()
        self.register_load_state_dict_post_hook(_merge_after_load)

    # --- bookkeeping -------------------------------------------------------------------------

    def add(self, set_name: str, adapter: BaseAdapter) -> None:
        """Hold ``adapter`` under ``adapters[set_name][type]``; inactive until ``refresh``."""
        group = self.adapters[set_name] if set_name in self.adapters else nn.ModuleDict()
        key = adapter.adapter_type.value
        if key in group:
            raise AdapterStateError(f"adapter_configs: two {key} adapters of set {set_name!r} target the same module")
        group[key] = adapter
        if set_name not in self.adapters:
            self.adapters[set_name] = group

    def remove(self, set_name: str) -> None:
        """Drop every adapter of ``set_name`` held here."""
        if set_name in self.adapters:
            del self.adapters[set_name]

    def held(self) -> Iterable[tuple[str, BaseAdapter]]:
        """(set name, adapter) for every adapter held here."""
        for set_name, group in self.adapters.items():
            for adapter in group.values():
                yield set_name, adapter  # type: ignore[misc]

    def refresh(self, active_sets: Sequence[str], disabled_types: set[AdapterType]) -> None:
        """Recompute which adapters run, in the order of ``active_sets`` then of insertion; those of
        an inactive set or a disabled type, and merged ones, get ``requires_grad=False`` (and no
        gradient), the others ``requires_grad=True``."""
        calls, deltas, sequentials, weights = [], [], [], []
        for set_name, adapter in self.held():
            # Only the adapters that run train: an optimiser over model.parameters() (weight decay,
            # a gradient left from before the switch) would otherwise move a set that is switched off,
            # and a merged adapter's own weights no longer count (a meta-learner would adapt nothing).
            trains = set_name in active_sets and adapter.adapter_type not in disabled_types and adapter not in self._merged
            for p in adapter.parameters():
                p.requires_grad_(trains)
                if not trains:
                    p.grad = None
        for set_name in active_sets:
            if set_name not in self.adapters:
                continue
            for adapter in self.adapters[set_name].values():
                if adapter.adapter_type in disabled_types or adapter in self._merged:
                    continue
                {"call": calls, "delta": deltas, "sequential": sequentials, "weight": weights}[adapter.role].append(adapter)
        self._calls, self._deltas, self._sequentials = tuple(calls), tuple(deltas), tuple(sequentials)
        self._weights = tuple(weights)
        self._active = bool(calls or deltas or sequentials or weights)
        # One LoRA alone on a plain Linear runs as a single fused autograd function.
        only = deltas[0] if len(deltas) == 1 and not calls and not sequentials and not weights else None
        fusable = only is not None and type(self.base_layer) is nn.Linear and only.can_fuse_linear()
        self._fused = (only,) if fusable else ()
        # torch's layer takes its fast path again once nothing runs here (all switched off, or merged)
        guards = [key for key, hook in self._forward_pre_hooks.items() if hook is _no_fast_path]
        if self.reads_through and self._active and not guards:
            self.register_forward_pre_hook(_no_fast_path)
        elif not (self.reads_through and self._active):
            for key in guards:
                del self._forward_pre_hooks[key]

    def running(self) -> tuple[BaseAdapter, ...]:
        """The adapters that run on a call (merged ones do not)."""
        return (*self._calls, *self._weights, *self._deltas, *self._sequentials)

    # --- merging -----------------------------------------------------------------------------

    @property
    def merged(self) -> bool:
        """Whether some adapters are folded into ``base_layer``'s parameters."""
        return bool(self._merged)

    @torch.no_grad()
    def merge(self, adapters: Sequence[BaseAdapter]) -> None:
        """Fold ``adapters`` (mergeable ones) into the base parameters, keeping an exact backup."""
        if self._merged:
            raise AdapterStateError("merge: adapters are already merged; unmerge first")
        params = dict(self.base_layer.named_parameters())  # dotted names too (out_proj.weight)
        deltas: dict[str, torch.Tensor] = {}
        for adapter in adapters:
            for pname, delta in adapter.delta_parameters(self.base_layer).items():
                deltas[pname] = deltas[pname] + delta if pname in deltas else delta
        for pname, delta in deltas.items():
            if not torch.isfinite(delta).all():
                raise AdapterStateError(f"merge: non-finite adapter update for parameter {pname!r}")
        for pname, delta in deltas.items():
            self._backup[pname] = params[pname].detach().clone()
            params[pname].add_(delta.to(params[pname].dtype))
        self._merged = tuple(adapters)

    @torch.no_grad()
    def unmerge(self) -> None:
        """Restore the base parameters exactly as they were before ``merge``."""
        params = dict(self.base_layer.named_parameters())
        for pname, original in self._backup.items():
            params[pname].copy_(original)
        self._backup = {}
        self._merged = ()

    def _apply(self, fn: Any, recurse: bool = True) -> AdaptedModule:
        # The backup is neither parameter nor buffer, so .to(), .double(), .cpu() would pass it by:
        # it follows the weights it stands for, or a state_dict taken while merged would give them in
        # the old dtype, and moving a merged model off an accelerator would leave the copies there.
        super()._apply(fn, recurse)
        self._backup = {pname: fn(original) for pname, original in self._backup.items()}
        return self

    # --- state dict: the base weights as they are unmerged --------------------------------------
    # Merged or not, a module's state is the same: the base weights of its own and the adapters'.
    # A merged state (base weights with the updates folded in, and the adapters) loaded into an
    # unmerged model would apply the updates twice; an unmerged one loaded into a merged model
    # would lose them.

    def state_dict(self, *, destination: Any = None, prefix: str = "", keep_vars: bool = False) -> Any:
        state = super().state_dict(destination=destination, prefix=prefix, keep_vars=keep_vars)
        for pname, original in self._backup.items():
            state[f"{prefix}base_layer.{pname}"] = original if keep_vars else original.detach()
        return state

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        # unmerged before the base layer and the adapters load theirs; merged again after
        if self._merged:
            self._merge_after_load = self._merged
            self.unmerge()
        super()._load_from_state_dict(*args, **kwargs)

    # --- forward -----------------------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if not self._active:
            return self.base_layer(*args, **kwargs)
        if self._fused and len(args) == 1 and not kwargs and not _runs_hooks(self.base_layer):
            return self._fused[0].fused_linear(self.base_layer, args[0])  # type: ignore[operator]
        for adapter in self._calls:
            args, kwargs = adapter.transform_call(self.base_layer, args, kwargs)
        if self._weights:
            params = dict(self.base_layer.named_parameters())
            weights: dict[str, torch.Tensor] = {}
            for adapter in self._weights:
                for pname, delta in adapter.weight_deltas(self.base_layer).items():
                    weights[pname] = weights.get(pname, params[pname]) + delta
            out = functional_call(self.base_layer, weights, args, kwargs)
        else:
            out = self.base_layer(*args, **kwargs)
        if self._deltas:
            x = args[0] if args else next(iter(kwargs.values()))
            for adapter in self._deltas:
                out = adapter.apply_delta(x, out)
        if self._sequentials:
            rest = None
            if isinstance(out, tuple):
                out, rest = out[0], out[1:]
            # An unbatched map (C, H, W) gets a batch dimension, so that an adapter sees one layout
            # whether or not the input was batched (a VisionAdapter mixes positions of (N, H, W, C)).
            unbatched = self.feature_dim < -1 and out.dim() == -self.feature_dim
            if unbatched:
                out = out.unsqueeze(0)
            moved = self.feature_dim != -1 and out.dim() > 1
            if moved:
                out = out.movedim(self.feature_dim, -1)
            for adapter in self._sequentials:
                out = adapter(out)
                if not isinstance(out, torch.Tensor):
                    raise TypeError(
                        f"{type(adapter).__name__}.forward returned {type(out).__name__}; a sequential "
                        "adapter must return the transformed tensor"
                    )
            if moved:
                out = out.movedim(-1, self.feature_dim)
            if unbatched:
                out = out.squeeze(0)
            if rest is not None:
                out = (out, *rest)
        return out

    def __getattr__(self, name: str) -> Any:
        try:
            return super().__getattr__(name)
        except AttributeError:
            base = self.__dict__.get("_modules", {}).get("base_layer")
            if base is None or not hasattr(base, name):
                raise
        value = getattr(base, name)
        if self.__dict__.get("reads_through") or not isinstance(value, (torch.Tensor, nn.Module)) and not callable(value):
            return value  # a setting (in_features, batch_first): what the module is, read as it is
        # code that reads a module's weights instead of calling it would skip its adapters
        raise AttributeError(
            f"{name!r}: this {type(base).__name__} carries adapters, and the AdaptedModule standing in for it keeps "
            f"its weights and methods in base_layer (base_layer.{name}): code that reads them instead of calling the "
            f"module would skip the adapters"
        )

    def extra_repr(self) -> str:
        return f"active={self._active}, merged={self.merged}"
