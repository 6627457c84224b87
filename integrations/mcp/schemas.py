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

import functools
import re
from collections.abc import Iterator
from typing import Any

from toolrouter.attempts import describe_error
from toolrouter.logging import EventLog

try:  # the parser of Python's re, to see what a pattern repeats
    from re import _parser as _sre
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre  # type: ignore[no-redef]

__all__ = ["SchemaCheck", "backtracks"]

log = EventLog(__name__)


class SchemaCheck:
    """The validator of ``schema``, remembering up to ``remember`` values that passed (then it
    starts over). A value that is not plain JSON (a tuple, a non-string key: what an in-process
    caller may pass), or that holds more than 16 K characters of text, is always checked.

    A schema that cannot judge a value (one JSON Schema does not allow, say an unknown type, or a
    ``$ref`` to nowhere, to a URL or a file, which is never fetched, or a pattern Python cannot
    compile, found when a value needs them) finds no errors: a server's schema is the server's to
    enforce, and the gateway passes the value on rather than fail every call. ``problem`` says why
    (logged once as ``mcp_schema_unusable``). A value nested deeper than the check can recurse is
    not judged either, but the schema goes on judging the values after it (logged as
    ``mcp_schema_value_too_deep``).

    A regular expression that may take time exponential in the text's length to fail
    (``backtracks``: ``(a+)+``, ``(\\w+\\s?)*``) would hold the event loop, every call of the
    gateway with it, for as long as it runs, and Python's ``re`` cannot be stopped: such a
    ``pattern`` is not checked (the rest of the schema is; logged once as
    ``mcp_schema_pattern_unchecked``), and a schema with such a ``patternProperties`` pattern,
    which every property name of a value meets, cannot judge values (``problem``). Nor is a
    text over ``MAX_PATTERN_TEXT`` (1024) characters checked against any ``pattern``, nor a
    property name that long searched with the ``patternProperties`` patterns (it is passed on
    unjudged by them, by ``additionalProperties`` beside them and by ``unevaluatedProperties``):
    a search takes time that grows with a power of its length."""

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
            risky = [(keyword, regex) for keyword, regex in _regexes(schema, validator) if backtracks(regex)]
            keys = [regex for keyword, regex in risky if keyword == "patternProperties"]
            if keys:
                self._unusable(f"the patternProperties pattern {keys[0]!r} may take exponential time to match")
            else:
                if risky:
                    log.warning("mcp_schema_pattern_unchecked", patterns=[regex for _, regex in risky])
                # a registry of its own: jsonschema's default one fetches any other $ref with urlopen,
                # without a timeout, in the event loop's thread: a server's schema could have the
                # gateway request its intranet's URLs, read its files (file:///dev/stdin: the
                # client's messages) or hang every call
                self._validator = _bounded_patterns(validator)(schema, registry=Registry())
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
        key = _key(value, [_REMEMBERED_SIZE])
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


def _regexes(schema: Any, validator: Any) -> Iterator[tuple[str, str]]:
    """``(keyword, regex)`` of each ``pattern`` and ``patternProperties`` key of ``schema`` and
    its subschemas (found as the validator's dialect nests them: a ``const`` holds none)."""
    from referencing.jsonschema import DRAFT202012, specification_with

    dialect = specification_with(validator.META_SCHEMA.get("$schema", ""), default=DRAFT202012)
    stack = [schema]
    while stack:
        sub = stack.pop()
        if isinstance(sub, dict):
            if isinstance(sub.get("pattern"), str):
                yield "pattern", sub["pattern"]
            if isinstance(sub.get("patternProperties"), dict):
                yield from (("patternProperties", key) for key in sub["patternProperties"])
        stack.extend(dialect.subresources_of(sub))


#: The longest text checked against a ``pattern``: a schema's pattern is searched for from each
#: position of the text, and one as plain as ``\d+\.\d+`` took 7 s on 64 K digits (a time that
#: grows with a power of the length); a longer text is passed on unchecked, for the server to check.
MAX_PATTERN_TEXT = 1024


