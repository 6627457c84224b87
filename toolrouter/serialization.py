"""Writing and reading the router's saved state, and the checks every loader of it uses.

Every saved part of the router (learner, reward model, tool selector) is one safetensors blob whose
configuration travels as a JSON string under a key of the header's ``__metadata__``. This module is
the one place that writes such blobs and reads them back:

- ``write_blob`` / ``read_blob``: the blob, with a SHA-256 digest of its configuration and arrays
  inside the configuration, so that damaged bytes (a truncated file, a flipped bit) are reported as
  damage instead of loading as slightly different state;
- ``read_model``: a JSON value checked against a pydantic model of it;
- ``checked_array``: one array's presence, dtype, shape and finiteness;
- ``generator_from_state``: a numpy generator rebuilt from its saved state, of a known kind only;
- ``checked_path``: the path a saver or loader is given, refused by name when it is not one.

Each raises ``toolrouter.errors.CorruptStateError`` naming the key or array and what is wrong; the
loader that knows where the state came from adds that (``CorruptStateError.within``).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import reprlib
import stat
import struct
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from safetensors import SafetensorError, deserialize
from safetensors.numpy import save as _st_save

import meta._checks
from toolrouter.errors import CorruptStateError

__all__ = [
    "Blob",
    "Count",
    "FiniteFloat",
    "MAX_SAVED_DIM",
    "MAX_SAVED_WINDOW",
    "checked_array",
    "checked_path",
    "generator_from_state",
    "read_blob",
    "read_model",
    "safetensors_json",
    "short_repr",
    "validation_problems",
    "write_atomically",
    "write_blob",
]

#: Largest dimension (context, encoder width, features) a saved configuration may ask for. Sizes
#: are checked against the saved arrays where there are any; without arrays (a router that has not
#: routed yet) this bound keeps a damaged number from allocating more memory than the host has.
MAX_SAVED_DIM = 1 << 16
#: Largest sliding window (outcomes) a saved configuration may ask for, for the same reason.
MAX_SAVED_WINDOW = 1 << 24

#: A non-negative int that fits in a signed 64-bit integer (store ids, counters), never a bool or a float.
Count = Annotated[int, Field(strict=True, ge=0, le=2**63 - 1)]
#: A finite number (an int is accepted as a float).
FiniteFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]

#: Key of the digest in a written configuration. It lives inside the configuration's one metadata
#: entry, not in an entry of its own: safetensors writes metadata entries in no fixed order, and the
#: same state must give the same bytes.
_DIGEST_KEY = "content_sha256"

#: The safetensors dtypes a saved blob may hold (what numpy can represent).
_DTYPES = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8,
    "U64": np.uint64, "U32": np.uint32, "U16": np.uint16, "U8": np.uint8, "BOOL": np.bool_,
}

_short = reprlib.Repr()
_short.maxstring = _short.maxother = 60
_short.maxlong = 30

M = TypeVar("M")


def short_repr(value: Any) -> str:
    """``repr(value)`` cut short: what an error message quotes of a value read from a file."""
    return _short.repr(value)


def read_model(model: type[M] | TypeAdapter[M], value: Any, field: str) -> M:
    """``value`` validated as ``model`` (a pydantic model class or a ``TypeAdapter``), or a
    ``CorruptStateError`` naming each wrong key under ``field`` and the value found there.

    Example:
        >>> from pydantic import TypeAdapter
        >>> read_model(TypeAdapter(Count), 3, "t")
        3
    """
    try:
        if isinstance(model, TypeAdapter):
            return model.validate_python(value)
        return model.model_validate(value)  # type: ignore[attr-defined]
    except ValidationError as exc:
        raise CorruptStateError(validation_problems(exc, field)) from None


def validation_problems(exc: ValidationError, field: str) -> str:
    """What pydantic found wrong with ``field``'s value: each wrong key under ``field`` and the
    value found there (pydantic's own message names the model, not the argument or the file)."""
    errors = exc.errors(include_url=False)
    parts = []
    for e in errors[:3]:
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
        parts.append(f"{field}{loc}: {e['msg']} (got {short_repr(e.get('input'))})")
    if len(errors) > 3:
        parts.append(f"and {len(errors) - 3} more")
    return "; ".join(parts)


def checked_array(
    arrays: Mapping[str, Any], name: str, shape: tuple[int, ...], dtype: Any = np.float64, *, field: str = "arrays"
) -> np.ndarray:
    """A fresh copy of ``arrays[name]`` after checking that it is there, has exactly ``dtype`` and
    ``shape``, and (for a float dtype) only finite entries; else a ``CorruptStateError`` naming
    ``field.name`` with what was expected and what was found.

    Example:
        >>> checked_array({"n": np.zeros(2)}, "n", (2,)).tolist()
        [0.0, 0.0]
    """
    where = f"{field}.{name}"
    if name not in arrays:
        raise CorruptStateError(f"{where}: missing")
    a = arrays[name]
    if not isinstance(a, np.ndarray):
        try:
            a = np.asarray(a)
        except ValueError:  # a ragged nest of lists
            raise CorruptStateError(f"{where}: expected an array, got {short_repr(a)}") from None
    want = np.dtype(dtype)
    if a.dtype != want:
        raise CorruptStateError(f"{where}: expected dtype {want}, got {a.dtype}")
    if a.shape != tuple(shape):
        raise CorruptStateError(f"{where}: expected shape {tuple(shape)}, got {a.shape}")
    if want.kind in "fc" and not np.isfinite(a).all():
        raise CorruptStateError(f"{where}: contains non-finite values")
    return np.array(a)


class _PCGState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Annotated[int, Field(strict=True, ge=0, lt=2**128)]
    inc: Annotated[int, Field(strict=True, ge=0, lt=2**128)]


class _GeneratorState(BaseModel):
    """The saved state of a PCG64 generator (what ``numpy.random.default_rng`` makes); the other
    bit generators keep arrays in their state, which JSON does not carry."""

    model_config = ConfigDict(extra="forbid")

    bit_generator: Literal["PCG64", "PCG64DXSM"]
    state: _PCGState
    has_uint32: Annotated[int, Field(strict=True, ge=0, le=1)]
    uinteger: Annotated[int, Field(strict=True, ge=0, lt=2**32)]


#: The bit generators a saved state may name: never a function looked up by a name from the file.
_BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM}


