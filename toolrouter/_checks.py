"""The checks of a number argument, as the rest of ``toolrouter`` words them: ``meta``'s one wording,
with the value cut short as every toolrouter error message quotes it (``short_repr``)."""

from __future__ import annotations

from typing import Any

from meta._checks import check_count as _check_count
from meta._checks import check_real as _check_real
from toolrouter.serialization import short_repr

__all__ = ["check_count", "check_real"]


def check_count(
    field: str, value: Any, *, low: int | None = 0, high: int | None = None, error: type[Exception] = ValueError
) -> int:
    """``value`` as an ``int`` if it is an integer (numpy's too, never a bool) in ``[low, high]``,
    else an ``error`` naming ``field`` and the value; see ``meta._checks.check_count``.

    Example:
        >>> check_count("upto_id", -1)
        Traceback (most recent call last):
        ...
        ValueError: upto_id: expected an integer >= 0, got -1
    """
    return _check_count(field, value, low=low, high=high, error=error, quote=short_repr)


def check_real(
    field: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    error: type[Exception] = ValueError,
) -> float:
    """``value`` as a ``float`` if it is a finite real number (never a bool) within the bounds, else
    an ``error`` naming ``field`` and the value; see ``meta._checks.check_real``."""
    return _check_real(
        field, value, low=low, high=high, low_open=low_open, high_open=high_open, error=error, quote=short_repr
    )
