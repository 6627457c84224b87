"""Checkpoints through safetensors: tensors in the file, everything else as JSON metadata. No pickle.

``save_checkpoint(path, module)`` stores a module's ``state_dict`` (a meta-learner is a module, so
its model and meta-learned extras such as MetaSGD's learning rates are included), optionally an
optimiser's state, and a JSON-serialisable ``metadata`` dict. ``load_checkpoint`` restores them
in place.

Example:
    >>> import tempfile, torch
    >>> from torch import nn
    >>> from meta.checkpoint import save_checkpoint, load_checkpoint
    >>> net = nn.Linear(2, 1)
    >>> path = tempfile.mkdtemp() + "/net.safetensors"
    >>> save_checkpoint(path, net, metadata={"step": 3})
    >>> other = nn.Linear(2, 1)
    >>> load_checkpoint(path, other)["step"]
    3
    >>> torch.equal(other.weight, net.weight)
    True
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

_MODEL = "model."
_OPTIM = "optim."


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{_OPTIM}{index}.{key}"] = value.detach().clone().contiguous()
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def save_checkpoint(
    path: str | Path,
    module: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Write ``module``'s state (and ``optimizer``'s, and ``metadata``) to a safetensors file.

    ``metadata`` must be JSON-serialisable (a TypeError names the offending value otherwise).
    """
    tensors = {
        _MODEL + k: v.detach().clone().contiguous() for k, v in module.state_dict().items()
    }  # clone: safetensors refuses tensors that share storage (tied weights, views)
    meta: dict[str, str] = {"format": "meta-checkpoint-v1"}
    if optimizer is not None:
        opt_tensors, opt_meta = _optimizer_tensors(optimizer)
        tensors.update(opt_tensors)
        meta["optimizer"] = json.dumps(opt_meta)
    try:
        meta["user"] = json.dumps(metadata or {})
    except TypeError as exc:
        raise TypeError(f"metadata must be JSON-serialisable: {exc}") from exc
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata=meta)


def load_checkpoint(
    path: str | Path,
    module: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    strict: bool = True,
) -> dict[str, Any]:
    """Restore ``module`` (and ``optimizer``) from ``path`` in place; return the user metadata.

    Tensors are loaded onto the module's device. With ``strict`` a missing or unexpected key raises
    KeyError naming it, and nothing is changed.
    """
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata() or {}
    if meta.get("format") != "meta-checkpoint-v1":
        raise ValueError(f"{str(path)!r} is not a meta checkpoint (format={meta.get('format')!r})")
    device = next((t.device for t in module.state_dict().values()), torch.device("cpu"))
    tensors = load_file(str(path), device=str(device))
    model_state = {k[len(_MODEL) :]: v for k, v in tensors.items() if k.startswith(_MODEL)}
    expected = set(module.state_dict())
    if strict and set(model_state) != expected:
        missing = sorted(expected - set(model_state))
        extra = sorted(set(model_state) - expected)
        raise KeyError(f"checkpoint {str(path)!r} does not fit the module: missing {missing[:5]}, unexpected {extra[:5]}")
    if optimizer is not None and "optimizer" not in meta:
        raise KeyError(f"checkpoint {str(path)!r} holds no optimizer state")
    module.load_state_dict(model_state, strict=strict)
    if optimizer is not None:
        opt_meta = json.loads(meta["optimizer"])
        state: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            if key.startswith(_OPTIM):
                index, name = key[len(_OPTIM) :].split(".", 1)
                state.setdefault(int(index), {})[name] = value
        for index, scalars in opt_meta["scalars"].items():
            state.setdefault(int(index), {}).update(scalars)
        optimizer.load_state_dict({"state": state, "param_groups": opt_meta["param_groups"]})
    return json.loads(meta.get("user", "{}"))
