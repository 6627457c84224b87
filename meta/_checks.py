"""The checks of a number argument that every module needs: a whole number within bounds, and a
finite real number within bounds, each refused with one wording that names the field and the value;
the check of a path that a saver or loader is given (``check_path``); and whether settings read back
from a saved state are one's own, type and all (``same_settings``, ``same_setting``).

A bool is refused by both, although Python counts it as an int: ``steps=True`` is a mistake, not 1.
Options models get the same from ``NumbersNotBools`` (pydantic takes a bool for 1 or 1.0), and
from ``NumbersOnly`` a number string refused too, an integer field that is given no integer
(``2.0``) refused as ``check_count`` refuses it, a flag that is no bool as ``check_flag`` refuses
it, and every field checked again on assignment.
Numpy scalars are accepted and returned as Python numbers, so that nothing downstream (JSON, a saved
config, ``range``) meets a numpy type.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, get_args

import numpy as np
from pydantic import BaseModel, ConfigDict, model_validator

__all__ = ["NumbersNotBools", "NumbersOnly", "check_count", "check_flag", "check_path", "check_real", "check_seed", "same_setting", "same_settings"]


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


def check_seed(field: str, value: Any) -> int:
    """``value`` as an ``int`` if it is a seed ``torch.Generator.manual_seed`` takes (an integer in
    [-2**63, 2**64 - 1]), else a ValueError naming ``field`` (torch's own names neither field nor
    value: "Overflow when unpacking long long").

    Example:
        >>> check_seed("seed", 2**64)
        Traceback (most recent call last):
        ...
        ValueError: seed: expected an integer in [-2**63, 2**64 - 1] (a torch generator's range), got 18446744073709551616
    """
    value = check_count(field, value, low=None)
    if not -(2**63) <= value < 2**64:
        raise ValueError(f"{field}: expected an integer in [-2**63, 2**64 - 1] (a torch generator's range), got {value}")
    return value


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


def check_flag(field: str, value: Any, *, error: type[Exception] = ValueError) -> bool:
    """``value`` as a ``bool`` if it is one (numpy's too), else an ``error`` naming ``field`` and the
    value: ``bool("no")`` is True, so a flag given as a string or a number would pass for one.

    Example:
        >>> check_flag("decoupled", "no")
        Traceback (most recent call last):
        ...
        ValueError: decoupled: expected True or False, got 'no'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise error(f"{field}: expected True or False, got {value!r}")
    return bool(value)


def check_path(field: str, value: Any, *, quote: Callable[[Any], str] = repr) -> Path:
    """``value`` as a ``Path``, a leading ``~`` read as the home folder (as a shell reads it: a
    user's ``"~/data"`` is theirs, not a folder named ``~``); a ``TypeError`` naming ``field`` and
    the value (as ``quote`` writes it) when it is not a path (``None``, a number, bytes), where
    ``Path()`` would name neither, and a ``ValueError`` naming them for an empty path (``Path("")``
    is the working folder: a save failed in pathlib's words, "PosixPath('.') has an empty name") or
    one with a NUL character (the system's "embedded null byte" names nothing).

    Example:
        >>> check_path("path", None)
        Traceback (most recent call last):
        ...
        TypeError: path: expected a file path (str or os.PathLike), got None
    """
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{field}: expected a file path (str or os.PathLike), got {quote(value)}")
    text = os.fspath(value)
    if not text or ("\x00" if isinstance(text, str) else b"\x00") in text:
        raise ValueError(f"{field}: expected a file path, got {quote(value)}{' (empty)' if not text else ' (a NUL character)'}")
    return Path(os.path.expanduser(value))  # unlike Path.expanduser, no error for an unknown ~user


def same_settings(saved: Any, own: Mapping[str, Any]) -> bool:
    """Whether ``saved`` (read back from a file) holds the settings ``own`` of JSON values, each the
    same setting (``same_setting``).

    Example:
        >>> same_settings({"window": 4}, {"window": 4}), same_settings({"window": 4.0}, {"window": 4})
        (True, False)
    """
    return (
        isinstance(saved, Mapping)
        and saved.keys() == own.keys()
        and all(same_setting(saved[k], v) for k, v in own.items())
    )


def same_setting(saved: Any, own: Any) -> bool:
    """Whether the setting ``saved`` (read back from a file) is ``own``, of the same type too: ``==``
    takes ``4.0`` and ``True`` for ``4`` and ``1.0``, damage for the value.

    Example:
        >>> same_setting(2, 2), same_setting(2.0, 2), same_setting(1, True)
        (True, False, False)
    """
    return type(saved) is type(own) and saved == own


def _bounds(opening: str, low: float | None, high: float | None, closing: str) -> str:
    """The bounds in words: `` in [0, 1)``, `` >= 1``, `` < 2``, or nothing."""
    if low is not None and high is not None:
        return f" in {opening}{low}, {high}{closing}"
    if low is not None:
        return f" {'>' if opening == '(' else '>='} {low}"
    if high is not None:
        return f" {'<' if closing == ')' else '<='} {high}"
    return ""


class NumbersNotBools(BaseModel):
    """A pydantic model whose number fields (``int``, ``float``, optional or not) refuse a bool,
    naming the field: pydantic would take ``lr=True`` for 1.0. Fields that may be a bool keep it.

    Example:
        >>> class Options(NumbersNotBools):
        ...     lr: float = 0.1
        >>> try:
        ...     Options(lr=True)
        ... except ValueError as error:  # pydantic's ValidationError
        ...     print(str(error).splitlines()[1].split(" [")[0])
          Value error, lr: expected a number, not a bool, got True
    """

    #: what a number field refuses, although pydantic reads it as a number
    _not_numbers: ClassVar[tuple[type, ...]] = (bool, np.bool_)
    #: whether a flag field refuses what is no bool (``check_flag``), although pydantic reads it as one
    _flags_only: ClassVar[bool] = False
    #: whether an integer field refuses what is no integer (``check_count``), although pydantic
    #: reads a whole float (``2.0``, ``np.float64(2)``, ``Decimal(2)``) as one
    _integers_only: ClassVar[bool] = False

    @model_validator(mode="before")
    @classmethod
    def _refuse_mistyped(cls, data: Any) -> Any:
        # one validator for all: each is a Python call on every validation (a routed call's retry=)
        if isinstance(data, Mapping):
            numbers, integers, flags = _checked_fields(cls)
            for key, value in data.items():
                if isinstance(value, cls._not_numbers) and key in numbers:
                    raise ValueError(f"{key}: expected a number, not a {type(value).__name__}, got {value!r}")
            for key in integers:  # a few names: cheaper than a look at every value
                value = data.get(key)
                if not isinstance(value, _INTEGERS) and value is not None:
                    raise ValueError(f"{key}: expected an integer, not a {type(value).__name__}, got {value!r}")
            for key in flags:
                if key in data:
                    check_flag(key, data[key])
        return data


class NumbersOnly(NumbersNotBools):
    """``NumbersNotBools`` whose number fields refuse a number string as well (pydantic reads
    ``lr="1"`` as 1.0: a value read from a file or a command line and not converted), whose integer
    fields (``int``, optional or not) take an integer only, numpy's too, as ``check_count`` does
    (pydantic reads ``steps=2.0`` as 2: a saved ``8.0`` is damage, not 8; a float field still takes
    an integer), whose flag
    fields (``bool``, optional or not) take True or False only, as ``check_flag`` does (pydantic
    reads ``"no"``, ``"off"`` and 0 as False, ``"yes"`` and 1 as True), and whose fields are checked
    again when set (``config.lr = -1`` was kept, and failed later inside torch), the model left as it
    was when refused.

    Example:
        >>> class Options(NumbersOnly):
        ...     lr: float = 0.1
        >>> options = Options()
        >>> try:
        ...     options.lr = "1"
        ... except ValueError as error:  # pydantic's ValidationError
        ...     print(str(error).splitlines()[1].split(" [")[0], options.lr)
          Value error, lr: expected a number, not a str, got '1' 0.1
    """

    model_config = ConfigDict(validate_assignment=True)

    _not_numbers = (*NumbersNotBools._not_numbers, str, bytes, bytearray)
    _flags_only = True
    _integers_only = True


#: what an integer field takes (a bool, an int too, is refused before as no number)
_INTEGERS = (int, np.integer)


@functools.cache
def _checked_fields(model: type[NumbersNotBools]) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The names (and aliases) of ``model``'s number fields, of its integer fields and of its flag
    fields, each of the last two if it checks them."""
    return (
        _fields(model, _is_number),
        _fields(model, _is_integer) if model._integers_only else frozenset(),
        _fields(model, _is_flag) if model._flags_only else frozenset(),
    )


def _fields(model: type[BaseModel], kind: Callable[[Any], bool]) -> frozenset[str]:
    """The names (and aliases) of ``model``'s fields whose annotation is of ``kind``."""
    return frozenset(
        name
        for key, info in model.model_fields.items()
        if kind(info.annotation)
        for name in (key, info.alias)
        if name is not None
    )


def _is_number(annotation: Any) -> bool:
    if annotation in (int, float):
        return True
    args = get_args(annotation)
    return bool not in args and any(_is_number(a) for a in args if isinstance(a, type) or get_args(a))


def _is_flag(annotation: Any) -> bool:
    """Whether ``annotation`` is ``bool`` or ``bool | None``."""
    return _is_optional(annotation, bool)


def _is_integer(annotation: Any) -> bool:
    """Whether ``annotation`` is ``int`` or ``int | None``."""
    return _is_optional(annotation, int)


def _is_optional(annotation: Any, kind: type) -> bool:
    return annotation is kind or set(get_args(annotation)) == {kind, type(None)}
