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

from toolrouter.attempts import describe_error
from toolrouter.logging import EventLog

__all__ = ["SchemaCheck"]

log = EventLog(__name__)


class SchemaCheck:
    """The validator of ``schema``, remembering up to ``remember`` values that passed (then it
    starts over). A value that is not plain JSON (a tuple, a non-string key: what an in-process
    caller may pass) is always checked.

    A schema that cannot judge a value (one JSON Schema does not allow, say an unknown type, or a
    ``$ref`` to nowhere, to a URL or a file, which is never fetched, or a pattern Python cannot
    compile, found when a value needs them) finds no errors: a server's schema is the server's to
    enforce, and the gateway passes the value on rather than fail every call. ``problem`` says why
    (logged once as ``mcp_schema_unusable``). A value nested deeper than the check can recurse is
    not judged either, but the schema goes on judging the values after it (logged as
    ``mcp_schema_value_too_deep``)."""

    def __init__(self, schema: dict[str, Any], remember: int = 1024) -> None:
        from jsonschema.exceptions import SchemaError
        from jsonschema.validators import validator_for
        from referencing import Registry

        self.problem: str | None = None
        self._validator: Any = None
        validator = validator_for(schema)
        try:
            validator.check_schema(schema)
        except SchemaError as exc:
            self._unusable(f"{exc.message} (at {'/'.join(str(p) for p in exc.absolute_path) or 'the top'})")
        else:
            # a registry of its own: jsonschema's default one fetches any other $ref with urlopen,
            # without a timeout, in the event loop's thread: a server's schema could have the
            # gateway request its intranet's URLs, read its files (file:///dev/stdin: the
            # client's messages) or hang every call
            self._validator = validator(schema, registry=Registry())
        self._passed: set[Any] = set()
        self._remember = remember

    def _recurses_alone(self) -> bool:
        """Whether the schema recurses without end whatever the value (a ``$ref`` to itself)."""
        try:
            list(self._validator.iter_errors({}))
        except RecursionError:
            return True
        except Exception:  # anything else the value's own check would have raised, had it got there
            pass
        return False

    def _unusable(self, problem: str) -> None:
        self.problem, self._validator = problem, None
        log.warning("mcp_schema_unusable", problem=problem)

    def errors(self, value: Any) -> list[Any]:
        """The schema's ``jsonschema.ValidationError``s for ``value`` (empty when it passes, or
        when the schema cannot judge it: ``problem``)."""
        key = _key(value)
        if self._validator is None or key is not None and key in self._passed:
            return []
        try:
            errors = list(self._validator.iter_errors(value))
        except RecursionError as exc:
            # a value nested deeper than the check recurses (a recursive schema takes several
            # frames a level): not judged, as by a schema that cannot judge it, but the schema
            # still judges the values after it; unless it recurses for any value
            if self._recurses_alone():
                self._unusable(describe_error(exc))
            else:
                log.info("mcp_schema_value_too_deep", problem=describe_error(exc))
            return []
        except Exception as exc:  # a reference or a pattern the schema names but cannot be used
            self._unusable(describe_error(exc))
            return []
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
