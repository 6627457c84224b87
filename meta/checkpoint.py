"""Checkpoints through safetensors: tensors in the file, everything else as JSON metadata. No pickle.

``save_checkpoint(path, module)`` stores a module's ``state_dict`` (a meta-learner is a module, so
its model and meta-learned extras such as MetaSGD's learning rates are included), optionally an
optimiser's state, a JSON-serialisable ``metadata`` dict, and torch's global random state (see
:func:`rng_state`). ``load_checkpoint`` restores module and optimiser in place, and the random state
with ``restore_rng=True``: a resumed run then draws what the uninterrupted one would have (dropout
masks, the caller's ``torch.randn``). The learners' ``load`` is a resume and restores it; loading
weights alone leaves the process's random stream as it is.

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
import reprlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn.parameter import is_lazy

from meta._checks import check_flag, check_path, same_setting

_MODEL = "model."
_OPTIM = "optim."
_RNG = "rng."
_OPTIM_LISTS = "optim-lists."  # the tensors of list values (LBFGS's history), apart from the "optim." ones


def _check_optimizer(optimizer: Any) -> None:
    """TypeError naming ``optimizer`` unless it is None or a ``torch.optim.Optimizer``, whose state
    dict's layout a checkpoint stores (an ``AdaptiveOptimizer`` failed with KeyError 'state')."""
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer: expected a torch.optim.Optimizer, got {type(optimizer).__name__}; an object with a "
            "state_dict of its own (AdaptiveOptimizer) is saved with meta.checkpoint.save_state"
        )


