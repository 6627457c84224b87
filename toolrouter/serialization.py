"""The JSON that a saved safetensors blob carries in its header's metadata.

Every saved part of the router (learner, reward model, tool selector) is one safetensors blob whose
configuration travels as a JSON string under a key of the header's ``__metadata__``; this is the
one place that reads it back without loading the tensors.
"""

from __future__ import annotations

import json
import struct
from typing import Any

__all__ = ["safetensors_json"]


def safetensors_json(data: bytes, key: str) -> dict[str, Any]:
    """The JSON object stored under ``key`` in the metadata of safetensors ``data``.

    Raises ``ValueError`` when ``data`` is not a safetensors blob or lacks that JSON object.

    Example:
        >>> from safetensors.numpy import save
        >>> import numpy as np
        >>> safetensors_json(save({"x": np.zeros(1)}, metadata={"cfg": '{"a": 1}'}), "cfg")
        {'a': 1}
    """
    try:
        (n,) = struct.unpack("<Q", data[:8])
        value = json.loads(json.loads(data[8 : 8 + n])["__metadata__"][key])
    except (struct.error, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a safetensors blob with a {key!r} JSON entry in its metadata ({exc!r})") from None
    if not isinstance(value, dict):
        raise ValueError(f"the {key!r} entry of the metadata is not a JSON object")
    return value
