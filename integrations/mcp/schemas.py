"""A JSON schema checked against the values of many calls: compiled once, and each value that
passed remembered by a key of its content (a few times cheaper than its canonical JSON), so that the same arguments (or the same structured content of
a result), sent again and again, are checked once per tool listing.

Example:
    >>> check = SchemaCheck({"type": "object", "properties": {"q": {"type": "string"}}})
    >>> [e.message for e in check.errors({"q": 1})]
    ["1 is not of type 'string'"]
    >>> check.errors({"q": "bandits"}), check.errors({"q": "bandits"})  # the second from memory
    ([], [])
"""

from __future__ import annotations

from typing import Any

__all__ = ["SchemaCheck"]


class SchemaCheck:
    """The validator of ``schema``, remembering up to ``remember`` values that passed (then it
    starts over). A value that is not plain JSON (a tuple, a non-string key: what an in-process
    caller may pass) is always checked."""

    def __init__(self, schema: dict[str, Any], remember: int = 1024) -> None:
        from jsonschema.validators import validator_for

        self._validator = validator_for(schema)(schema)
        self._passed: set[Any] = set()
        self._remember = remember

    def errors(self, value: Any) -> list[Any]:
        """The schema's ``jsonschema.ValidationError``s for ``value`` (empty when it passes)."""
        key = _key(value)
        if key is not None and key in self._passed:
            return []
        errors = list(self._validator.iter_errors(value))
        if not errors and key is not None:
            if len(self._passed) >= self._remember:
                self._passed.clear()
            self._passed.add(key)
        return errors


def _key(value: Any) -> Any:
    """A hashable key that only ``value`` and values equal to it, of the same types and in any key
    order, have; ``None`` when it is not plain JSON of the builtin types (a tuple, a non-string
    key, a subclass): such a value is always checked. Each scalar is keyed with its type, so
    ``True`` is not taken for ``1``, nor ``1.0`` for ``1``."""
    kind = type(value)
    if kind is dict:
        items = []
        for k, v in value.items():
            sub = _key(v) if type(k) is str else None
            if sub is None:
                return None
            items.append((k, sub))
        items.sort()  # keys are unique: only they are compared
        return dict, tuple(items)
    if kind is list:
        subs = []
        for v in value:
            sub = _key(v)
            if sub is None:
                return None
            subs.append(sub)
        return list, tuple(subs)
    return (kind, value) if kind in _SCALARS else None


_SCALARS = frozenset((str, int, float, bool, type(None)))