def _optimizer_tensors(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    state = optimizer.state_dict()
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    lists: dict[str, dict[str, Any]] = {}
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{_OPTIM}{index}.{key}"] = value.detach().clone().contiguous()
            elif isinstance(value, (list, tuple)):
                lists.setdefault(str(index), {})[key] = _pack(value, tensors, f"optimizer: state {key!r}", _OPTIM_LISTS)
            else:
                scalars.setdefault(str(index), {})[key] = value
    meta = {"class": type(optimizer).__name__, "param_groups": state["param_groups"], "scalars": scalars}
    return tensors, {**meta, "lists": lists} if lists else meta


def _optimizer_number(value: Any) -> Any:
    """A numpy number or a one-element tensor among an optimiser's settings (``lr=np.float32(1e-3)``,
    a tensor ``lr``, which torch allows) as the Python number JSON can hold; else a TypeError
    naming the optimiser and the value's kind (not its contents, which may be a whole tensor)."""
    if isinstance(value, np.generic) or (isinstance(value, torch.Tensor) and value.numel() == 1):
        return value.item()
    kind = f"a tensor of shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else type(value).__name__
    raise TypeError(f"optimizer: its state holds {kind}, which a checkpoint cannot store")


def rng_state() -> dict[str, torch.Tensor]:
    """torch's global random state: the CPU generator's (``"cpu"``) and, once this process has used
    CUDA, each device's (``"cuda.0"``, ...). Learners' own generators are not in it: they save
    themselves. Numpy's and Python's ``random`` are not either (the meta core draws from neither).

    Example:
        >>> state = rng_state()
        >>> a = torch.rand(2)
        >>> set_rng_state(state, "example")
        >>> torch.equal(torch.rand(2), a)
        True
    """
    state = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state.update({f"cuda.{i}": s for i, s in enumerate(torch.cuda.get_rng_state_all())})
    return state


def set_rng_state(state: dict[str, torch.Tensor], where: str) -> None:
    """Put torch's global random state back to ``state`` (from :func:`rng_state`); the states of CUDA
    devices that this process lacks are skipped. A value that is no generator's state raises
    ValueError naming ``where`` and the key, before any generator changes."""
    _rng_setter(state, where)()


def _rng_setter(state: dict[str, torch.Tensor], where: str) -> Callable[[], None]:
    """What puts ``state`` in place, once checked (see :func:`set_rng_state`): a loader checks
    everything before it changes anything."""
    chosen: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key == "cpu":
            expected = torch.get_rng_state()
        elif key.startswith("cuda.") and key[5:].isdigit():
            if not (torch.cuda.is_available() and int(key[5:]) < torch.cuda.device_count()):
                continue
            expected = torch.cuda.get_rng_state(int(key[5:]))
        else:
            raise ValueError(f"{where}: random state {key!r} is neither 'cpu' nor 'cuda.<index>'")
        if not isinstance(value, torch.Tensor) or value.dtype != torch.uint8 or value.shape != expected.shape:
            got = f"{value.dtype} {tuple(value.shape)}" if isinstance(value, torch.Tensor) else type(value).__name__
            raise ValueError(f"{where}: random state {key!r} is {got}, not a generator's state (uint8 {tuple(expected.shape)})")
        chosen[key] = value.cpu()

    def apply() -> None:
        for key, value in chosen.items():
            if key == "cpu":
                torch.set_rng_state(value)
            else:
                torch.cuda.set_rng_state(value, int(key[5:]))

    return apply


def checkpoint_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of the checkpoint at ``path``; ValueError naming the file when it is not one."""
    path = check_path("path", path)
    if Path(path).is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a directory, not a checkpoint file")
    with _reading(path):
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
    if meta.get("format") != "meta-checkpoint-v1":
        raise ValueError(f"{str(path)!r} is not a meta checkpoint (format={meta.get('format')!r})")
    # checked here, before a loader changes anything: json's own error names neither file nor field
    for field in ("user", "optimizer"):
        try:
            ok = field not in meta or isinstance(json.loads(meta[field]), dict)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{str(path)!r}: its {field} metadata is damaged (not a JSON object); the file was not loaded")
    return meta


@contextmanager
def _reading(path: str | Path) -> Iterator[None]:
    # safetensors' own error names neither the file nor what is wrong with it
    try:
        yield
    except SafetensorError as exc:
        raise ValueError(f"{str(path)!r} is not a readable safetensors file (truncated, or another format): {exc}") from None


def save_checkpoint(
    path: str | Path,
    module: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Write ``module``'s state (and ``optimizer``'s, ``metadata`` and torch's global random state,
    :func:`rng_state`) to a safetensors file.

    ``metadata`` must be a JSON-serialisable dict (a TypeError names the offending value otherwise).
    """
    path = check_path("path", path)
    _check_optimizer(optimizer)
    metadata = _user_metadata(metadata)
    # clone: safetensors refuses tensors that share storage (tied weights, views). A lazily sized
    # parameter not yet materialised has no value to store: it stays out, and loads as it was saved
    tensors = {
        _MODEL + k: v.detach().clone().contiguous() for k, v in module.state_dict().items() if not is_lazy(v)
    }
    tensors.update({_RNG + k: v for k, v in rng_state().items()})
    meta: dict[str, str] = {"format": "meta-checkpoint-v1"}
    if optimizer is not None:
        opt_tensors, opt_meta = _optimizer_tensors(optimizer)
        tensors.update(opt_tensors)
        meta["optimizer"] = json.dumps(opt_meta, default=_optimizer_number)
    try:
        meta["user"] = json.dumps(metadata)
    except TypeError as exc:
        raise TypeError(f"metadata must be JSON-serialisable: {exc}") from exc
    if Path(path).is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a directory; give a file name such as {str(Path(path) / 'model.safetensors')!r}")
    _write(path, tensors, meta)


def _user_metadata(metadata: Any) -> dict[str, Any]:
    """``metadata`` (``None``: none) if it is a dict, which a checkpoint holds as a JSON object; else
    a TypeError naming it: a list or a string was written, and every load refused the file as damaged."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata: expected a dict of JSON values, got {type(metadata).__name__} {reprlib.repr(metadata)}")
    return metadata


def _write(path: str | Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str]) -> None:
    """``save_file`` to a temporary file beside ``path``, then moved into place: a save cut short
    (a full disk, a kill, an error) leaves the previous file as it was, not half of the new one."""
    from adapters_lib.files import write_atomically  # on the first save: adapters_lib is slow to import

    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomically(Path(path), lambda tmp: save_file(tensors, tmp, metadata=metadata))


def load_checkpoint(
    path: str | Path,
    module: nn.Module,
    optimizer: torch.optim.Optimizer | None = None,
    strict: bool = True,
    restore_rng: bool = False,
) -> dict[str, Any]:
    """Restore ``module`` (and ``optimizer``) from ``path`` in place; return the user metadata.

    With ``restore_rng``, torch's global random state too, as it was at the save (files written
    before checkpoints held it leave it as it is): do this to resume training, so that dropout and
    the caller's draws continue the saved run's random stream; it is the process's state, shared by
    everything in it.

    Tensors are loaded onto the module's device. With ``strict`` a missing or unexpected key raises
    KeyError naming it; a tensor of another shape (another architecture), optimiser state of another
    class, of other parameter groups or damaged, or a file that is not a readable checkpoint raises
    ValueError naming it. Nothing is changed then. Lazily sized parameters (``nn.LazyLinear``) not
    yet materialised take their shape from the file; absent from it (saved before their first use),
    they stay unmaterialised.
    """
    strict, restore_rng = check_flag("strict", strict), check_flag("restore_rng", restore_rng)
    _check_optimizer(optimizer)
    meta = checkpoint_metadata(path)
    device = next((t.device for t in module.state_dict().values()), torch.device("cpu"))
    with _reading(path):
        tensors = load_file(str(path), device=str(device))
    model_state = {k[len(_MODEL) :]: v for k, v in tensors.items() if k.startswith(_MODEL)}
    _upgrade_state(module, model_state)
    current = module.state_dict()
    lazy = {k for k, v in current.items() if is_lazy(v)}
    missing = sorted(set(current) - set(model_state) - lazy)
    extra = sorted(set(model_state) - set(current))
    if strict and (missing or extra):
        raise KeyError(f"checkpoint {str(path)!r} does not fit the module: missing {missing[:5]}, unexpected {extra[:5]}")
    # every check comes before the first copy: a rejected checkpoint leaves module and optimiser as they were
    wrong = [
        f"{k}: {tuple(v.shape)} in the file, {tuple(current[k].shape)} in the module"
        for k, v in model_state.items()
        if k in current and k not in lazy and v.shape != current[k].shape
    ]
    if wrong:
        raise ValueError(f"checkpoint {str(path)!r} does not fit the module's shapes (another architecture?): {'; '.join(wrong[:5])}")
    if restore_rng:
        rng = _rng_setter({k[len(_RNG) :]: v for k, v in tensors.items() if k.startswith(_RNG)}, repr(str(path)))
    if optimizer is not None:
        optimizer_state = _optimizer_state(path, meta, tensors, optimizer)
        optimizer.load_state_dict(optimizer_state)
    # the keys were checked above; torch's own check would count unmaterialised ones as missing
    module.load_state_dict(model_state, strict=False)
    if restore_rng:
        rng()
    return json.loads(meta.get("user", "{}"))


def _upgrade_state(module: nn.Module, state: dict[str, torch.Tensor]) -> None:
    """Rename in place the keys that earlier versions of ``module``'s parts wrote: a part whose keys
    changed renames them with its ``_upgrade_state_dict(state, prefix)`` (MetaSGD's rates)."""
    for name, part in module.named_modules():
        upgrade = getattr(part, "_upgrade_state_dict", None)
        if callable(upgrade):
            upgrade(state, f"{name}." if name else "")


def _optimizer_state(
    path: str | Path, meta: dict[str, str], tensors: dict[str, torch.Tensor], optimizer: torch.optim.Optimizer
) -> dict[str, Any]:
    """The optimiser state dict stored in a checkpoint, checked against ``optimizer``."""
    if "optimizer" not in meta:
        raise KeyError(f"checkpoint {str(path)!r} holds no optimizer state")
    opt_meta = json.loads(meta["optimizer"])
    try:  # what json and torch would raise on damaged metadata names neither the file nor the part
        saved_class = opt_meta.get("class")  # absent from older checkpoints
        saved_sizes = [len(g["params"]) for g in opt_meta["param_groups"]]
        state = _saved_optimizer_state(path, opt_meta, tensors)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(
            f"checkpoint {str(path)!r}: its optimizer metadata is damaged ({type(exc).__name__}: {exc}); the file was not loaded"
        ) from None
    if saved_class not in (None, type(optimizer).__name__):
        raise ValueError(
            f"checkpoint {str(path)!r} holds the state of an optimizer of class {saved_class}, not {type(optimizer).__name__}"
        )
    sizes = [len(g["params"]) for g in optimizer.param_groups]
    if saved_sizes != sizes:
        raise ValueError(
            f"checkpoint {str(path)!r} holds optimizer state for parameter groups of sizes {saved_sizes}, "
            f"the optimizer has groups of sizes {sizes}"
        )
    return {"state": state, "param_groups": opt_meta["param_groups"]}


def _saved_optimizer_state(
    path: str | Path, opt_meta: dict[str, Any], tensors: dict[str, torch.Tensor]
) -> dict[int, dict[str, Any]]:
    """The per-parameter state that a checkpoint's optimiser metadata ``opt_meta`` and ``tensors`` hold."""
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(_OPTIM):
            index, name = key[len(_OPTIM) :].split(".", 1)
            state.setdefault(int(index), {})[name] = value
    for index, scalars in opt_meta["scalars"].items():
        state.setdefault(int(index), {}).update(scalars)
    for index, lists in opt_meta.get("lists", {}).items():  # absent from files written before they were stored
        where = f"checkpoint {str(path)!r}, optimizer state {index}"
        state.setdefault(int(index), {}).update({k: unpack_state(v, tensors, where) for k, v in lists.items()})
    return state


# ------------------------------------------------------------------------------ counters of learners


def learner_metadata(own: dict[str, Any], metadata: dict[str, Any] | None) -> dict[str, Any]:
    """``own`` (what a learner's ``save`` writes itself: its class, its step count) merged with the
    user's ``metadata``; ValueError when the user's would replace one of the learner's own keys
    (``load`` would then restore the wrong step), TypeError when it is no dict."""
    metadata = _user_metadata(metadata)
    clash = sorted(set(own) & set(metadata))
    if clash:
        raise ValueError(f"metadata: {clash} are written by save itself; store the value under another key")
    return {**own, **metadata}


def check_learner(path: str | Path, meta: dict[str, str], kind: str, settings: dict[str, Any]) -> None:
    """ValueError naming the file and the field when the checkpoint was written by a learner of
    another class than ``kind`` or with other ``settings`` (its inner learning rate, say), each of
    the same type too (``same_setting``: a saved ``2.0`` or ``1`` is damage, not the ``2`` or ``True``
    of the learner): its state would load, and training would go on as another learner's. Files
    without them pass."""
    saved = json.loads(meta.get("user", "{}"))
    if saved.get("class") not in (None, kind):
        raise ValueError(f"{str(path)!r} was saved by a {saved['class']}, not a {kind}; the file was not loaded")
    for key, value in saved_settings(path, meta).items():
        if key in settings and not same_setting(value, settings[key]):
            raise ValueError(
                f"{str(path)!r}: settings.{key} is {value!r} in the file but {settings[key]!r} in this {kind}; "
                "build the learner with the saved settings to resume its training (the file was not loaded)"
            )


def saved_settings(path: str | Path, meta: dict[str, str]) -> dict[str, Any]:
    """The ``settings`` in a learner's checkpoint (``{}`` in one saved before learners wrote them);
    ValueError naming the file and the field when they are no JSON object (damaged metadata)."""
    settings = json.loads(meta.get("user", "{}")).get("settings")
    if settings is None:
        return {}
    if not isinstance(settings, dict):
        raise ValueError(f"{str(path)!r}: settings {settings!r} is not a JSON object; the file was not loaded")
    return settings


def stored_count(path: str | Path, meta: dict[str, str], name: str) -> int:
    """The step count ``name`` in a checkpoint's user metadata (0 when absent); ValueError naming the
    file and the field when it is not a count."""
    value = json.loads(meta.get("user", "{}")).get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{str(path)!r}: {name} {value!r} is not a step count; the file was not loaded")
    return value


# ------------------------------------------------------------------------------ nested state


_STATE = "state."


def pack_state(state: dict[str, Any], kind: str, prefix: str = _STATE) -> tuple[Any, dict[str, torch.Tensor]]:
    """``state`` (nested dicts and lists of tensors and JSON values) as a JSON skeleton and its
    tensors, named ``prefix`` + a number, for a container of one's own (a safetensors blob with
    JSON metadata); :func:`unpack_state` reverses it. A value neither can hold raises TypeError
    naming it under ``kind``.

    Example:
        >>> skeleton, tensors = pack_state({"w": torch.zeros(2), "n": 3}, "demo")
        >>> unpack_state(skeleton, tensors, "demo")["n"], list(tensors)
        (3, ['state.0'])
    """
    tensors: dict[str, torch.Tensor] = {}
    return _pack(state, tensors, kind, prefix), tensors


def unpack_state(skeleton: Any, tensors: dict[str, torch.Tensor], where: str) -> Any:
    """The state :func:`pack_state` took apart; ValueError naming ``where`` when the skeleton is
    damaged or names a tensor that ``tensors`` lacks."""
    try:
        return _unpack(skeleton, tensors, where)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{where}: the saved state is damaged ({exc})") from None


def _pack(value: Any, tensors: dict[str, torch.Tensor], where: str, prefix: str = _STATE) -> Any:
    """``value`` as JSON, each tensor replaced by ``{"tensor": key}`` and put in ``tensors``."""
    if isinstance(value, torch.Tensor):
        key = f"{prefix}{len(tensors)}"
        tensors[key] = value.detach().clone().contiguous()
        return {"tensor": key}
    if isinstance(value, dict):
        # a list of pairs: JSON objects would turn the integer keys (task ids) into strings
        for k in value:
            if isinstance(k, bool) or not isinstance(k, (int, str)):
                raise TypeError(f"{where}: key {k!r} is neither a string nor an integer; a checkpoint cannot store it")
        return {"items": [[k, _pack(v, tensors, f"{where}[{k!r}]", prefix)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return {"list": [_pack(v, tensors, f"{where}[{i}]", prefix) for i, v in enumerate(value)]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{where}: {type(value).__name__} {value!r} cannot be stored in a checkpoint")


def _unpack(value: Any, tensors: dict[str, torch.Tensor], path: str | Path) -> Any:
    if not isinstance(value, dict):
        return value
    if "tensor" in value:
        if value["tensor"] not in tensors:
            raise ValueError(f"{str(path)!r}: tensor {value['tensor']!r} is missing from the file")
        return tensors[value["tensor"]]
    if "items" in value:
        return {k: _unpack(v, tensors, path) for k, v in value["items"]}
    return [_unpack(v, tensors, path) for v in value["list"]]


def save_state(path: str | Path, kind: str, state: dict[str, Any]) -> None:
    """Write ``state``, nested dicts and lists of tensors and JSON values, to a safetensors file:
    the tensors as tensors, the rest as JSON metadata, tagged with ``kind`` (the class that wrote
    it). Dicts keep integer keys as integers; tuples come back as lists."""
    path = check_path("path", path)
    skeleton, tensors = pack_state(state, kind)
    if Path(path).is_dir():
        raise IsADirectoryError(
            f"{str(path)!r} is a directory; give a file name such as {str(Path(path) / 'state.safetensors')!r}"
        )
    _write(path, tensors, {"format": "meta-state-v1", "kind": kind, "state": json.dumps(skeleton)})


def load_state(path: str | Path, kind: str) -> dict[str, Any]:
    """The state ``save_state`` wrote to ``path`` for ``kind``; ValueError naming the file when it is
    not readable, not such a file, or written by another class."""
    path = check_path("path", path)
    if Path(path).is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a directory, not a saved state")
    with _reading(path):
        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
        tensors = load_file(str(path))
    if meta.get("format") != "meta-state-v1":
        raise ValueError(f"{str(path)!r} is not a saved {kind} (format={meta.get('format')!r})")
    if meta.get("kind") != kind:
        raise ValueError(f"{str(path)!r} was saved by {meta.get('kind')}, not by {kind}")
    try:
        state = _unpack(json.loads(meta["state"]), tensors, path)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{str(path)!r}: the saved {kind} is damaged ({exc})") from None
    if not isinstance(state, dict):
        raise ValueError(f"{str(path)!r}: the saved {kind} is damaged (no state)")
    return state
