"""The checks of a number argument that every module needs: a whole number within bounds, and a
finite real number within bounds, each refused with one wording that names the field and the value.

A bool is refused by both, although Python counts it as an int: ``steps=True`` is a mistake, not 1.
Numpy scalars are accepted and returned as Python numbers, so that nothing downstream (JSON, a saved
config, ``range``) meets a numpy type.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["check_count", "check_real"]


def check_count(
    field: str,
    value: Any,
    *,
    low: int | None = 0,
    high: int | None = None,
    error: type[Exception] = ValueError,
    quote: Callable[[Any], str] = repr,
) -> int:
    """``value`` as an ``int`` if it is an integer (numpy's too, never a bool) in ``[low, high]``
    (``None``: unbounded on that side), else an ``error`` naming ``field`` and the value as ``quote``
    writes it.

    Example:
        >>> check_count("steps", np.int64(3), low=1)
        3
        >>> check_count("steps", True, low=1)
        Traceback (most recent call last):
        ...
        ValueError: steps: expected an integer >= 1, got True
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or (low is not None and value < low)
        or (high is not None and value > high)
    ):
        raise error(f"{field}: expected an integer{_bounds('[', low, high, ']')}, got {quote(value)}")
    return int(value)


def check_real(
    field: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    error: type[Exception] = ValueError,
    quote: Callable[[Any], str] = repr,
) -> float:
    """``value`` as a ``float`` if it is a finite real number (an int, a float or a numpy number,
    never a bool) within ``low`` and ``high`` (``None``: unbounded on that side; each bound included
    unless ``low_open`` / ``high_open``), else an ``error`` naming ``field`` and the value as
    ``quote`` writes it. NaN and the infinities are refused.

    Example:
        >>> check_real("lr", 0.1, low=0, low_open=True)
        0.1
        >>> check_real("lr", float("nan"), low=0, low_open=True)
        Traceback (most recent call last):
        ...
        ValueError: lr: expected a finite number > 0, got nan
    """
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
    if ok:
        try:
            number = float(value)
        except OverflowError:  # an int beyond any float is not a finite number either
            number = math.inf
        ok = (
            math.isfinite(number)
            and (low is None or (number > low if low_open else number >= low))
            and (high is None or (number < high if high_open else number <= high))
        )
    if not ok:
        opening, closing = "(" if low_open else "[", ")" if high_open else "]"
        raise error(f"{field}: expected a finite number{_bounds(opening, low, high, closing)}, got {quote(value)}")
    return number


def _bounds(opening: str, low: float | None, high: float | None, closing: str) -> str:
    """The bounds in words: `` in [0, 1)``, `` >= 1``, `` < 2``, or nothing."""
    if low is not None and high is not None:
        return f" in {opening}{low}, {high}{closing}"
    if low is not None:
        return f" {'>' if opening == '(' else '>='} {low}"
    if high is not None:
        return f" {'<' if closing == ')' else '<='} {high}"
    return ""
