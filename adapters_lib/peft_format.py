"""LoRA weights in PEFT's on-disk format, both ways.

A PEFT LoRA checkpoint is a directory with ``adapter_config.json`` (``peft_type: "LORA"``, ``r``,
``lora_alpha``, ``target_modules``, ``rank_pattern``, ``alpha_pattern``, ...) and
``adapter_model.safetensors`` whose keys are ``base_model.model.<module>.lora_A.weight`` and
``...lora_B.weight`` (``...lora_embedding_A`` and ``...lora_embedding_B`` for an ``nn.Embedding``),
with the same tensor shapes as ours. Exports name their targets with an
anchored regex, so PEFT wraps exactly the modules we wrapped, never a module that merely shares a
name suffix. A module registered at several places (one layer called twice) is refused both
ways: we adapt it at every place, PEFT at its first only. So is exporting LoRA on a dilated
convolution: PEFT builds its ``lora_A`` without the layer's dilation, so it cannot run that update;
or on a convolution whose ``padding_mode`` is not ``"zeros"``: PEFT's ``lora_A`` pads with zeros.
LoRA on an ``nn.MultiheadAttention`` is refused both ways: PEFT keeps its ``out_proj`` update in
a layer of its own, which this format does not carry. A checkpoint initialised with PiSSA, OLoRA,
CorDA or LoftQ (``init_lora_weights``) is refused on import: PEFT loads it onto base weights that
the initialisation changes.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from pydantic import ValidationError
from safetensors.torch import save_file
from torch import nn

from adapters_lib.config import AdapterConfig, AdapterType
from adapters_lib.errors import AdapterDimensionError, AdapterKeyError, AdapterStateError
from adapters_lib.files import as_path, check_finite_to_write, read_json, read_safetensors, write_together
from adapters_lib.layers import LoRAAdapter

if TYPE_CHECKING:
    from adapters_lib.model import AdapterModel, _Site

__all__ = ["export_peft", "import_peft", "peft_configs", "load_peft_weights", "CONFIG_NAME", "WEIGHTS_NAME"]

CONFIG_NAME = "adapter_config.json"
WEIGHTS_NAME = "adapter_model.safetensors"
_PREFIX = "base_model.model."
# PEFT also saves the whole weight of a targeted embedding (its save_embedding_layers="auto").
_BASE_RE = re.compile(r"^base_model\.model\.(?P<module>.+)\.base_layer\.weight$")
#: AdapterConfig's fields as a PEFT checkpoint names them (the rank is its lora_A weights').
_PEFT_FIELDS = {"lora_r": "r (the rank of lora_A)", "lora_alpha": "lora_alpha", "use_rslora": "use_rslora", "dropout": "lora_dropout"}
#: ``init_lora_weights`` of PEFT (case aside) that change the base weights the adapters are added to.
_BASE_CHANGING_INITS = ("pissa", "corda", "olora", "loftq")
_KEY_RE = re.compile(r"^base_model\.model\.(?P<module>.+)\.lora_(?:(?P<part>[AB])\.weight|embedding_(?P<embedding_part>[AB]))$")


def _lora_adapters(model: AdapterModel, adapter_name: str) -> list[tuple[str, LoRAAdapter]]:
    configs = model.adapter_configs(adapter_name)
    others = sorted({c.adapter_type.value for c in configs if c.adapter_type is not AdapterType.LORA})
    # A user's own class typed LORA is not LoRA's weights either.
    others += sorted(
        {f"{c.adapter_class.__name__} ({c.adapter_type.value})" for c in configs
         if c.adapter_class is not None and not issubclass(c.adapter_class, LoRAAdapter)}
    )
    if others:
        raise AdapterStateError(
            f"adapter_name: set {adapter_name!r} also holds {others} adapters, which PEFT's LoRA format cannot "
            "carry; put the LoRA configs in a set of their own"
        )
    held = [(site, adapter) for site, set_name, adapter in model._held() if set_name == adapter_name and isinstance(adapter, LoRAAdapter)]
    _check_single_place([site for site, _ in held])
    return [(site.name, adapter) for site, adapter in held]


def _check_single_place(sites: list[_Site]) -> None:
    """AdapterStateError for a module registered at several places (one layer called twice): we
    adapt it at every place, PEFT at its first only, so the two would compute different outputs."""
    shared = [list(site.names) for site in sites if len(site.places) > 1]
    if shared:
        raise AdapterStateError(
            f"target_modules: modules registered at several places {shared[:5]} have LoRA at each place here, "
            "but PEFT would adapt only the first; its format cannot carry them"
        )


def export_peft(model: AdapterModel, directory: str | Path, adapter_name: str = "default") -> Path:
    """Write one LoRA adapter set as a PEFT checkpoint directory; returns the directory.

    ``peft.PeftModel.from_pretrained(base_model, directory)`` then reproduces our outputs.

    Both files are written in full under temporary names in ``directory`` before either replaces
    the one it updates (a rename each, atomic on POSIX): an export that fails or is killed while
    writing leaves the previous checkpoint whole, never new weights beside an old config. Only a
    crash in the instant between the two renames could (POSIX has no rename of two names at once).

    Example:
        >>> import tempfile
        >>> from adapters_lib import AdapterModel
        >>> model = AdapterModel(nn.Sequential(nn.Linear(8, 8)), AdapterConfig(adapter_type="lora", input_dim=8, lora_r=2))
        >>> out = export_peft(model, tempfile.mkdtemp())
        >>> sorted(p.name for p in out.iterdir())
        ['adapter_config.json', 'adapter_model.safetensors']
    """
    loras = _lora_adapters(model, adapter_name)
    dilated = [name for name, a in loras if a.conv is not None and any(d != 1 for d in a.conv["dilation"])]
    if dilated:
        # PEFT's lora_A convolves without dilation: its update's output would not even have the layer's shape.
        raise AdapterStateError(
            f"target_modules: LoRA on the dilated convolutions {dilated[:5]} cannot be exported: PEFT builds "
            "lora_A without the layer's dilation, so it could not run these adapters; keep them in our format "
            "(save_adapters)"
        )
    padded = [name for name, a in loras if a.conv is not None and a.conv.get("padding_mode", "zeros") != "zeros"]
    if padded:
        # PEFT's lora_A pads with zeros whatever the layer's padding_mode: it would compute another update.
        raise AdapterStateError(
            f"target_modules: LoRA on the convolutions {padded[:5]}, whose padding_mode is not 'zeros', cannot be "
            "exported: PEFT's lora_A pads with zeros, so it would compute other updates near the borders; keep them "
            "in our format (save_adapters)"
        )
    attention = [name for name, a in loras if a.attention]
    if attention:
        raise AdapterStateError(
            f"target_modules: LoRA on the attention modules {attention[:5]} cannot be exported: PEFT keeps an "
            "nn.MultiheadAttention's out_proj update in a layer of its own, which this format does not carry; keep "
            "them in our format (save_adapters)"
        )
    configs = model.adapter_configs(adapter_name)
    for field in ("use_rslora", "dropout"):
        values = {getattr(c, field) for c in configs}
        if len(values) > 1:
            raise AdapterStateError(f"{field}: PEFT holds one value per adapter; set {adapter_name!r} mixes {sorted(values)}")
    ranks = Counter(a.r for _, a in loras)
    r = ranks.most_common(1)[0][0]
    alphas = Counter(a.config.lora_alpha for _, a in loras)
    alpha = alphas.most_common(1)[0][0]
    # '^' makes a pattern match the whole name under PEFT's r"(.*\.)?(key)$" lookup.
    rank_pattern = {"^" + re.escape(name): a.r for name, a in loras if a.r != r}
    alpha_pattern = {"^" + re.escape(name): a.config.lora_alpha for name, a in loras if a.config.lora_alpha != alpha}
    config: dict[str, Any] = {
        "peft_type": "LORA",
        "task_type": None,
        "base_model_name_or_path": None,
        "inference_mode": True,
        "r": r,
        "lora_alpha": alpha,
        "lora_dropout": configs[0].dropout,
        "use_rslora": configs[0].use_rslora,
        "target_modules": "^(?:" + "|".join(re.escape(name) for name, _ in loras) + ")$",
        "rank_pattern": rank_pattern,
        "alpha_pattern": alpha_pattern,
        "bias": "none",
        "fan_in_fan_out": False,
        "modules_to_save": None,
        "init_lora_weights": True,
        "use_dora": False,
        "lora_bias": False,
    }
    state: dict[str, torch.Tensor] = {}
    for name, adapter in loras:
        a_key, b_key = ("lora_embedding_A", "lora_embedding_B") if adapter.embedding is not None else ("lora_A.weight", "lora_B.weight")
        state[f"{_PREFIX}{name}.{a_key}"] = adapter.lora_A.detach().contiguous().clone()
        state[f"{_PREFIX}{name}.{b_key}"] = adapter.lora_B.detach().contiguous().clone()
    check_finite_to_write(state, f"export_peft: set {adapter_name!r}")
    out = as_path(directory, "directory")
    if out.exists() and not out.is_dir():  # mkdir said only "File exists"
        raise NotADirectoryError(f"directory: {str(out)!r} is a file; a PEFT checkpoint is a folder ({CONFIG_NAME}, {WEIGHTS_NAME})")
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(config, indent=2)
    # both written in full before either replaces its predecessor: new weights never meet an old config
    write_together({
        out / WEIGHTS_NAME: lambda tmp: save_file(state, tmp, metadata={"format": "pt"}),
        out / CONFIG_NAME: lambda tmp: Path(tmp).write_text(text),
    })
    return out


def _read(directory: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    path = as_path(directory, "directory")
    config_path, weights_path = path / CONFIG_NAME, path / WEIGHTS_NAME
    for file in (config_path, weights_path):
        if not file.is_file():
            raise FileNotFoundError(f"directory: {str(path)!r} has no {file.name}")
    config = read_json(config_path.read_text(), f"directory: {str(config_path)!r}")
    if not isinstance(config, dict):
        raise ValueError(f"directory: {str(config_path)!r} holds {type(config).__name__}, not a PEFT config object")
    if config.get("peft_type") != "LORA":
        raise ValueError(f"peft_type: only LORA checkpoints can be imported, got {config.get('peft_type')!r}")
    rejected = {
        "use_dora": (False, None),
        "fan_in_fan_out": (False, None),
        "bias": ("none", None),
        "lora_bias": (False, None),
        "modules_to_save": (None,),
        "layer_replication": (None,),
        "trainable_token_indices": (None,),
        # LoRA variants whose forward is not W x + s B A x: activated LoRA (only after its invocation
        # tokens), block-diagonal, Monte Carlo, Arrow routing, KaSA; and LoRA on bare parameters
        "alora_invocation_tokens": (None,),
        "use_bdlora": (None, False),
        "monteclora_config": (None,),
        "arrow_config": (None,),
        "kasa_config": (None,),
        "target_parameters": (None, []),
    }
    for field, accepted in rejected.items():
        if config.get(field) not in accepted:
            raise ValueError(f"{field}: {config.get(field)!r} is not supported by adapters_lib's LoRA import")
    init = config.get("init_lora_weights")
    if isinstance(init, str) and init.lower().startswith(_BASE_CHANGING_INITS):
        # PEFT runs these again when it loads the checkpoint: they subtract the initial update from
        # the base weights, and the saved A and B are relative to what is left
        raise ValueError(
            f"init_lora_weights: {init!r} is not supported by adapters_lib's LoRA import: PEFT loads these adapters "
            "onto base weights that this initialisation changes, which the import leaves as they are; convert the "
            "checkpoint to plain LoRA in PEFT first (save_pretrained's path_initial_model_for_weight_conversion)"
        )
    return config, read_safetensors(weights_path)[1]


def _pattern_value(field: str, patterns: Any, name: str, default: Any) -> Any:
    """PEFT's own lookup in the checkpoint's ``field`` (``alpha_pattern``): the value of the first
    key k whose ``(.*\\.)?(k)$`` matches ``name``, else ``default``; a ValueError naming ``field`` where
    it is no mapping of regexes (it failed with an AttributeError or re.error)."""
    if not isinstance(patterns, dict):
        raise ValueError(f"{field}: expected a mapping of module regex -> value, got {patterns!r}")
    for key, value in patterns.items():
        try:
            re.compile(key)  # alone, for the error's position to be the key's
        except re.error as exc:
            raise ValueError(f"{field}: {key!r} is not a valid regex ({exc})") from None
        if re.match(rf"(.*\.)?({key})$", name):
            return value
    return default


def _modules(weights: dict[str, torch.Tensor]) -> dict[str, dict[str, str]]:
    """module -> "A" and "B" -> the checkpoint's key of that LoRA weight (kept for messages)."""
    modules: dict[str, dict[str, str]] = {}
    for key, tensor in weights.items():
        if _BASE_RE.match(key):
            continue  # a whole base weight, checked by peft_configs
        match = _KEY_RE.match(key)
        if match is None:
            raise AdapterKeyError(f"state: unsupported key {key!r} in a PEFT LoRA checkpoint")
        # Embedding and Linear/Conv2d keys carry the same shapes as ours; the target's kind decides.
        modules.setdefault(match["module"], {})[match["part"] or match["embedding_part"]] = key
    for module, parts in modules.items():
        if set(parts) != {"A", "B"}:
            (part, key), = parts.items()
            # named as its partner is: "lora_B.weight", or "lora_embedding_B" for an embedding
            present = key[len(f"{_PREFIX}{module}."):]
            raise AdapterKeyError(f"state: module {module!r} lacks {present.replace(part, 'B' if part == 'A' else 'A')}")
    return modules


