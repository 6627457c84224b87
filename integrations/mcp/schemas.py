"""A JSON schema checked against the values of many calls: compiled once, and each value that
passed remembered by its JSON text, so that the same arguments (or the same structured content of
a result), sent again and again, are checked once per tool listing.

Example:
    >>> check = SchemaCheck({"type": "object", "properties": {"q": {"type": "string"}}})
    >>> [e.message for e in check.errors({"q": 1})]
    ["1 is not of type 'string'"]
    >>> check.errors({"q": "bandits"}), check.errors({"q": "bandits"})  # the second from memory
    ([], [])
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["SchemaCheck"]


class SchemaCheck:
    """The validator of ``schema``, remembering up to ``remember`` values that passed (then it
    starts over). A value that is not plain JSON (a tuple, a non-string key: what an in-process
    caller may pass) is always checked."""

    def __init__(self, schema: dict[str, Any], remember: int = 1024) -> None:
        from jsonschema.validators import validator_for

        self._validator = validator_for(schema)(schema)
        self._passed: set[str] = set()
        self._remember = remember

    def errors(self, value: Any) -> list[Any]:
        """The schema's ``jsonschema.ValidationError``s for ``value`` (empty when it passes)."""
        key = _json_text(value)
        if key is not None and key in self._passed:
            return []
        errors = list(self._validator.iter_errors(value))
        if not errors and key is not None:
            if len(self._passed) >= self._remember:
                self._passed.clear()
            self._passed.add(key)
        return errors


def _json_text(value: Any) -> str | None:
    """``value`` as canonical JSON text, or ``None`` when it is not plain JSON (tuples would pass
    for lists there, and the schema may tell them apart)."""
    if not _plain(value):
        return None
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def _plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float))