@functools.lru_cache(maxsize=None)  # one per JSON Schema dialect
def _bounded_patterns(validator: Any) -> Any:
    """``validator`` whose ``pattern`` keyword skips a text over ``MAX_PATTERN_TEXT`` characters
    and a pattern that ``backtracks``, and whose keywords that search property names with the
    ``patternProperties`` patterns (it, ``additionalProperties`` beside it, and
    ``unevaluatedProperties``) skip a name over ``MAX_PATTERN_TEXT`` characters: the name is
    searched as a text is, and is passed on unjudged as such a text is."""
    from jsonschema.validators import extend

    checks = validator.VALIDATORS["pattern"]

    def pattern(checking: Any, regex: Any, value: Any, schema: Any) -> Iterator[Any]:
        if isinstance(value, str) and len(value) > MAX_PATTERN_TEXT or isinstance(regex, str) and backtracks(regex):
            return
        yield from checks(checking, regex, value, schema) or ()

    def short_names(keyword: str, beside_patterns: bool) -> Any:
        check = validator.VALIDATORS[keyword]

        def bounded(checking: Any, value: Any, instance: Any, schema: Any) -> Iterator[Any]:
            if isinstance(instance, dict) and (not beside_patterns or "patternProperties" in schema):
                if any(len(name) > MAX_PATTERN_TEXT for name in instance):
                    instance = {name: v for name, v in instance.items() if len(name) <= MAX_PATTERN_TEXT}
            yield from check(checking, value, instance, schema) or ()

        return bounded

    keywords = {"pattern": pattern, "patternProperties": short_names("patternProperties", False)}
    keywords["additionalProperties"] = short_names("additionalProperties", True)
    if "unevaluatedProperties" in validator.VALIDATORS:
        keywords["unevaluatedProperties"] = short_names("unevaluatedProperties", False)
    return extend(validator, keywords)


@functools.lru_cache(maxsize=256)
def backtracks(regex: str) -> bool:
    """Whether ``regex`` may take time exponential in the length of a text to fail to match it: it
    repeats something that can match a text in several ways (a repeat of variable length, an
    alternation whose branches may begin alike, a backreference), as ``(a+)+``, ``(\\w|\\s?)*``
    or ``(a|ab)*c``, and Python's ``re`` tries every way the text splits. Errs towards ``True``
    (``([a-z]+\\.)*`` is quick). ``False`` for a regex Python cannot compile (found when used)."""
    try:
        parsed = _sre.parse(regex)
    except (re.error, RecursionError, OverflowError):
        return False
    return _ambiguous(parsed, repeated=False)


_REPEATS = frozenset(getattr(_sre, name) for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") if hasattr(_sre, name))
_BACKREFERENCES = frozenset((_sre.GROUPREF, _sre.GROUPREF_EXISTS))


def _ambiguous(items: Any, repeated: bool) -> bool:
    """Whether parsed ``items`` hold, inside a repeat (``repeated``: of them), something that
    matches a text in several ways."""
    for op, arguments in items:
        inside = repeated
        if op in _REPEATS:
            low, high, _ = arguments
            if repeated and low != high:
                return True
            inside = repeated or high > 1
        elif repeated and (op in _BACKREFERENCES or op == _sre.BRANCH and not _distinct_starts(arguments[1])):
            return True
        parts = arguments if isinstance(arguments, (tuple, list)) else (arguments,)
        for part in parts:
            for sub in part if isinstance(part, list) else (part,):
                if isinstance(sub, _sre.SubPattern) and _ambiguous(sub, inside):
                    return True
    return False


def _distinct_starts(branches: list[Any]) -> bool:
    """Whether each branch begins with a character of its own (``foo|bar``: one way to match)."""
    firsts = [branch[0] if len(branch) else None for branch in branches]
    if not all(first is not None and first[0] == _sre.LITERAL for first in firsts):
        return False
    return len({first[1] for first in firsts}) == len(firsts)


#: The size (characters of text and keys, and one for each value) of a value remembered as passed:
#: a larger one is checked each time, not kept alive by its key (a thousand calls with 1 MB of text
#: kept a gigabyte), and its check costs little more than its key would.
_REMEMBERED_SIZE = 16 * 1024


def _key(value: Any, room: list[int]) -> Any:
    """A hashable key that only ``value`` and values equal to it, of the same types and in any key
    order, have; ``None`` when it is not plain JSON of the builtin types (a tuple, a non-string
    key, a subclass), or larger than ``room[0]`` (which it takes from): such a value is always
    checked. Each scalar is keyed with its type, so ``True`` is not taken for ``1``, nor ``1.0``
    for ``1``."""
    kind = type(value)
    room[0] -= len(value) + 1 if kind is str else 1
    if room[0] < 0:
        return None
    if kind is dict:
        items = []
        for k, v in value.items():
            if type(k) is not str:
                return None
            room[0] -= len(k)
            sub = _key(v, room)
            if sub is None:
                return None
            items.append((k, sub))
        items.sort()  # keys are unique: only they are compared
        return dict, tuple(items)
    if kind is list:
        subs = []
        for v in value:
            sub = _key(v, room)
            if sub is None:
                return None
            subs.append(sub)
        return list, tuple(subs)
    return (kind, value) if kind in _SCALARS else None


_SCALARS = frozenset((str, int, float, bool, type(None)))
