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

import json
import numbers
from collections.abc import Mapping
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

import numpy as np
from pydantic import BaseModel, ValidationError

import meta._checks
from toolrouter.serialization import short_repr, validation_problems

__all__ = ["NumbersNotBools", "NumbersOnly", "check_count", "check_options", "check_real", "json_round_trip", "no_bools", "real_array", "same_settings"]

M = TypeVar("M", bound=BaseModel)

#: Options models whose number fields refuse a bool (``meta._checks.NumbersNotBools``).
NumbersNotBools = meta._checks.NumbersNotBools
#: Options models whose number fields refuse a bool and a number string too, and whose flags take
#: True or False only, as ``meta``'s do (``meta._checks.NumbersOnly``): toolrouter's own models,
#: but for one read from text (a store URL's query parameters, ``PostgresOptions``).
NumbersOnly = meta._checks.NumbersOnly
#: ``meta._checks.check_count``, quoting the value with ``short_repr``.
check_count = partial(meta._checks.check_count, quote=short_repr)
#: ``meta._checks.check_real``, quoting the value with ``short_repr``.
check_real = partial(meta._checks.check_real, quote=short_repr)
#: ``meta._checks.same_settings``: a saved state's options compared type and all.
same_settings = meta._checks.same_settings


def check_options(field: str, model: type[M], value: Any) -> M:
    """``value`` as the options model ``model``: an instance of it, or a mapping of its fields;
    else a ``TypeError``, or a ``ValueError`` naming ``field``, each wrong key under it and the value
    given there (pydantic's own message named the model, not the argument).

    Example:
        >>> from toolrouter.attempts import RetryPolicy
        >>> check_options("retry", RetryPolicy, {"max_retries": -1})
        Traceback (most recent call last):
        ...
        ValueError: retry.max_retries: Input should be greater than or equal to 0 (got -1)
    """
    if not isinstance(value, (model, Mapping)):
        raise TypeError(f"{field}: expected {model.__name__}(...) or a mapping of its fields, got {short_repr(value)}")
    try:
        # a model checked again, and the models in it: one made with ``model_copy(update=...)`` holds
        # the update unchecked (a timeout of 0 timed out every try, each learned as the tool's
        # failure; ``max_retries=-1`` tried no tool at all)
        return model.model_validate(_fields(value))
    except ValidationError as exc:
        raise ValueError(validation_problems(exc, field)) from None


def _fields(value: Any) -> Any:
    """A pydantic model's values as a mapping, and a mapping's, those of the models in them too (a
    key a model was updated with that is none of its fields included, for its validation to name
    it); any other value as it is."""
    if type(value) in _SCALARS:  # most fields: cheaper than the checks below (a routed call's retry)
        return value
    if isinstance(value, BaseModel):
        value = vars(value)
    elif not isinstance(value, Mapping):
        return value
    return {name: _fields(item) for name, item in value.items()}


_SCALARS = frozenset({int, float, bool, str, type(None)})


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
        try:
            raw = raw.astype(np.float64)  # Python numbers numpy keeps as objects
        except OverflowError:  # an int beyond any float, which is no finite number either
            raise error(f"{field}: expected finite real numbers, got {short_repr(value)}") from None
    if raw is None or raw.dtype.kind not in "biuf":
        raise error(f"{field}: expected real numbers, got {short_repr(value)}")
    return raw.astype(np.float64)


def no_bools(field: str, value: Any) -> Any:
    """``value`` if none of its entries is a bool, another array-like (a tensor) as a numpy array,
    a numpy array of bools or of objects as a list; else a ValueError naming ``field``, the first
    bool's index and the bool. Features pass through it wherever they are given: ``real_array``
    reads ``True`` as 1.0 (a bool tensor's too), a flag taken for a measurement.

    Example:
        >>> no_bools("features", [0.5, True])
        Traceback (most recent call last):
        ...
        ValueError: features[1]: expected a number, not a bool, got True
    """
    if not isinstance(value, (list, tuple, np.ndarray)) and hasattr(value, "__array__"):
        try:  # a tensor: its dtype says whether it holds bools, as a numpy array's does
            value = np.asarray(value)
        except (TypeError, ValueError, RuntimeError):  # one that needs its gradient: real_array refuses it
            return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "bO":  # a numeric array holds no bool
        value = value.tolist()
    if isinstance(value, (list, tuple)) and not _BOOLS.isdisjoint(map(type, value)):  # one pass in C
        i, x = next((i, x) for i, x in enumerate(value) if type(x) in _BOOLS)
        raise ValueError(f"{field}[{i}]: expected a number, not a bool, got {x!r}")
    return value


_BOOLS = frozenset((bool, np.bool_))  # bool has no subclass


def json_round_trip(value: Any) -> Any:
    """``value`` as JSON reads it back (a copy, of plain dicts, lists, strings, numbers, bools and
    None) if JSON holds it as it is, else a ValueError saying why: a value JSON cannot write (a numpy
    number, NaN, a set), or one it would read back as another (an int key as a string, a tuple as a
    list). What is saved as JSON is checked with it where it is given.

    Example:
        >>> json_round_trip({"runs": [1, 2.5]})
        {'runs': [1, 2.5]}
        >>> json_round_trip({3: "steps"})
        Traceback (most recent call last):
        ...
        ValueError: it would read back as {'3': 'steps'}
    """
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(str(exc)) from None
    copy = json.loads(text)
    if copy != value:
        raise ValueError(f"it would read back as {short_repr(copy)}")
    return copy
