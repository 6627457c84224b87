"""The check of a size passed to adapters_lib's layers: a positive whole number, refused otherwise
with one wording that names the field and the value (adapters_lib imports nothing of ``meta``)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_size"]


def check_size(field: str, value: Any) -> int:
    """``value`` as an ``int`` if it is an integer >= 1 (numpy's too, never a bool), else a
    ValueError naming ``field``: torch would make an empty layer of size 0, fail on a negative
    size with its own message, and take ``True`` for 1.

    Example:
        >>> check_size("num_heads", np.int64(4))
        4
        >>> check_size("num_heads", 0)
        Traceback (most recent call last):
        ...
        ValueError: num_heads: expected an integer >= 1, got 0
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{field}: expected an integer >= 1, got {value!r}")
    return int(value)
