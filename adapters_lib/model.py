"""AdapterModel: inject adapters into any nn.Module by module-name patterns, and manage them."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog
import torch
from pydantic import BaseModel, ConfigDict, ValidationError
from safetensors.torch import save_file
from torch import nn

from adapters_lib.config import AdapterConfig, AdapterType
from adapters_lib.errors import (
    AdapterDimensionError,
    AdapterKeyError,
    AdapterStateError,
    AdapterTargetError,
)
from adapters_lib.files import as_path, check_finite_to_write, read_json, read_safetensors, write_atomically
from adapters_lib.layers import AdaptedModule, BaseAdapter, MultiModalAdapter, adapter_class
from adapters_lib.peft_format import export_peft, import_peft, load_peft_weights, peft_configs

__all__ = ["AdapterModel", "ParameterReport", "ParameterReportRow", "match_pattern"]

# Quiet by default, as in the rest of the project: events go through the standard-library logger
# "adapters_lib.model", so they go out only when the application enables it; ``_gate`` also skips
# building costly fields when it is off.
_gate = logging.getLogger(__name__)
log = structlog.wrap_logger(_gate)

_SET_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FORMAT = "adapters_lib"
_FORMAT_VERSION = "1"
# Config fields that change no computation of loaded weights: initialisation, training-only
# dropout, and the structure (targets and sizes), which the tensor keys and shapes check.
_NOT_COMPUTED = {"seed", "init_std", "dropout", "target_modules", "input_dim", "hidden_dim", "adapter_class"}


def match_pattern(pattern: str, name: str) -> bool:
    """Whether module ``name`` matches a ``target_modules`` pattern.

    A plain pattern matches the exact dotted name or a dotted suffix of it (``"q"`` matches
    ``"layers.0.attn.q"`` but not ``"layers.0.attn.qk"``); ``"re:<regex>"`` must match the whole name.

    Example:
        >>> match_pattern("attn.q", "layers.0.attn.q"), match_pattern("re:layers\\\\.[01]\\\\.fc", "layers.1.fc")
        (True, True)
    """
    if pattern.startswith("re:"):
        return re.fullmatch(pattern[3:], name) is not None
    return name == pattern or name.endswith("." + pattern)


@dataclass(frozen=True)
class _Site:
    """One module of the base model as the user names it, with every place it physically lives.

    A module shared by several paths (the same block called twice) is one site with several names
    and places: its wrapper is installed at every place, so that its adapters apply wherever it is
    called, as the merged weights would.
    """

    names: tuple[str, ...]  # logical dotted names, wrappers hidden; the first is its canonical name
    module: nn.Module  # the original module
    places: tuple[tuple[nn.Module, str], ...]  # (original parent, attribute) holding it or its wrapper

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def parent(self) -> nn.Module:
        return self.places[0][0]

    def wrapper(self) -> AdaptedModule | None:
        parent, attr = self.places[0]
        current = parent._modules[attr]
        return current if isinstance(current, AdaptedModule) else None

    def install(self, module: nn.Module) -> None:
        """Put ``module`` (a wrapper, or the original back) at every place of this site."""
        for parent, attr in self.places:
            setattr(parent, attr, module)


def _sites(root: nn.Module) -> list[_Site]:
    """Every module below ``root`` under its logical names, looking through AdaptedModule wrappers."""
    found: dict[int, tuple[list[str], nn.Module, list[tuple[nn.Module, str]]]] = {}

    def visit(module: nn.Module, prefix: str, ancestors: frozenset[int]) -> None:
        for attr, child in module._modules.items():
            if child is None:
                continue
            original = child.base_layer if isinstance(child, AdaptedModule) else child
            if id(original) in ancestors:
                continue
            names, _, places = found.setdefault(id(original), ([], original, []))
            name = f"{prefix}.{attr}" if prefix else attr
            names.append(name)
            if not any(parent is module and a == attr for parent, a in places):
                places.append((module, attr))
            visit(original, name, ancestors | {id(original)})

    visit(root, "", frozenset({id(root)}))
    return [_Site(tuple(names), module, tuple(places)) for names, module, places in found.values()]


class ParameterReportRow(BaseModel):
    """Trainable parameters of one adapter type within one adapter set."""

    model_config = ConfigDict(frozen=True)

    adapter_name: str
    adapter_type: AdapterType
    num_modules: int
    num_parameters: int
    share_of_base: float


class ParameterReport(BaseModel):
    """Trainable and total parameters, per adapter and overall; ``str()`` renders a table."""

    model_config = ConfigDict(frozen=True)

    rows: list[ParameterReportRow]
    base_parameters: int
    adapter_parameters: int
    trainable_parameters: int
    total_parameters: int

    def __str__(self) -> str:
        lines = [f"{'adapter':<16}{'type':<12}{'modules':>8}{'params':>12}{'% of base':>11}"]
        for row in self.rows:
            lines.append(
                f"{row.adapter_name:<16}{row.adapter_type.value:<12}{row.num_modules:>8}"
                f"{row.num_parameters:>12}{100 * row.share_of_base:>10.3f}%"
            )
        lines.append(
            f"base {self.base_parameters}, adapters {self.adapter_parameters}, "
            f"trainable {self.trainable_parameters} of {self.total_parameters} "
            f"({100 * self.trainable_parameters / max(1, self.total_parameters):.3f}%)"
        )
        return "\n".join(lines)


def _under_torch_layer(site: _Site, wrapper: AdaptedModule) -> None:
    """Keep torch's encoder fast paths from skipping ``wrapper``: the layer's checks read the
    weights (``self_attn.in_proj_bias`` before the hooks), so they read through, and while adapters
    run a hook turns the layer's path off (``AdaptedModule.refresh``). A wrapped layer reads through
    too: torch's encoder and decoder read their first layer's modules on every call
    (``layers[0].self_attn.batch_first``; the encoder's nested path, off while adapters run, its weights)."""
    if isinstance(site.module, (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)) or any(
        isinstance(parent, nn.TransformerEncoderLayer) for parent, _ in site.places
    ):
        wrapper.reads_through = True


def _implementation(config: AdapterConfig) -> type[BaseAdapter]:
    """The class that a config injects: its own ``adapter_class``, else its type's built-in class."""
    return config.adapter_class if config.adapter_class is not None else adapter_class(config.adapter_type)


def _describe(config: AdapterConfig) -> str:
    """The config's type, with a user's own class named, for messages."""
    kind = config.adapter_type.value
    return kind if config.adapter_class is None else f"{kind}, {config.adapter_class.__name__}"


def _settings(config: AdapterConfig) -> dict[str, str]:
    """Field -> JSON value of the config's fields that change what an adapter's weights compute: its
    class's ``computed_fields`` (a LoRA's activation is none of them), else all but ``_NOT_COMPUTED``."""
    fields = _implementation(config).computed_fields
    dumped = config.model_dump(mode="json", exclude=_NOT_COMPUTED)
    return {field: json.dumps(value) for field, value in dumped.items() if fields is None or field in fields}


def _targets(config: AdapterConfig, sites: Sequence[_Site]) -> list[_Site]:
    """The sites ``config`` targets: those its patterns match, or its type's default rule."""
    cls = _implementation(config)
    if config.target_modules is None:
        return [s for s in sites if cls.matches_default(s.name, s.module, s.parent, config)]
    targets: list[_Site] = []
    for pattern in config.target_modules:
        hits = [s for s in sites if any(match_pattern(pattern, n) for n in s.names)]
        targets.extend(s for s in hits if s not in targets)
    return targets


def _unmatched(configs: Sequence[AdapterConfig], sites: Sequence[_Site]) -> list[str]:
    """Each ``target_modules`` pattern of ``configs`` that matches no module, with its config."""
    return [
        f"{pattern!r} (adapter_configs[{index}], {_describe(config)})"
        for index, config in enumerate(configs)
        for pattern in config.target_modules or ()
        if not any(match_pattern(pattern, n) for s in sites for n in s.names)
    ]


def _check_base_model(base_model: object) -> None:
    """TypeError naming ``base_model`` unless it is an nn.Module and no AdapterModel."""
    if not isinstance(base_model, nn.Module):
        raise TypeError(f"base_model: expected an nn.Module, got {type(base_model).__name__}")
    if isinstance(base_model, AdapterModel):
        raise TypeError("base_model: already an AdapterModel; add sets to it (add_adapter, load_adapters, load_peft)")


def _check_flag(field: str, value: object) -> None:
    # A truthy string such as "no" would otherwise switch the flag on.
    if not isinstance(value, bool):
        raise TypeError(f"{field}: expected True or False, got {value!r}")


def _as_names(value: str | Iterable[str], field: str) -> list[str]:
    """One set name or an iterable of them, as a list; TypeError naming ``field`` otherwise."""
    if isinstance(value, str):
        return [value]
    names = list(value) if isinstance(value, Iterable) else None
    if names is None or not all(isinstance(name, str) for name in names):
        raise TypeError(f"{field}: expected a set name or a sequence of set names, got {value!r}")
    return names


def _check_set_name(adapter_name: object) -> str:
    """A new set's name: an identifier, else ValueError naming the field."""
    if not isinstance(adapter_name, str) or not _SET_NAME_RE.match(adapter_name):
        raise ValueError(f"adapter_name: {adapter_name!r} is not an identifier")
    return adapter_name


def _as_types(types: Iterable[AdapterType | str] | AdapterType | str | None, field: str) -> set[AdapterType]:
    if types is None:
        return set(AdapterType)
    if isinstance(types, (str, AdapterType)):
        types = [types]
    if not isinstance(types, Iterable):
        raise TypeError(f"{field}: expected an adapter type or a sequence of them, got {types!r}")
    out: set[AdapterType] = set()
    for value in types:
        try:
            out.add(AdapterType(value))
        except ValueError:
            raise ValueError(f"{field}: unknown adapter type {value!r}; choose from {[t.value for t in AdapterType]}") from None
    return out


class AdapterModel(nn.Module):
    """A base model with parameter-efficient adapters injected; the base's own parameters frozen.

    Each :class:`AdapterConfig` names its targets by module-name patterns (exact, dotted suffix, or
    ``re:`` regex) or, without ``target_modules``, by its type's default rule (see AdapterConfig).
    Every pattern must match a module, and each matched module must be one the type can wrap;
    otherwise the call raises an error naming every offending pattern and module, and the model is
    left as it was.

    Several named adapter sets can live side by side (:meth:`add_adapter`,
    :meth:`set_active_adapters`); adapter types can be switched on and off
    (:meth:`enable_adapters`, :meth:`disable_adapters`); LoRA and BitFit can be merged into the
    base weights for zero inference overhead (:meth:`merge_adapters`) and unmerged exactly.

    Like any ``nn.Module``, it is not thread-safe: a change of its adapters (adding, activating,
    enabling, merging, :meth:`set_modality`) is made one module at a time, so a forward running in
    another thread meanwhile may see some modules changed and others not. Callers that serve from
    several threads hold one lock around forwards and changes (the experts of ``integrations``
    hold their own).

    Arguments:
        base_model: any ``nn.Module``. It is modified in place (wrappers replace the targets).
        adapter_configs: one config or a sequence of them, forming the first adapter set.
        adapter_name: the first set's name.
        freeze_base: set ``requires_grad=False`` on every base parameter.

    Example:
        >>> base = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 32))
        >>> model = AdapterModel(base, [AdapterConfig(adapter_type=AdapterType.LORA, input_dim=32, lora_r=4)])
        >>> model(torch.randn(5, 32)).shape
        torch.Size([5, 32])
        >>> model.adapter_parameter_names()
        ['base_model.0.adapters.default.lora.lora_A', 'base_model.0.adapters.default.lora.lora_B']
        >>> model.disable_adapters([AdapterType.LORA])
    """

    def __init__(
        self,
        base_model: nn.Module,
        adapter_configs: AdapterConfig | Sequence[AdapterConfig],
        adapter_name: str = "default",
        freeze_base: bool = True,
    ) -> None:
        super().__init__()
        _check_base_model(base_model)
        _check_flag("freeze_base", freeze_base)
        held = next((name for name, m in base_model.named_modules() if isinstance(m, AdaptedModule)), None)
        if held is not None:
            # Two AdapterModels on one base would switch each other's adapters on and off, and
            # unloading one would strip the other's.
            raise AdapterStateError(
                f"base_model: module {held!r} already carries adapters of another AdapterModel; add sets "
                "with that model's add_adapter, or unload() it first"
            )
        self.base_model = base_model
        self._sets: dict[str, tuple[AdapterConfig, ...]] = {}
        self._active_sets: list[str] = []
        self._disabled_types: set[AdapterType] = set()
        self._merged = False
        self._unloaded = False
        self._unnested: list[nn.TransformerEncoder] = []  # encoders whose nested-tensor path was turned off
        self._requires_grad_before = {name: p.requires_grad for name, p in base_model.named_parameters()}
        if freeze_base:
            for p in base_model.parameters():
                p.requires_grad_(False)
        try:
            self.add_adapter(adapter_name, adapter_configs)
        except Exception:
            # A rejected construction leaves the caller's model as it was.
            for name, p in base_model.named_parameters():
                p.requires_grad_(self._requires_grad_before[name])
            raise

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The base model's forward, with the active adapters applied."""
        self._check_loaded("forward")
        return self.base_model(*args, **kwargs)

    # --- adapter sets ------------------------------------------------------------------------

    @property
    def adapter_names(self) -> list[str]:
        """Names of the adapter sets, in the order they were added."""
        return list(self._sets)

    @property
    def active_adapters(self) -> list[str]:
        """Names of the active adapter sets, in the order they apply."""
        return list(self._active_sets)

    @property
    def enabled_types(self) -> list[AdapterType]:
        """Adapter types currently switched on."""
        return [t for t in AdapterType if t not in self._disabled_types]

    @property
    def merged(self) -> bool:
        """Whether LoRA/BitFit adapters are currently merged into the base weights."""
        return self._merged

    def adapter_configs(self, adapter_name: str = "default") -> tuple[AdapterConfig, ...]:
        """The configs of one adapter set."""
        self._check_set(adapter_name)
        return self._sets[adapter_name]

    def add_adapter(
        self, adapter_name: str, adapter_configs: AdapterConfig | Sequence[AdapterConfig], activate: bool = True
    ) -> None:
        """Inject a new adapter set; every target is resolved and checked before anything changes.

        Arguments:
            adapter_name: a new identifier-like name.
            adapter_configs: one config or several; at most one per type may wrap a given module.
            activate: add the set to the active sets.
        """
        self._check_unmerged("add_adapter")
        _check_flag("activate", activate)
        _check_set_name(adapter_name)
        if adapter_name in self._sets:
            raise ValueError(f"adapter_name: a set named {adapter_name!r} exists already")
        # a mapping would give its keys, a string its letters, as "configs"
        if isinstance(adapter_configs, (str, Mapping)) or not isinstance(adapter_configs, (AdapterConfig, Iterable)):
            raise TypeError(f"adapter_configs: expected an AdapterConfig or a sequence of them, got {adapter_configs!r}")
        configs = (adapter_configs,) if isinstance(adapter_configs, AdapterConfig) else tuple(adapter_configs)
        if not configs:
            raise ValueError("adapter_configs: empty")
        for i, config in enumerate(configs):
            if not isinstance(config, AdapterConfig):
                raise TypeError(f"adapter_configs[{i}]: expected an AdapterConfig, got {type(config).__name__}")
        # Checked again: model_copy(update=...) skips validation (the way to set adapter_class on a
        # config), and lora_r=0 then failed with ZeroDivisionError while a negative lora_alpha ran.
        configs = tuple(type(config).model_validate(config.model_dump()) for config in configs)
        plan = self._plan(adapter_name, configs)
        for site, adapter in plan:
            wrapper = site.wrapper()
            if wrapper is None:
                wrapper = AdaptedModule(site.module)
                _under_torch_layer(site, wrapper)
                site.install(wrapper)
            wrapper.add(adapter_name, adapter)
        self._sets[adapter_name] = configs
        if activate:
            self._active_sets.append(adapter_name)
        self._refresh()
        if _gate.isEnabledFor(logging.INFO):
            report = self.parameter_report()
            log.info(
                "adapters_added",
                adapter_name=adapter_name,
                types=[c.adapter_type.value for c in configs],
                modules=len(plan),
                parameters=sum(r.num_parameters for r in report.rows if r.adapter_name == adapter_name),
            )

    def _plan(self, adapter_name: str, configs: Sequence[AdapterConfig]) -> list[tuple[_Site, BaseAdapter]]:
        """Resolve every config's targets and build its adapters, touching nothing of the model."""
        sites = _sites(self.base_model)
        # adapters wrap the modules below the base model, never the model itself
        alone = (
            "" if sites else f"; a base model without submodules ({type(self.base_model).__name__}) is never wrapped "
            "itself: pass it inside a container, e.g. AdapterModel(nn.Sequential(model), ...)"
        )
        chosen: list[tuple[AdapterConfig, list[_Site]]] = []
        for index, config in enumerate(configs):
            targets = _targets(config, sites)
            if config.target_modules is None and not targets:
                raise AdapterTargetError(
                    f"target_modules: adapter_configs[{index}] ({_describe(config)}) gives none, and the default "
                    f"rule ({_implementation(config).default_rule(config)}) matched no module of {type(self.base_model).__name__}{alone}"
                )
            chosen.append((config, targets))
        unmatched = _unmatched(configs, sites)
        if unmatched:
            raise AdapterTargetError(f"target_modules: no module matched {', '.join(unmatched)}{alone}")
        problems: list[str] = []
        for config, targets in chosen:
            cls = _implementation(config)
            for site in targets:
                try:
                    cls.check_target(site.name, site.module, site.parent, config)
                except (AdapterTargetError, AdapterDimensionError) as exc:
                    problems.append(str(exc))
        if problems:
            error = AdapterDimensionError if all(p.startswith("input_dim") for p in problems) else AdapterTargetError
            raise error("; ".join(problems))
        shared: dict[str, nn.Module] = {}
        plan: list[tuple[_Site, BaseAdapter]] = []
        seen: set[tuple[str, AdapterType]] = set()
        for config, targets in chosen:
            cls = _implementation(config)
            for site in targets:
                key = (site.name, config.adapter_type)
                if key in seen:
                    raise AdapterTargetError(
                        f"target_modules: two {config.adapter_type.value} configs of set {adapter_name!r} "
                        f"both target module {site.name!r}"
                    )
                seen.add(key)
                wrapper = site.wrapper()
                if wrapper is not None and adapter_name in wrapper.adapters:
                    raise AdapterStateError(f"adapter_name: module {site.name!r} already holds set {adapter_name!r}")
                try:
                    adapter = cls.for_target(site.name, site.module, config, shared)
                except ValidationError as exc:  # the config, with the target's sizes filled in
                    reason = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
                    raise AdapterDimensionError(f"{reason} (adapter_configs: {_describe(config)} on module {site.name!r})") from None
                reference = next(site.module.parameters(), None)
                if reference is None:
                    # a target without parameters (an activation, an Identity): the model's own
                    # dtype and device, or a float64 or GPU model would meet float32 CPU adapters
                    reference = next(self.base_model.parameters(), None)
                if reference is not None:
                    adapter.to(device=reference.device, dtype=reference.dtype if reference.is_floating_point() else None)
                plan.append((site, adapter))
        return plan

    def delete_adapter(self, adapter_name: str) -> None:
        """Remove an adapter set; modules left without adapters get their original module back."""
        self._check_unmerged("delete_adapter")
        self._check_set(adapter_name)
        for site in _sites(self.base_model):
            wrapper = site.wrapper()
            if wrapper is None:
                continue
            wrapper.remove(adapter_name)
            if len(wrapper.adapters) == 0:
                site.install(wrapper.base_layer)
        del self._sets[adapter_name]
        if adapter_name in self._active_sets:
            self._active_sets.remove(adapter_name)
        self._refresh()

    def set_active_adapters(self, adapter_names: str | Sequence[str]) -> None:
        """Choose which adapter sets apply, and in which order; only their parameters require grad
        (the others' are frozen, their gradients dropped), so an optimiser over all parameters trains
        the active sets alone."""
        self._check_unmerged("set_active_adapters")
        names = _as_names(adapter_names, "adapter_names")
        for name in names:
            self._check_set(name)
        if len(set(names)) != len(names):
            raise ValueError(f"adapter_names: duplicates in {names}")
        self._active_sets = names
        self._refresh()

    def enable_adapters(self, adapter_types: Iterable[AdapterType | str] | AdapterType | str | None = None) -> None:
        """Switch adapter types on (all types when None), in every adapter set."""
        self._check_unmerged("enable_adapters")
        self._disabled_types -= _as_types(adapter_types, "adapter_types")
        self._refresh()

    def disable_adapters(self, adapter_types: Iterable[AdapterType | str] | AdapterType | str | None = None) -> None:
        """Switch adapter types off (all types when None); disabled adapters leave the base output
        exact and are frozen until enabled again."""
        self._check_unmerged("disable_adapters")
        self._disabled_types |= _as_types(adapter_types, "adapter_types")
        self._refresh()

    def set_modality(self, modality: str) -> None:
        """Choose the modality of every injected :class:`MultiModalAdapter`, one adapter after
        another: a forward from another thread meanwhile may mix modalities (see the class's note
        on threads)."""
        self._check_loaded("set_modality")
        adapters = [a for _, _, a in self._held() if isinstance(a, MultiModalAdapter)]
        if not adapters:
            raise AdapterStateError("modality: this model holds no multimodal adapter")
        for adapter in adapters:
            adapter.check_modality(modality)
        for adapter in adapters:
            adapter.set_modality(modality)

    # --- merging -----------------------------------------------------------------------------

    def merge_adapters(self) -> None:
        """Fold every active LoRA and BitFit adapter into the base weights (exact backup kept).

        While merged the merged adapters cost nothing at inference; other active adapters still
        run. Adapter sets and types cannot be changed until :meth:`unmerge_adapters`. A weight tied
        to another module's (an embedding shared with the output head) is refused with
        AdapterStateError: the merge would change both; so is a weight computed by a
        parametrization (``weight_norm``, ``spectral_norm``), which holds no tensor to merge into.
        """
        self._check_unmerged("merge_adapters")
        work = [(w, [a for a in w.running() if a.mergeable]) for w in self._wrappers()]
        work = [(w, adapters) for w, adapters in work if adapters]
        holders = self._parameter_holders()
        module_names = {id(site.wrapper()): site.name for site in _sites(self.base_model)}
        for wrapper, adapters in work:
            own = dict(wrapper.base_layer.named_parameters())  # dotted names too (out_proj.weight)
            for adapter in adapters:
                for pname, delta in adapter.delta_parameters(wrapper.base_layer).items():
                    if not torch.isfinite(delta).all():
                        raise AdapterStateError(f"merge_adapters: non-finite update for {pname!r} of {adapter}")
                    if pname not in own:
                        # weight_norm, spectral_norm...: the layer computes this tensor from others, so
                        # there is no parameter to add the update to
                        raise AdapterStateError(
                            f"merge_adapters: the {pname!r} of module {module_names[id(wrapper)]!r} is computed by a "
                            f"parametrization ({type(wrapper.base_layer).__name__}), not held as a parameter, so the "
                            f"{adapter.adapter_type.value} adapter cannot be merged into it; keep these adapters "
                            "unmerged, or remove the parametrization first (torch.nn.utils.parametrize.remove_parametrizations)"
                        )
                    names = holders.get(id(own[pname]), [])
                    if len(names) > 1:
                        # A tied tensor (say an embedding and its output head) would take the update everywhere.
                        raise AdapterStateError(
                            f"merge_adapters: the {pname!r} a {adapter.adapter_type.value} adapter would merge into "
                            f"is one tensor tied under the names {names}, which would all change; keep these "
                            "adapters unmerged or untie the weights first"
                        )
        for wrapper, adapters in work:
            wrapper.merge(adapters)
        self._merged = True
        self._refresh()
        if _gate.isEnabledFor(logging.INFO):
            log.info("adapters_merged", modules=len(work))

    def unmerge_adapters(self) -> None:
        """Restore the base weights exactly as they were before :meth:`merge_adapters`."""
        self._check_loaded("unmerge_adapters")
        if not self._merged:
            raise AdapterStateError("unmerge_adapters: nothing is merged")
        for wrapper in self._wrappers():
            wrapper.unmerge()
        self._merged = False
        self._refresh()

    def unload(self, merge: bool = False) -> nn.Module:
        """Remove every adapter and return the base model (with LoRA/BitFit folded in if ``merge``).

        With ``merge`` the returned model computes what this one computes, so an adapter that runs
        and cannot be merged (bottleneck, linear, prefix, Compacter, multi-modal) is refused with
        AdapterStateError naming each, and nothing changes: switch its type off
        (:meth:`disable_adapters`) or its set out of the active ones to drop it, or unload without
        ``merge``. The base parameters get back the ``requires_grad`` flags they had before
        wrapping. This AdapterModel cannot be used afterwards: its calls raise AdapterStateError
        (they would wrap the returned model again, unfrozen).
        """
        self._check_loaded("unload")
        _check_flag("merge", merge)
        if merge:
            lost: dict[str, list[str]] = {}
            for site, set_name, adapter in self._held():
                wrapper = site.wrapper()
                runs = any(adapter is a for a in wrapper.running())  # type: ignore[union-attr]
                if runs and not adapter.mergeable:
                    lost.setdefault(f"{_describe(adapter.config)} of set {set_name!r}", []).append(site.name)
            if lost:
                raise AdapterStateError(
                    "unload: merge=True would drop running adapters that cannot be merged into the base weights: "
                    + "; ".join(f"{kind} on {names}" for kind, names in lost.items())
                    + ". Switch those types off (disable_adapters) or their sets out of the active ones first to "
                    "drop them, or unload(merge=False) to drop every adapter"
                )
        if merge and not self._merged:
            self.merge_adapters()
        elif not merge and self._merged:
            self.unmerge_adapters()  # merged for inference earlier: give the base weights back as they were
        for site in _sites(self.base_model):
            wrapper = site.wrapper()
            if wrapper is not None:
                wrapper._backup = {}  # keep the merged weights
                site.install(wrapper.base_layer)
        for name, p in self.base_model.named_parameters():
            p.requires_grad_(self._requires_grad_before.get(name, p.requires_grad))
        for encoder in self._unnested:
            encoder.use_nested_tensor = True
        self._sets, self._active_sets, self._unnested = {}, [], []
        self._unloaded = True
        return self.base_model

    # --- parameters --------------------------------------------------------------------------

    def _parameter_holders(self) -> dict[int, list[str]]:
        """id of each base parameter -> every logical name it has (several for tied weights)."""
        holders: dict[int, list[str]] = {}
        for prefix, module in [("", self.base_model)] + [(site.name + ".", site.module) for site in _sites(self.base_model)]:
            for pname, p in module.named_parameters(recurse=False):
                holders.setdefault(id(p), []).append(prefix + pname)
        return holders

    def _wrappers(self) -> list[AdaptedModule]:
        return [m for m in self.base_model.modules() if isinstance(m, AdaptedModule)]

    def _held(self) -> Iterator[tuple[_Site, str, BaseAdapter]]:
        for site in _sites(self.base_model):
            wrapper = site.wrapper()
            if wrapper is not None:
                for set_name, adapter in wrapper.held():
                    yield site, set_name, adapter

    def _adapter_param_index(self) -> dict[str, tuple[str, AdapterType]]:
        """Every name (aliases of shared tensors included) of an adapter parameter -> (set, type)."""
        index: dict[str, tuple[str, AdapterType]] = {}
        for module_name, module in self.named_modules():
            if isinstance(module, AdaptedModule):
                for set_name, adapter in module.held():
                    prefix = f"{module_name}.adapters.{set_name}.{adapter.adapter_type.value}"
                    for pname, _ in adapter.named_parameters(remove_duplicate=False):
                        index[f"{prefix}.{pname}"] = (set_name, adapter.adapter_type)
        return index

    def adapter_parameter_names(
        self,
        adapter_types: Iterable[AdapterType | str] | AdapterType | str | None = None,
        adapter_names: Iterable[str] | str | None = None,
    ) -> list[str]:
        """Names (as in ``self.named_parameters()``) of the adapter parameters, optionally filtered.

        Pass them to a meta-learner's ``adapt_parameters`` to adapt only the adapters, e.g.
        ``MAML(model, adapt_parameters=model.adapter_parameter_names([AdapterType.LORA]))``.
        """
        types = _as_types(adapter_types, "adapter_types")
        sets = set(self._sets) if adapter_names is None else set(_as_names(adapter_names, "adapter_names"))
        for name in sets:
            self._check_set(name)
        index = self._adapter_param_index()
        return [
            name
            for name, _ in self.named_parameters()
            if name in index and index[name][0] in sets and index[name][1] in types
        ]

    def is_adapter_parameter(self, name: str) -> bool:
        """Whether parameter ``name`` of this model belongs to an adapter (a predicate for MAML)."""
        if not isinstance(name, str):
            raise TypeError(f"name: expected a parameter name (str), got {name!r}")
        return name in self._adapter_param_index()

    def adapter_parameters(
        self,
        adapter_types: Iterable[AdapterType | str] | AdapterType | str | None = None,
        adapter_names: Iterable[str] | str | None = None,
    ) -> list[nn.Parameter]:
        """The adapter parameters, e.g. for an optimiser."""
        wanted = set(self.adapter_parameter_names(adapter_types, adapter_names))
        return [p for name, p in self.named_parameters() if name in wanted]

    def parameter_report(self) -> ParameterReport:
        """Trainable parameters of each adapter type in each set, and the totals."""
        adapter_ids: set[int] = set()
        counts: dict[tuple[str, AdapterType], tuple[set[int], int]] = {}
        for _, set_name, adapter in self._held():
            ids, modules = counts.get((set_name, adapter.adapter_type), (set(), 0))
            for p in adapter.parameters():
                ids.add(id(p))
                adapter_ids.add(id(p))
            counts[(set_name, adapter.adapter_type)] = (ids, modules + 1)
        params = {id(p): p for p in self.parameters()}
        base = sum(p.numel() for i, p in params.items() if i not in adapter_ids)
        rows = [
            ParameterReportRow(
                adapter_name=set_name,
                adapter_type=adapter_type,
                num_modules=modules,
                num_parameters=sum(params[i].numel() for i in ids if i in params),
                share_of_base=sum(params[i].numel() for i in ids if i in params) / max(1, base),
            )
            for (set_name, adapter_type), (ids, modules) in counts.items()
        ]
        return ParameterReport(
            rows=rows,
            base_parameters=base,
            adapter_parameters=sum(p.numel() for i, p in params.items() if i in adapter_ids),
            trainable_parameters=sum(p.numel() for p in params.values() if p.requires_grad),
            total_parameters=sum(p.numel() for p in params.values()),
        )

    # --- adapter-only state ------------------------------------------------------------------

    def _set_tensors(self, adapter_name: str) -> dict[str, nn.Parameter]:
        """Portable key -> parameter for one set: ``<module>.<type>.<param>``, shared tensors once."""
        self._check_set(adapter_name)
        out: dict[str, nn.Parameter] = {}
        seen: set[int] = set()
        for site, set_name, adapter in self._held():
            if set_name != adapter_name:
                continue
            for pname, p in adapter.named_parameters(remove_duplicate=False):
                if id(p) in seen:
                    continue
                seen.add(id(p))
                out[f"{site.name}.{adapter.adapter_type.value}.{pname}"] = p
        return out

    def adapter_state_dict(self, adapter_name: str = "default") -> dict[str, torch.Tensor]:
        """The adapter set's tensors under portable keys (module, type, parameter; no set name)."""
        return {k: p.detach().clone() for k, p in self._set_tensors(adapter_name).items()}

    def load_adapter_state_dict(self, state: dict[str, torch.Tensor], adapter_name: str = "default") -> None:
        """Load tensors from :meth:`adapter_state_dict`; every key and shape is checked before any copy."""
        self._check_unmerged("load_adapter_state_dict")
        self._load_state(state, adapter_name, "state")

    def _load_state(self, state: dict[str, torch.Tensor], adapter_name: str, field: str) -> None:
        """:meth:`load_adapter_state_dict`, its errors naming ``field`` (the argument, or a file's tensors)."""
        params = self._set_tensors(adapter_name)
        if not isinstance(state, Mapping):
            raise TypeError(f"{field}: expected a mapping of key -> tensor, got {type(state).__name__}")
        wrong = [key for key, value in state.items() if not isinstance(key, str) or not isinstance(value, torch.Tensor)]
        if wrong:
            raise TypeError(f"{field}: entries {wrong[:5]!r} are not str -> tensor")
        missing = sorted(set(params) - set(state))
        unexpected = sorted(set(state) - set(params))
        if missing or unexpected:
            raise AdapterKeyError(f"{field}: missing keys {missing[:5]}, unexpected keys {unexpected[:5]} for set {adapter_name!r}")
        for key, p in params.items():
            value = state[key]
            if tuple(value.shape) != tuple(p.shape):
                raise AdapterDimensionError(f"{field}[{key!r}]: shape {tuple(value.shape)}, expected {tuple(p.shape)}")
            if not value.is_floating_point():
                raise TypeError(f"{field}[{key!r}]: dtype {value.dtype}; adapter weights are floating-point tensors")
            if not torch.isfinite(value).all():
                raise ValueError(f"{field}[{key!r}]: non-finite values")
        with torch.no_grad():
            for key, p in params.items():
                p.copy_(state[key])

    def save_adapters(self, path: str | Path, adapter_name: str = "default") -> Path:
        """Save one adapter set (weights, configs, and the active modality of its multi-modal adapters)
        to a ``.safetensors`` file; returns the path.

        The file is written beside ``path`` and moved into place, so a save cut short leaves the
        previous file whole."""
        path = as_path(path, "path")
        if path.is_dir():
            raise IsADirectoryError(f"path: {str(path)!r} is a directory; give the .safetensors file to write")
        state = {k: v.contiguous() for k, v in self.adapter_state_dict(adapter_name).items()}
        check_finite_to_write(state, f"save_adapters: set {adapter_name!r}")
        metadata = {
            "format": _FORMAT,
            "format_version": _FORMAT_VERSION,
            "adapter_name": adapter_name,
            # adapter_class only where set, so that files of built-in types keep their format.
            "configs": json.dumps(
                [c.model_dump(mode="json", exclude=None if c.adapter_class else {"adapter_class"}) for c in self._sets[adapter_name]]
            ),
        }
        # which modality each multi-modal adapter serves by default: not a tensor, so not in ``state``
        modalities = {module: adapter.active_modality for module, adapter in self._multimodal(adapter_name).items()}
        if modalities:
            metadata["modalities"] = json.dumps(modalities)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda tmp: save_file(state, tmp, metadata=metadata))
        return path

    def load_adapters(self, path: str | Path, adapter_name: str | None = None, activate: bool = True) -> str:
        """Load a file written by :meth:`save_adapters`; creates the set if this model lacks it.

        A set the call creates joins the active ones unless ``activate=False``, as with
        :meth:`add_adapter` (the sets active before stay active; choose with
        :meth:`set_active_adapters`). Loading into a set that exists changes its weights only, not
        which sets are active.

        Into a set that exists, the file's configs must agree, on each module, on every setting that
        changes what the weights compute (LoRA's alpha and scaling rule, a bottleneck's activation,
        placement and scaling...), else AdapterStateError names each difference and nothing is loaded.
        Into any set, the file's ``target_modules`` must match modules of this model, else
        AdapterTargetError names the file and the patterns that match none.

        A file of another ``format_version`` than the one this adapters_lib writes is refused,
        naming both, before anything is loaded.

        The active modality of each multi-modal adapter is restored as saved (a file saved before
        it was kept leaves a set that exists as it is, and a new set on its first modality).

        Returns the set's name (``adapter_name``, or the name it was saved under).
        """
        self._check_unmerged("load_adapters")
        _check_flag("activate", activate)
        if adapter_name is not None:
            _check_set_name(adapter_name)
        metadata, state = read_safetensors(as_path(path, "path"))
        if metadata.get("format") != _FORMAT:
            raise ValueError(f"path: {str(path)!r} is not an adapters_lib file (format={metadata.get('format')!r})")
        missing = [key for key in ("adapter_name", "configs") if key not in metadata]
        if missing:
            raise ValueError(f"path: {str(path)!r} lacks the metadata {missing} of an adapters_lib file (damaged?)")
        version = metadata.get("format_version", _FORMAT_VERSION)
        if version != _FORMAT_VERSION:
            # another layout of keys and configs, read as this one's: refused before it is taken for damage or misread
            raise ValueError(
                f"path: {str(path)!r} was saved in format_version {version!r} by another adapters_lib, and this one "
                f"reads {_FORMAT_VERSION!r} only: load it with the version that saved it, or a newer one"
            )
        if adapter_name is None and not _SET_NAME_RE.match(metadata["adapter_name"]):
            raise ValueError(
                f"path: {str(path)!r}, metadata 'adapter_name': {metadata['adapter_name']!r} is not an identifier; "
                "load it under another name (load_adapters(path, adapter_name='new_name'))"
            )
        name = adapter_name if adapter_name is not None else metadata["adapter_name"]
        raw = read_json(metadata["configs"], f"path: {str(path)!r}, metadata 'configs'")
        if not isinstance(raw, list) or not raw or not all(isinstance(c, dict) for c in raw):  # a set has a config
            raise ValueError(f"path: {str(path)!r}, metadata 'configs': expected a list of configs, got {metadata['configs'][:80]!r}")
        saved = []
        for index, c in enumerate(raw):
            try:  # without its adapter_class, which a file cannot hold (a new set of one is refused below)
                saved.append(AdapterConfig.model_validate({k: v for k, v in c.items() if k != "adapter_class"}))
            except ValidationError as exc:
                reason = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors())
                raise ValueError(f"path: {str(path)!r}, metadata 'configs'[{index}] is not a valid config ({reason})") from None
        modalities = read_json(metadata.get("modalities", "{}"), f"path: {str(path)!r}, metadata 'modalities'")
        if not isinstance(modalities, dict):
            raise ValueError(f"path: {str(path)!r}, metadata 'modalities': expected a mapping module -> modality, got {metadata['modalities'][:80]!r}")
        # Configs that name modules this model lacks were not written for it, even where the
        # weight keys match: the file's configs would not describe the set they were loaded into.
        unmatched = _unmatched(saved, _sites(self.base_model))
        if unmatched:
            raise AdapterTargetError(
                f"path: {str(path)!r} holds configs whose target_modules match no module of this model "
                f"({', '.join(unmatched)}); nothing was loaded into set {name!r}"
            )
        if name in self._sets:
            # The weights mean what they meant only under the settings they were trained with
            # (LoRA's alpha, a bottleneck's activation...): a set that differs would compute otherwise.
            differ = self._setting_differences(name, saved)
            if differ:
                raise AdapterStateError(
                    f"path: {str(path)!r} was saved with other settings than set {name!r} here has ({'; '.join(differ)}); "
                    "loaded into it, its weights would compute something else. Load it into a new set "
                    "(load_adapters(path, adapter_name='new_name')) or build the set with the file's configs"
                )
            chosen = self._saved_modalities(name, modalities, path)
            self._load_state(state, name, f"path: {str(path)!r}, tensors")
            for adapter, modality in chosen:
                adapter.set_modality(modality)
            return name
        custom = [c["adapter_class"] for c in raw if c.get("adapter_class")]
        if custom:
            # A file names a class but cannot hold its code; importing whatever a file names would run it.
            raise AdapterStateError(
                f"path: set {name!r} in {str(path)!r} uses the adapter class {custom[0]}, which a file cannot "
                f"recreate; add the set with that class first (add_adapter({name!r}, configs)), then load_adapters "
                "into it"
            )
        self.add_adapter(name, saved, activate=activate)
        try:
            chosen = self._saved_modalities(name, modalities, path)
            self._load_state(state, name, f"path: {str(path)!r}, tensors")
            for adapter, modality in chosen:
                adapter.set_modality(modality)
        except Exception:
            self.delete_adapter(name)
            raise
        return name

    # --- PEFT interoperability ---------------------------------------------------------------

    def export_peft(self, directory: str | Path, adapter_name: str = "default") -> Path:
        """Write the set's LoRA adapters in PEFT's on-disk format; see :mod:`adapters_lib.peft_format`."""
        return export_peft(self, directory, adapter_name)

    def load_peft(self, directory: str | Path, adapter_name: str = "default", activate: bool = True) -> None:
        """Add a set from a PEFT LoRA checkpoint directory, active unless ``activate=False`` (as
        with :meth:`add_adapter`); see :mod:`adapters_lib.peft_format`."""
        import_peft(self, directory, adapter_name, activate)

    @classmethod
    def from_peft(cls, base_model: nn.Module, directory: str | Path, adapter_name: str = "default") -> AdapterModel:
        """Wrap ``base_model`` with the LoRA weights of a PEFT checkpoint directory."""
        model = cls(base_model, peft_configs(base_model, directory), adapter_name=adapter_name)
        try:
            load_peft_weights(model, directory, adapter_name)
        except Exception:
            model.unload()  # a rejected checkpoint leaves the caller's model as it was
            raise
        return model

    # --- helpers -----------------------------------------------------------------------------

    def _refresh(self) -> None:
        for wrapper in self._wrappers():
            wrapper.refresh(self._active_sets, self._disabled_types)
        for encoder in self.base_model.modules():
            if not isinstance(encoder, nn.TransformerEncoder):
                continue
            # Given a padding mask in eval, an nn.TransformerEncoder packs its input as a nested
            # tensor for its layers' fast path, which a layer whose adapters run does not take; its
            # own attribute (what enable_nested_tensor=False sets) keeps it padded while they run.
            runs = any(isinstance(m, AdaptedModule) and m.running() for m in encoder.modules())
            if runs and getattr(encoder, "use_nested_tensor", False):
                encoder.use_nested_tensor = False
                self._unnested.append(encoder)
            elif not runs and any(encoder is e for e in self._unnested):
                encoder.use_nested_tensor = True
                self._unnested = [e for e in self._unnested if e is not encoder]

    def _setting_differences(self, adapter_name: str, saved: Sequence[AdapterConfig]) -> list[str]:
        """Each setting (that changes what the weights compute) that the ``saved`` configs give an
        adapter otherwise than set ``adapter_name`` has it on that module, with the modules: compared
        module by module, as two configs of a type may differ in a setting and target other modules."""
        held = {(site.name, a.adapter_type): a.config for site, set_name, a in self._held() if set_name == adapter_name}
        # a file's own adapter class is not imported: the set's class of the type finds its default targets
        classes = {c.adapter_type: c.adapter_class for c in self._sets[adapter_name] if c.adapter_class is not None}
        sites = _sites(self.base_model)
        differ: dict[str, list[str]] = {}
        for config in saved:
            if config.adapter_type in classes:
                config = config.model_copy(update={"adapter_class": classes[config.adapter_type]})
            for site in _targets(config, sites):
                here = held.get((site.name, config.adapter_type))
                if here is None:
                    continue  # the key check names an adapter the set lacks
                file_values, set_values = _settings(config), _settings(here)
                for field, value in file_values.items():
                    if value != set_values[field]:
                        kind = config.adapter_type.value
                        differ.setdefault(f"{kind} {field}: file {value}, set {set_values[field]}", []).append(site.name)
        return [f"{difference} on {modules}" for difference, modules in differ.items()]

    def _multimodal(self, adapter_name: str) -> dict[str, MultiModalAdapter]:
        """Module name -> the multi-modal adapter of set ``adapter_name`` on it."""
        return {site.name: a for site, set_name, a in self._held() if set_name == adapter_name and isinstance(a, MultiModalAdapter)}

    def _saved_modalities(self, adapter_name: str, modalities: dict[str, Any], path: str | Path) -> list[tuple[MultiModalAdapter, str]]:
        """Each multi-modal adapter of the set with the modality a file saved for it, all checked
        before any is set; ValueError naming the entry that this set has no such adapter or modality for."""
        held = self._multimodal(adapter_name)
        chosen = []
        for module, modality in modalities.items():
            adapter = held.get(module)
            if adapter is None or not isinstance(modality, str) or modality not in adapter.adapters:
                known = list(adapter.adapters) if adapter is not None else "no multimodal adapter there"
                raise ValueError(f"path: {str(path)!r}, metadata 'modalities'[{module!r}]: {modality!r} is not a modality "
                                 f"of set {adapter_name!r} on that module ({known})")
            chosen.append((adapter, modality))
        return chosen

    def _check_set(self, adapter_name: str) -> None:
        if not isinstance(adapter_name, str) or adapter_name not in self._sets:
            raise AdapterKeyError(f"adapter_name: unknown set {adapter_name!r}; known {list(self._sets)}")

    def _check_loaded(self, operation: str) -> None:
        if self._unloaded:
            raise AdapterStateError(
                f"{operation}: this AdapterModel was unloaded and gave its base model back; wrap the base "
                "model again (AdapterModel(base_model, configs)) to use adapters on it"
            )

    def _check_unmerged(self, operation: str) -> None:
        self._check_loaded(operation)
        if self._merged:
            raise AdapterStateError(f"{operation}: adapters are merged into the base weights; call unmerge_adapters() first")