def peft_configs(base_model: nn.Module, directory: str | Path) -> list[AdapterConfig]:
    """AdapterConfigs reproducing a PEFT LoRA checkpoint: one per (rank, alpha), exact targets.

    ``base_model`` is not modified; it is only used to check the checkpoint's module names.
    """
    from adapters_lib.model import _check_base_model, _sites  # model imports this module; import back only when called

    _check_base_model(base_model)  # before the checkpoint is matched against its modules
    config, weights = _read(directory)
    modules = _modules(weights)
    if not modules:  # no set to add: AdapterModel would say "adapter_configs: empty", naming nothing of the file
        raise AdapterKeyError(
            f"state: {str(as_path(directory, 'directory') / WEIGHTS_NAME)!r} holds no LoRA weights "
            f"(keys {sorted(weights)[:5]}), so there is no adapter to import"
        )
    known = {site.name: site for site in _sites(base_model)}
    missing = sorted(set(modules) - set(known))
    if missing:
        raise AdapterKeyError(f"target_modules: the checkpoint adapts {missing}, which {type(base_model).__name__} lacks")
    _check_single_place([known[name] for name in modules])
    padded = sorted(name for name in modules if getattr(known[name].module, "padding_mode", "zeros") != "zeros")
    if padded:
        # PEFT computed these updates with a lora_A padded with zeros; ours pads as the layer does.
        raise AdapterStateError(
            f"target_modules: the checkpoint adapts the convolutions {padded[:5]}, whose padding_mode is not 'zeros': "
            "PEFT's lora_A pads them with zeros, which adapters_lib's LoRA (padding as the layer does) would not reproduce"
        )
    attention = sorted(name for name in modules if isinstance(known[name].module, nn.MultiheadAttention))
    if attention:
        raise AdapterStateError(
            f"target_modules: the checkpoint adapts the attention modules {attention[:5]}, whose LoRA PEFT keeps in "
            "layers of its own that this format does not carry"
        )
    for name, parts in modules.items():
        # lora_A and lora_B have the dimensions of the layer's weight (conv kernels included): the rank
        # is read from lora_A's first axis, which a tensor of other dimensions does not have
        weight = getattr(known[name].module, "weight", None)
        for key in parts.values():
            if isinstance(weight, torch.Tensor) and weights[key].dim() != weight.dim():
                raise AdapterDimensionError(
                    f"state: {key!r} has shape {tuple(weights[key].shape)}, expected a {weight.dim()}-D tensor "
                    f"for the LoRA on {name!r} ({type(known[name].module).__name__})"
                )
    for key, tensor in weights.items():
        base = _BASE_RE.match(key)
        if base is None:
            continue
        site = known.get(base["module"])
        weight = getattr(site.module, "weight", None) if site is not None else None
        same = isinstance(weight, torch.Tensor) and weight.shape == tensor.shape and torch.equal(weight.detach(), tensor.to(weight.dtype))
        if not same:
            raise AdapterKeyError(
                f"state: {key!r} is a whole weight of {base['module']!r} that differs from the model's (a resized "
                "vocabulary?); only LoRA weights are loaded, so put that weight into the base model first"
            )
    # lora_embedding_* keys are PEFT's for an nn.Embedding only; shapes alone could fit another kind.
    embedded = {m["module"] for m in map(_KEY_RE.match, weights) if m is not None and m["embedding_part"]}
    misfit = sorted(name for name in modules if (name in embedded) != isinstance(known[name].module, nn.Embedding))
    if misfit:
        raise AdapterKeyError(
            f"state: the checkpoint's keys for {misfit} are those of "
            f"{'an ' if misfit[0] in embedded else 'a non-'}Embedding LoRA, which does not fit the module there"
        )
    groups: dict[tuple[int, float], list[str]] = {}
    for name, parts in modules.items():
        r = int(weights[parts["A"]].shape[0])
        alpha = _pattern_value("alpha_pattern", config.get("alpha_pattern") or {}, name, config.get("lora_alpha", 8))
        groups.setdefault((r, alpha), []).append(name)
    # the file's values as they are: AdapterConfig refuses a wrong kind, where bool("false") would
    # have switched rsLoRA on and float(True) made an alpha of 1
    configs = []
    for (r, alpha), names in groups.items():
        try:
            configs.append(AdapterConfig(
                adapter_type=AdapterType.LORA,
                lora_r=r,
                lora_alpha=alpha,
                use_rslora=config.get("use_rslora", False),
                dropout=config.get("lora_dropout", 0.0),
                target_modules=tuple("re:" + re.escape(name) for name in names),
            ))
        except ValidationError as exc:
            # named as the checkpoint names it: its config has no "dropout", nor "lora_r"
            error = exc.errors()[0]
            reason = error["msg"].removeprefix("Value error, ")
            if error["loc"]:
                ours, reason = str(error["loc"][0]), f"{reason}, got {error['input']!r}"
            else:  # a check of the whole config, whose message starts with the field: "dropout: expected a number..."
                ours, _, reason = reason.partition(": ")
            raise ValueError(
                f"{_PEFT_FIELDS.get(ours, ours)}: {reason} (for modules {names[:5]}) in {str(as_path(directory, 'directory'))!r}"
            ) from None
    return configs


