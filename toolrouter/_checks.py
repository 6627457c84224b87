"""The checks of a number argument as ``toolrouter`` words them: ``meta``'s ``check_count`` and
``check_real`` (one wording that names the field and the value), with the value cut short as every
toolrouter error message quotes it (``short_repr``).

Example:
    >>> check_count("upto_id", -1)
    Traceback (most recent call last):
    ...
    ValueError: upto_id: expected an integer >= 0, got -1
    >>> check_real("weight", 2)
    2.0
"""

from __future__ import annotations

import numbers
from decimal import Decimal
from functools import partial
from typing import Any

import numpy as np

import meta._checks
from toolrouter.serialization import short_repr

__all__ = ["NumbersNotBools", "check_count", "check_real", "real_array"]

#: Options models whose number fields refuse a bool (``meta._checks.NumbersNotBools``).
NumbersNotBools = meta._checks.NumbersNotBools
#: ``meta._checks.check_count``, quoting the value with ``short_repr``.
check_count = partial(meta._checks.check_count, quote=short_repr)
#: ``meta._checks.check_real``, quoting the value with ``short_repr``.
check_real = partial(meta._checks.check_real, quote=short_repr)


def real_array(field: str, value: Any, *, error: type[Exception] = ValueError) -> np.ndarray:
    """``value`` (a list, a numpy array, a tensor) as a float64 array if its entries are real numbers
    (bools, ints, floats, also ``Fraction`` and ``Decimal``), else an ``error`` naming ``field`` and
    the value: complex numbers,
    strings, ``None`` and ragged lists are refused, not cast (a cast would drop an imaginary part
    or read ``"1"`` as 1.0). Its shape and finiteness are the caller's to check.

    Example:
        >>> real_array("features", [1, 2.5]).tolist()
        [1.0, 2.5]
        >>> real_array("features", ["1", "2"])
        Traceback (most recent call last):
        ...
        ValueError: features: expected real numbers, got ['1', '2']
    """
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError, RuntimeError):  # a ragged list; a tensor that needs its gradient
        raw = None
    if raw is not None and raw.dtype.kind == "O" and all(isinstance(v, (numbers.Real, Decimal)) for v in raw.flat):
        raw = raw.astype(np.float64)  # Python numbers numpy keeps as objects
    if raw is None or raw.dtype.kind not in "biuf":
        raise error(f"{field}: expected real numbers, got {short_repr(value)}")
    return raw.astype(np.float64)
