"""Reading the files adapters are stored in: a damaged or foreign file is named in the error; and
writing them whole or not at all, refusing tensors that no load would take back."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

__all__ = ["as_path", "check_finite_to_write", "read_json", "read_safetensors", "write_atomically", "write_together"]


def as_path(value: Any, field: str) -> Path:
    """``value`` as a Path; TypeError naming ``field`` when it is not a path (None, a number...),
    where ``Path()`` would not say which argument was wrong."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{field}: expected a file path (str or os.PathLike), got {value!r}")
    return Path(value)


def write_atomically(path: Path, write: Callable[[str], None]) -> Path:
    """Run ``write(temporary_path)`` on a temporary file beside ``path``, then move it into place:
    a save cut short (a full disk, a kill, an error) never leaves half a file where the last one
    was, nor a temporary file."""
    write_together({path: write})
    return path


def write_together(writes: dict[Path, Callable[[str], None]]) -> None:
    """Files that belong together (a checkpoint's weights and its config): each ``write(temporary_path)``
    runs on a temporary file beside its path, and only once every one is written are they moved
    into place, in order. A save cut short while writing (a full disk, a kill, an error) leaves
    every previous file as it was, and no temporary file. Each move is a rename, atomic on POSIX;
    the moves together are not (POSIX renames one name at a time), so only a crash in the instant
    between two renames could leave new and old files side by side."""
    tmps = {path: path.with_name(f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}") for path in writes}
    try:
        for path, write in writes.items():
            write(str(tmps[path]))
        for path, tmp in tmps.items():
            tmp.replace(path)
    except BaseException:
        for tmp in tmps.values():
            tmp.unlink(missing_ok=True)
        raise


def check_finite_to_write(state: dict[str, torch.Tensor], where: str) -> None:
    """ValueError naming ``where`` and the keys when a tensor of ``state`` holds NaN or infinite
    values: loading refuses such weights, so a file of them would be written only to be rejected."""
    bad = [key for key, value in state.items() if value.is_floating_point() and not bool(torch.isfinite(value).all())]
    if bad:
        raise ValueError(f"{where}: {bad[:5]} hold NaN or infinite values; nothing was written (such weights cannot be loaded back)")


def read_safetensors(path: str | Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """The metadata and tensors of a safetensors file.

    Raises FileNotFoundError or IsADirectoryError, or ValueError naming the file when it is not a
    readable safetensors file (truncated, or of another format).
    """
    if Path(path).is_dir():
        raise IsADirectoryError(f"path: {str(path)!r} is a directory, not a safetensors file")
    try:
        with safe_open(str(path), framework="pt") as handle:
            return handle.metadata() or {}, {key: handle.get_tensor(key) for key in handle.keys()}
    except SafetensorError as exc:
        raise ValueError(f"path: {str(path)!r} is not a readable safetensors file (truncated, or another format): {exc}") from None


def read_json(text: str, where: str) -> Any:
    """``json.loads(text)``; ValueError naming ``where`` (a file, a metadata field) when it is not JSON,
    or nests deeper than the decoder can follow."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"{where}: not valid JSON ({exc})") from None