def load_peft_weights(model: AdapterModel, directory: str | Path, adapter_name: str = "default") -> None:
    """Copy a PEFT checkpoint's LoRA tensors into the matching LoRA adapters of one set."""
    _, weights = _read(directory)
    params = model._set_tensors(adapter_name)
    state = {}
    for name, parts in _modules(weights).items():
        for part, key in parts.items():
            ours = f"{name}.lora.lora_{part}"
            # checked here, not by load_adapter_state_dict, to name the checkpoint's key, not ours
            if ours in params and weights[key].shape != params[ours].shape:
                raise AdapterDimensionError(
                    f"state: {key!r} has shape {tuple(weights[key].shape)}, expected {tuple(params[ours].shape)} "
                    f"for the LoRA on {name!r} of set {adapter_name!r}"
                )
            state[ours] = weights[key]
    model.load_adapter_state_dict(state, adapter_name)


def import_peft(model: AdapterModel, directory: str | Path, adapter_name: str = "default", activate: bool = True) -> None:
    """Add set ``adapter_name`` to ``model`` from a PEFT LoRA checkpoint directory; it joins the
    active sets unless ``activate=False``, as with ``AdapterModel.add_adapter``."""
    configs = peft_configs(model.base_model, directory)
    model.add_adapter(adapter_name, configs, activate=activate)
    try:
        load_peft_weights(model, directory, adapter_name)
    except Exception:
        model.delete_adapter(adapter_name)
        raise
