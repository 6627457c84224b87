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

from functools import partial

import meta._checks
from toolrouter.serialization import short_repr

__all__ = ["check_count", "check_real"]

#: ``meta._checks.check_count``, quoting the value with ``short_repr``.
check_count = partial(meta._checks.check_count, quote=short_repr)
#: ``meta._checks.check_real``, quoting the value with ``short_repr``.
check_real = partial(meta._checks.check_real, quote=short_repr)
