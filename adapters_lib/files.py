"""Reading the files adapters are stored in: a damaged or foreign file is named in the error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open

__all__ = ["read_json", "read_safetensors"]


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
    """``json.loads(text)``; ValueError naming ``where`` (a file, a metadata field) when it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not valid JSON ({exc})") from None