def generator_from_state(state: Any, field: str = "rng") -> np.random.Generator:
    """A generator continuing exactly where the one whose ``bit_generator.state`` was saved stopped.

    Example:
        >>> g = np.random.default_rng(0); g.random()
        0.6369616873214543
        >>> copy = generator_from_state(g.bit_generator.state)
        >>> copy.random() == g.random()
        True
    """
    saved = read_model(_GeneratorState, state, field)
    bit_generator = _BIT_GENERATORS[saved.bit_generator]()
    bit_generator.state = saved.model_dump()
    return np.random.Generator(bit_generator)


@dataclass(frozen=True)
class Blob:
    """What ``read_blob`` found: the JSON configuration, the arrays by name, the metadata key the
    configuration was under, and whether a digest vouched for both (``sealed``)."""

    config: dict[str, Any]
    arrays: dict[str, np.ndarray]
    key: str
    sealed: bool


def _digest(config_text: str, arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256(config_text.encode())
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(json.dumps([name, a.dtype.str, list(a.shape)]).encode())
        h.update(a.reshape(-1).view(np.uint8))
    return h.hexdigest()


def checked_path(value: Any, field: str = "path") -> Path:
    """``value`` as a ``Path``; a ``TypeError`` naming ``field`` and the value when it is not a
    path (``None``, a number, bytes), where ``Path()`` would name neither (``meta._checks.check_path``,
    quoting the value with ``short_repr``).

    Example:
        >>> checked_path(None)
        Traceback (most recent call last):
        ...
        TypeError: path: expected a file path (str or os.PathLike), got None
    """
    return meta._checks.check_path(field, value, quote=short_repr)


def write_atomically(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file beside it, moved into place: a reader,
    or a save cut short (a full disk, a kill), never leaves half a file where the last one was. A
    file replaced keeps its permissions (one made private stays so: saved state holds request
    texts). A ``path`` that is a symbolic link has the file it names replaced, and stays a link. A
    save cut short (an ``OSError``, Ctrl-C) leaves no temporary file; an ``OSError`` names the path
    given, not the temporary file's; a ``path`` that is not a path, a ``TypeError`` (``checked_path``)."""
    target = checked_path(path)
    if target.is_symlink():  # else the link became a file of its own, and the one it named was never written again
        target = Path(os.path.realpath(target))
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}-{threading.get_ident()}")
    try:
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a folder; give a file path")
        kept = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
        if kept is not None:
            # made with the replaced file's mode (which the umask can only narrow; writable by its
            # owner until written), so that nobody its owner kept out opens the new one
            tmp.unlink(missing_ok=True)
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, kept | stat.S_IWUSR))
        tmp.write_bytes(data)
        if kept is not None:
            os.chmod(tmp, kept)
        tmp.replace(target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise type(exc)(exc.errno, f"path: cannot save to {str(path)!r}: {exc.strerror}") from None
        raise
    return target


def write_blob(arrays: Mapping[str, np.ndarray], key: str, config: Mapping[str, Any]) -> bytes:
    """Safetensors bytes of ``arrays`` with ``config`` as JSON under ``key`` of the metadata, plus
    (as the configuration's last key) a SHA-256 digest of both, which ``read_blob`` checks.

    Example:
        >>> blob = read_blob(write_blob({"x": np.zeros(1)}, "cfg", {"a": 1}), "cfg")
        >>> blob.config, blob.sealed
        ({'a': 1}, True)
    """
    if _DIGEST_KEY in config:
        raise ValueError(f"config: {_DIGEST_KEY!r} is the digest's key")
    # np.asarray, not np.ascontiguousarray: that one makes a scalar (a temperature) one long
    contiguous = {name: np.asarray(a, order="C") for name, a in arrays.items()}
    sealed = {**config, _DIGEST_KEY: _digest(json.dumps(config), contiguous)}
    return _st_save(contiguous, metadata={key: json.dumps(sealed)})


def read_blob(data: bytes, *keys: str) -> Blob:
    """The configuration (under the first of ``keys`` the metadata has; ``{}`` with no keys) and
    arrays of safetensors ``data``, after checking its digest when it has one.

    Raises ``CorruptStateError`` for bytes that are not a complete safetensors blob, a missing or
    non-JSON configuration, an array of a dtype numpy cannot hold, or content that does not match
    its digest (damaged bytes). Bytes-like ``data`` (a ``bytearray``, a ``memoryview``: what some
    database drivers give back) is read as bytes; anything else is a ``TypeError`` naming ``data``.
    """
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    elif not isinstance(data, bytes):  # the library's own words name its argument, not ours
        raise TypeError(f"data: expected bytes, got {type(data).__name__}")
    try:
        views = deserialize(data)
    except SafetensorError as exc:  # the library's own parse error: truncated or damaged bytes
        raise CorruptStateError(f"not a complete safetensors blob ({exc})") from None
    (n,) = struct.unpack("<Q", data[:8])  # the library has checked the header: it is JSON
    metadata = json.loads(data[8 : 8 + n]).get("__metadata__") or {}
    key = next((k for k in keys if k in metadata), None)
    if key is None and keys:
        raise CorruptStateError(f"no {' or '.join(map(repr, keys))} entry in the safetensors metadata")
    try:
        config = json.loads("{}" if key is None else metadata[key])
    except (ValueError, RecursionError) as exc:
        raise CorruptStateError(f"metadata entry {key!r} is not valid JSON ({exc})") from None
    if not isinstance(config, dict):
        raise CorruptStateError(f"metadata entry {key!r}: expected a JSON object, got {type(config).__name__}")
    digest = config.pop(_DIGEST_KEY, None)
    arrays = {}
    for name, view in views:
        dtype = _DTYPES.get(view["dtype"])
        if dtype is None:
            raise CorruptStateError(f"array {name!r}: dtype {view['dtype']} is not one a saved state holds")
        arrays[name] = np.frombuffer(view["data"], dtype=dtype).reshape(view["shape"])
    if digest is not None:
        try:  # the digest is of the configuration as json.dumps writes it: one text for one content
            text = json.dumps(config)
        except RecursionError:
            raise CorruptStateError(f"metadata entry {key!r} nests too deeply") from None
        if digest != _digest(text, arrays):
            raise CorruptStateError("the content does not match its SHA-256 digest: the bytes were damaged")
    return Blob(config, arrays, key or "", digest is not None)


def safetensors_json(data: bytes, key: str) -> dict[str, Any]:
    """The JSON object under ``key`` of the metadata of safetensors ``data`` (``read_blob``)."""
    return read_blob(data, key).config
