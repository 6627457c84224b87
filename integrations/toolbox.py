"""A ``Toolbox``: capabilities a model can call, each one tool with one schema, routed by the middleware.

Register the functions that serve a capability (``register`` or the ``tool`` decorator); each
capability becomes one tool for a model, whose JSON Schema comes from the functions' signatures
(``integrations.schema``) and whose calls the ``ToolMiddleware`` routes among them, falling back
on failure and recording every attempt.

``call_one(name, arguments)`` is one tool call from a model, start to end: the arguments are parsed
and validated against the capability's schema, the call is routed, and the outcome comes back as a
``ToolResult`` whose ``content`` is the text the model reads. A model's mistake (an unknown tool,
arguments that are not JSON or do not fit the schema) is an error result saying exactly what was
wrong, and is recorded against no backend: no tool ran. When every backend fails, the error
result lists each attempt (the tool and its error) and each backend not tried, with why (its
circuit open, the deadline passed, past the call's ``max_attempts``). The provider formats (``integrations.openai``,
``integrations.anthropic``) are thin wrappers of it.

A successful value becomes ``content`` by ``serialize`` (default ``to_content``): a string as is;
an enum member as its value, as inside a dict (the value a model may send back); pydantic models, dataclasses, dicts, lists, tuples, sets, numbers, booleans and ``None`` as JSON (inside
them, values JSON has no type for as pydantic writes them, a datetime in ISO 8601 for example, and
numpy's arrays and scalars as the lists and numbers they hold, other objects as their ``str()``;
a float NaN or infinity, which JSON has none for, as ``null``,
so that the text is strict JSON); another value as inside them: one pydantic writes as a string as
that text (bytes as their UTF-8 text, a complex number as ``1+2j``, a datetime in ISO 8601), one it
writes as a list (a generator) as JSON, and anything else as its ``str()``. Text no encoding can hold (a lone surrogate) reaches the model as U+FFFD; a value that
cannot be serialised at all (its ``str()`` raises) reaches it as a note saying so. A ``serialize``
of your own that raises (or returns something other than text) fails that call's result alone
(status ``"unserializable"``, the value kept), not the other calls of a dispatch.

A model reads at most ``max_result_chars`` characters of a result (``Toolbox``'s option, default
``DEFAULT_MAX_RESULT_CHARS``; ``None``: no limit): a longer ``content`` is cut to that many, ending
with a note giving its full length (a limit too small to hold the note cuts the text alone), where sent whole (a tool's 200 MB string, a huge structure, the
errors of many backends) it would overflow the model's context or the provider's limit on a
request. The result keeps its status and its ``value`` whole, and the outcome is recorded as any other.

Example:
    >>> import asyncio
    >>> toolbox = Toolbox(seed=0)
    >>> @toolbox.tool("add")
    ... def add(a: int, b: int = 1) -> int:
    ...     '''Add two numbers.'''
    ...     return a + b
    >>> toolbox.schema("add").parameters["required"]
    ['a']
    >>> asyncio.run(toolbox.call_one("add", '{"a": 2, "b": 3}')).content
    '5'
    >>> print(toolbox.call_one_sync("add", {"a": "two"}).content)
    invalid arguments for tool 'add': a: Input should be a valid integer (got "two")
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import json
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pydantic_core
from pydantic import BaseModel

from integrations.schema import (
    CapabilitySchema,
    Parameter,
    ToolArgumentsError,
    ToolSchemaError,
    capability_schema,
    check_compatible,
    check_shown_names,
    check_tool_name,
    signature_of,
)
from toolrouter._checks import check_count
from toolrouter.attempts import describe_error, is_async_callable
from toolrouter.errors import AllToolsFailedError, NoToolForCapabilityError, ToolRouterError, UnknownToolError
from toolrouter.logging import EventLog
from toolrouter.middleware import CallOutcome, ClosesWhatItBuilt, RoutedCall, ToolMiddleware
from toolrouter.models import ANY_CAPABILITY, ExecutionResult, ToolProfile, storable_text
from toolrouter.serialization import short_repr

__all__ = [
    "DEFAULT_MAX_RESULT_CHARS",
    "ResultStatus",
    "Toolbox",
    "ToolResult",
    "UnknownCapabilityError",
    "check_serialize",
    "to_content",
    "unknown_tool_message",
]

log = EventLog(__name__)

#: Most characters of a tool's value a model reads by default (``Toolbox(max_result_chars=...)``):
#: about 25,000 tokens, what agent clients commonly allow a tool's output.
DEFAULT_MAX_RESULT_CHARS = 100_000

#: How a tool call ended: a value, the model's mistake (unknown tool, invalid arguments), every
#: backend failing, or a value that ``serialize`` could not turn into text (the tool ran).
ResultStatus = Literal["ok", "unknown_tool", "invalid_arguments", "tools_failed", "unserializable"]


#: Most tool names the error of an unknown tool lists: a model reads it whenever it misnames one.
MAX_LISTED_TOOLS = 10


def unknown_tool_message(name: Any, tools: Iterable[str]) -> str:
    """The error a model reads when it calls ``name``, no tool of ``tools``: every tool, or, of
    more than ``MAX_LISTED_TOOLS``, the closest names (``difflib``) and how many there are, so
    that the message does not grow with the toolbox (nor with the name, quoted cut short)."""
    tools = list(tools)
    called = short_repr(name)  # the model's name may be any length
    if len(tools) <= MAX_LISTED_TOOLS:
        return f"unknown tool {called}; the tools are {', '.join(map(repr, tools)) or 'none'}"
    closest = difflib.get_close_matches(str(name), tools, n=MAX_LISTED_TOOLS, cutoff=0)
    return f"unknown tool {called}; the closest of the {len(tools)} tools are {', '.join(map(repr, closest))}"


class UnknownCapabilityError(ToolRouterError, KeyError):
    """A capability name the toolbox does not have."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        self.name = name
        super().__init__(f"capability: unknown {name!r}; the toolbox has {sorted(known)}")

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


@dataclass(frozen=True)
class ToolResult:
    """The outcome of one tool call from a model.

    ``content`` is what the model reads: the serialised value, or the error message. ``value`` is
    the tool's return value (``None`` when no tool returned one; kept when ``serialize`` failed on
    it, status ``"unserializable"``), ``tool_id`` the backend that produced it,
    ``attempts`` every attempt made (empty when no tool ran), ``call_id`` the provider's id of the
    call once a dispatcher has matched it.
    """

    name: str
    content: str
    status: ResultStatus = "ok"
    value: Any = None
    tool_id: str | None = None
    attempts: tuple[ExecutionResult, ...] = ()
    call_id: str | None = None

    @property
    def is_error(self) -> bool:
        """Whether the call failed: the model's mistake, every backend's failure, or a value that
        ``serialize`` could not turn into text (the model read no value)."""
        return self.status != "ok"


def to_content(value: Any) -> str:
    """The default serialisation of a tool's value for a model (see the module's docstring). It
    never raises: a value JSON cannot hold (a circular reference, bytes that are not UTF-8) is
    sent as its ``str()``, and a value whose ``str()`` raises as a note saying so."""
    if isinstance(value, enum.Enum):  # its str() is a Python name (Color.RED), no value a schema takes
        value = value.value
    if isinstance(value, _NUMPY_TYPES):
        value = _numpy_value(value)
    if isinstance(value, str):
        return _plain_text(value)
    json_types = (BaseModel, dict, list, tuple, set, frozenset, int, float, type(None))
    try:
        if isinstance(value, json_types) or dataclasses.is_dataclass(value):
            return _json(value)
        # as inside a structure (bytes as their text, not b'...'; a datetime in ISO 8601, not its
        # str()), the text pydantic writes for it as it is, as a top-level string is
        plain = pydantic_core.to_jsonable_python(value, fallback=_unknown)
        return _plain_text(plain) if isinstance(plain, str) else _json(plain)
    except Exception:  # whatever the value holds, the call's result must reach the model
        pass
    return storable_text(_text(value))


def check_serialize(serialize: Any) -> None:
    """``serialize`` if it is ``None`` or a function (not an ``async`` one: it is called, not
    awaited, and its coroutine is no text), else ``TypeError`` naming it: checked before a tool
    runs, so that a wrong one refuses the call instead of failing it after its outcome was
    recorded."""
    if serialize is None:
        return
    if not callable(serialize):
        raise TypeError(f"serialize: expected a function of a value returning str, or None, got {short_repr(serialize)}")
    if is_async_callable(serialize):
        raise TypeError(
            f"serialize: expected a function of a value returning str, got the async function {short_repr(serialize)}; "
            "it is called, not awaited: make it a plain function"
        )


def _json(value: Any) -> str:
    try:
        return _strict_json(pydantic_core.to_json(value, fallback=_unknown).decode())
    except pydantic_core.PydanticSerializationError:
        # text no encoding can hold (a lone surrogate) somewhere inside: the same JSON, with
        # such characters replaced as storable_text does. json writes the containers, pydantic
        # the rest: pydantic refuses such a key (a file name os.listdir decoded with
        # surrogateescape) even into Python values
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_jsonable)
        return _strict_json(storable_text(text))


def _strict_json(text: str) -> str:
    """JSON ``text`` with each ``NaN``, ``Infinity`` and ``-Infinity`` (which Python's and pydantic's
    writers emit, a model config's ``ser_json_inf_nan="constants"`` too, but JSON has no word for,
    so that strict parsers refuse the whole text) written as ``null``: what JavaScript's
    ``JSON.stringify`` and pydantic's models write by default, and read as "no number" rather than
    as the text ``"NaN"``, which a model could pass on where a number is wanted. Other text is
    returned as it is.

        >>> _strict_json('{"a":NaN,"b":[Infinity,-Infinity],"c":"NaN"}')
        '{"a":null,"b":[null,null],"c":"NaN"}'
    """
    if "NaN" not in text and "Infinity" not in text:  # the common case: nothing to parse
        return text
    found: list[str] = []

    def constant(name: str) -> None:
        found.append(name)

    value = json.loads(text, parse_constant=constant)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False) if found else text


def _jsonable(value: Any) -> Any:
    """What ``json.dumps`` writes for a value it has no type for, as pydantic writes it."""
    return pydantic_core.to_jsonable_python(value, fallback=_unknown)


#: numpy's arrays and scalars (a tool's np.int64 count, its array of scores), which pydantic has no
#: type for: written as the Python lists and numbers they hold (``tolist``), not as their ``str()``,
#: which made a count the text "3", a flag "True" and an array its printout
_NUMPY_TYPES = (np.ndarray, np.generic)


def _unknown(value: Any) -> Any:
    """What a value JSON has no type for is written as, inside a structure."""
    return _numpy_value(value) if isinstance(value, _NUMPY_TYPES) else _text(value)


def _numpy_value(value: np.ndarray | np.generic) -> Any:
    """A numpy array or scalar as the Python lists and numbers it holds."""
    if value.dtype.kind == "f" and value.dtype.itemsize < 8:
        # a float32 0.1 is 0.10000000149011612 as a Python float: its shortest text is what it means
        value = np.asarray(value).astype(str).astype(np.float64)
    return value.tolist()


def _plain_text(text: str) -> str:
    """``text`` as a plain ``str``: of a ``str`` subclass (a ``(str, Enum)`` member) its characters,
    where ``str()`` and f-strings of it give another text (``Size.L``); lone surrogates as U+FFFD
    (``storable_text``)."""
    return storable_text(str.__str__(text))


def _text(value: Any) -> str:
    """``str(value)``, or a note naming the type when ``str()`` raises."""
    try:
        return str(value)
    except Exception as exc:
        return f"<unprintable {type(value).__name__}: str() raised {describe_error(exc)}>"


@dataclass
class _Capability:
    schema: CapabilitySchema
    backends: list[str]  # tool ids, in registration order


class Toolbox(ClosesWhatItBuilt):
    """Capabilities for a model, each served by one or more functions routed by a middleware.

    Arguments:
        middleware: the ``ToolMiddleware`` that routes the calls (default: a new one built with
            ``middleware_options``, for example ``seed=0`` or ``store="sqlite:///tools.db"``).
        max_result_chars: the most characters of a call's result (a tool's value, or an error
            message) a model reads (an integer >= 1, or ``None`` for no limit); a longer one is
            cut to that many, a note giving its full length among them.

    ``capabilities`` lists the names, ``schema(name)`` gives one capability's name, description and
    JSON Schema, ``call_one`` / ``call_one_sync`` run one call from a model. Thread-safe like the
    middleware. Register a capability's backends here rather than on the middleware directly, so
    that their signatures are checked against the capability's schema. ``close()`` (or ``with
    Toolbox(...) as toolbox:``) closes the middleware it built, and with it its router; a middleware
    passed in is its owner's to close.

    Example:
        >>> toolbox = Toolbox(seed=0)
        >>> def google(query: str) -> str:
        ...     '''Search the web.'''
        ...     return "from google"
        >>> def bing(query: str) -> str:
        ...     return "from bing"
        >>> _ = toolbox.register(google, "web_search")
        >>> _ = toolbox.register(bing, "web_search", reliability=0.5)
        >>> toolbox.capabilities, toolbox.schema("web_search").description
        (('web_search',), 'Search the web.')
    """

    def __init__(
        self,
        middleware: ToolMiddleware | None = None,
        *,
        max_result_chars: int | None = DEFAULT_MAX_RESULT_CHARS,
        **middleware_options: Any,
    ) -> None:
        limit = max_result_chars
        self.max_result_chars = None if limit is None else check_count("max_result_chars", limit, low=1)
        if middleware is not None and middleware_options:
            raise TypeError(
                f"middleware_options: give a middleware or options for a new one, not both; got {sorted(middleware_options)}"
            )
        if middleware is not None and not isinstance(middleware, ToolMiddleware):
            raise TypeError(f"middleware: expected a ToolMiddleware, got {middleware!r}")
        self.middleware = middleware if middleware is not None else ToolMiddleware(**middleware_options)
        self._built = None if middleware is not None else self.middleware  # close() closes only a middleware it built
        self._capabilities: dict[str, _Capability] = {}
        self._lock = threading.Lock()
        self._revision = 0

    # --- registration -------------------------------------------------------------------------
    def register(
        self,
        fn: Callable[..., Any],
        capability: str | Sequence[str],
        *,
        description: str | None = None,
        **options: Any,
    ) -> ToolProfile:
        """Register ``fn`` as a backend of ``capability`` (or of several) and return its profile.

        ``description`` is the capability's description for the model; without one, a new
        capability takes the summary of ``fn``'s docstring, and a later explicit description
        replaces it. ``options`` go to ``ToolMiddleware.register`` (``tool_id``, ``cost_per_use``,
        ``reliability``, ``quality``, ``timeout_s``...).

        Raises ``ToolSchemaError`` for a capability name providers refuse or a signature with no
        JSON Schema, ``SignatureMismatchError`` when ``fn`` does not take the same arguments as
        the capability's other backends (a middleware shared with another toolbox routes the
        capability among that one's backends too: they count), and whatever the middleware raises (a duplicate tool
        id...). A refused registration registers nothing.
        """
        if description is not None and not isinstance(description, str):
            raise TypeError(f"description: expected a string or None, got {description!r}")
        single = isinstance(capability, str) or not isinstance(capability, Sequence)
        names = [capability] if single else list(capability)
        if not names:
            raise ValueError(f"capability: give at least one capability, got {capability!r}")
        for name in names:
            check_tool_name(name)
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {fn!r}")
        backend = options.get("tool_id") or getattr(fn, "__name__", "")
        with self._lock:
            updated: dict[str, _Capability] = {}
            signature = None
            for name in dict.fromkeys(names):
                current = self._capabilities.get(name)
                if current is None:
                    schema = capability_schema(fn, name, description=description, backend=backend)
                    self._check_routed_beside(name, backend, schema.signature)
                    updated[name] = _Capability(schema, [backend])
                    continue
                signature = signature or signature_of(fn, capability=name, backend=backend)
                check_compatible(name, current.backends[0], current.schema.signature, backend, signature)
                schema = current.schema if description is None else current.schema.with_description(description)
                updated[name] = _Capability(schema, [*current.backends, backend])
            # the middleware checks the options and the tool id; if it refuses, nothing changed here
            profile = self.middleware.register(fn, names[0] if len(names) == 1 else names, **options)
            for name, entry in updated.items():
                entry.backends[-1] = profile.tool_id
                self._capabilities[name] = entry
            self._revision += 1
        return profile

    def _check_routed_beside(self, name: str, backend: str, signature: tuple[Parameter, ...]) -> None:
        """``SignatureMismatchError`` when a capability new to this toolbox is one the middleware
        already routes among functions registered elsewhere (another toolbox over the same
        middleware, or the middleware directly) that do not take the same arguments: this
        toolbox's calls go to them too, and theirs to this backend, each failing the other's tool."""
        middleware = self.middleware
        profiles = middleware.learner.tools
        for tool_id in middleware.tool_ids:
            profile = profiles.get(tool_id)
            if profile is None or name not in profile.capabilities or tool_id == backend:
                continue  # a duplicate id is the middleware's to refuse
            try:
                theirs = signature_of(middleware.function(tool_id), capability=name, backend=tool_id)
            except (ToolSchemaError, UnknownToolError):  # no signature to compare, or unbound meanwhile
                continue
            check_compatible(name, tool_id, theirs, backend, signature)
            check_compatible(name, backend, signature, tool_id, theirs)

    def tool(
        self, capability: str | Sequence[str], *, description: str | None = None, **options: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of ``register``; the function is returned unchanged."""

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register(fn, capability, description=description, **options)
            return fn

        return decorate

    def unregister(self, tool_id: str) -> None:
        """Remove a backend from the middleware and from its capabilities; a capability left
        without backends is removed too. A tool id that is no backend of this toolbox (one of
        another toolbox over the same middleware, say) raises ``UnknownToolError`` and removes
        nothing: the other toolbox would go on listing it."""
        with self._lock:
            if not any(tool_id in entry.backends for entry in self._capabilities.values()):
                raise UnknownToolError(tool_id)
            self.middleware.unregister(tool_id)
            for name in list(self._capabilities):
                entry = self._capabilities[name]
                if tool_id in entry.backends:
                    entry.backends.remove(tool_id)
                    if not entry.backends:
                        del self._capabilities[name]
            self._revision += 1

    # --- what a model sees --------------------------------------------------------------------
    @property
    def revision(self) -> int:
        """A number that changes whenever a registration changes the capabilities, their
        backends or their descriptions (what a cache of them compares)."""
        return self._revision

    @property
    def capabilities(self) -> tuple[str, ...]:
        """The capability names, in the order they were first registered."""
        return tuple(self._capabilities)

    def schema(self, name: str) -> CapabilitySchema:
        """Capability ``name``'s schema: name, description, JSON Schema of its arguments, and the
        pydantic model that validates them. ``UnknownCapabilityError`` (a ``KeyError``) otherwise."""
        entry = self._capabilities.get(name) if isinstance(name, str) else None
        if entry is None:
            raise UnknownCapabilityError(name, self._capabilities)
        return entry.schema

    def schemas(self, names: Iterable[str] | None = None) -> list[CapabilitySchema]:
        """The schemas of ``names`` (default: every capability), in that order. A single name
        given for the list raises ``TypeError`` (iterated, it would name its letters), a name
        given twice ``ValueError`` (a model must not be given two tools of one name: providers
        refuse the request)."""
        if isinstance(names, (str, bytes)):
            raise TypeError(f"names: expected a list of capability names, got the string {names!r}")
        if names is not None and not isinstance(names, Iterable):
            raise TypeError(f"names: expected a list of capability names, got {short_repr(names)}")
        schemas = [self.schema(name) for name in (self.capabilities if names is None else names)]
        listed = [s.name for s in schemas]
        if len(set(listed)) != len(listed):
            twice = sorted({name for name in listed if listed.count(name) > 1})
            raise ValueError(f"names: {twice} given more than once; a model must not be given two tools of one name")
        return schemas

    def backends(self, name: str) -> tuple[str, ...]:
        """The tool ids serving capability ``name``, in registration order;
        ``UnknownCapabilityError`` (a ``KeyError``) for a name that is no capability."""
        # one read of the table: a concurrent unregister may remove the capability between two
        entry = self._capabilities.get(name) if isinstance(name, str) else None
        if entry is None:
            raise UnknownCapabilityError(name, self._capabilities)
        return tuple(entry.backends)

    # --- one call from a model ----------------------------------------------------------------
    async def call_one(
        self,
        name: str,
        arguments: Mapping[str, Any] | str | bytes | None,
        *,
        context: str | None = None,
        serialize: Callable[[Any], str] | None = None,
        shown_names: Mapping[str, str] | None = None,
        offered: Collection[str] | None = None,
        **route_options: Any,
    ) -> ToolResult:
        """Run one tool call from a model: validate ``arguments`` (a mapping or JSON text), route
        the call with ``context`` (the request's text, for contextual policies) and
        ``route_options`` (``ToolMiddleware.route``'s: ``task_type``, ``deadline_s``...), and
        return a ``ToolResult``. Only the caller's mistakes raise (an invalid ``context``, route
        option or ``serialize``); the model's mistakes and the tools' failures are results.
        ``shown_names``: the names the model was shown for arguments a provider refuses under
        their own (``CapabilitySchema.bind``). ``offered``: the names of the tools the model was
        given in its request (default: every capability); a call of another is refused as an
        unknown tool and runs nothing, as the provider refuses a tool it was not given."""
        prepared = self._prepare(name, arguments, context, serialize, shown_names, offered, route_options)
        return self._cut(prepared if isinstance(prepared, ToolResult) else await prepared.arun())

    def call_one_sync(
        self,
        name: str,
        arguments: Mapping[str, Any] | str | bytes | None,
        *,
        context: str | None = None,
        serialize: Callable[[Any], str] | None = None,
        shown_names: Mapping[str, str] | None = None,
        offered: Collection[str] | None = None,
        **route_options: Any,
    ) -> ToolResult:
        """Synchronous form of ``call_one`` (the middleware's ``run``: sync tools in a worker
        thread, async ones on a new event loop, so not from inside a running loop)."""
        prepared = self._prepare(name, arguments, context, serialize, shown_names, offered, route_options)
        return self._cut(prepared if isinstance(prepared, ToolResult) else prepared.run())

    def _cut(self, result: ToolResult) -> ToolResult:
        """``result`` with its ``content`` cut to ``max_result_chars`` characters, a note giving its
        full length among them: a value, or an error (every backend's message, a problem per item
        of a huge argument), the model reads."""
        limit = self.max_result_chars
        if limit is None or len(result.content) <= limit:
            return result
        chars = len(result.content)

        def note(kept: int) -> str:
            return f"\n[truncated: the result has {chars:,} characters; the first {kept:,} are shown]"

        # the note counts against the limit, as the model reads it too (a shorter count of kept
        # characters makes the note no longer); a limit with no room for it cuts the text alone
        kept = limit - len(note(limit))
        content = result.content[:kept] + note(kept) if kept > 0 else result.content[:limit]
        log.warning(
            "tool_result_truncated",
            tool=result.name,
            tool_id=result.tool_id,
            status=result.status,
            chars=chars,
            kept=kept if kept > 0 else limit,
        )
        return dataclasses.replace(result, content=content)

    def _prepare(
        self,
        name: Any,
        arguments: Any,
        context: str | None,
        serialize: Callable[[Any], str] | None,
        shown_names: Mapping[str, str] | None,
        offered: Collection[str] | None,
        route_options: dict[str, Any],
    ) -> ToolResult | _PreparedCall:
        """The routed call with its arguments, or the error result of a model's mistake."""
        check_serialize(serialize)
        check_shown_names(shown_names)
        offered = _checked_offered(offered)
        shown = isinstance(name, str) and (offered is None or name in offered)
        entry = self._capabilities.get(name) if shown else None
        if entry is None:
            # the caller's options are checked all the same (routing nothing: the model's name may
            # be no name at all), as for a known tool: they were taken unseen when a response
            # named only unknown tools
            self.middleware.route(ANY_CAPABILITY, context=context, **route_options)
            tools = self._capabilities if offered is None else [n for n in self._capabilities if n in offered]
            log.info("tool_call_rejected", tool=str(name), status="unknown_tool")
            return ToolResult(str(name), unknown_tool_message(name, tools), status="unknown_tool")
        routed = self.middleware.route(name, context=context, **route_options)  # the caller's options: raise
        try:
            args, kwargs = entry.schema.bind(arguments, shown_names)
        except ToolArgumentsError as exc:
            log.info("tool_call_rejected", tool=name, status="invalid_arguments", problems=exc.problems)
            return ToolResult(name, str(exc), status="invalid_arguments")
        return _PreparedCall(name, routed, args, kwargs, serialize or to_content)


def _checked_offered(offered: Any) -> Collection[str] | None:
    """``offered`` if ``None`` or a collection of names; else ``TypeError`` naming it (a single
    name would be searched for as a substring)."""
    if offered is None:
        return None
    if isinstance(offered, (str, bytes)) or not isinstance(offered, Collection):
        raise TypeError(f"offered: expected a collection of tool names, or None, got {short_repr(offered)}")
    return offered


@dataclass(frozen=True)
class _PreparedCall:
    """A validated call, ready to route; running it gives the ``ToolResult``."""

    name: str
    routed: RoutedCall
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    serialize: Callable[[Any], str]

    def run(self) -> ToolResult:
        try:
            return self._succeeded(self.routed.run(*self.args, **self.kwargs))
        except (AllToolsFailedError, NoToolForCapabilityError) as exc:
            return self._failed(exc)

    async def arun(self) -> ToolResult:
        try:
            return self._succeeded(await self.routed.arun(*self.args, **self.kwargs))
        except (AllToolsFailedError, NoToolForCapabilityError) as exc:
            return self._failed(exc)

    def _succeeded(self, outcome: CallOutcome) -> ToolResult:
        # the tool ran and its outcome is recorded: a serialize that fails on its value fails this
        # call's result alone, where raising would take a dispatch's other results with it
        try:
            content = self.serialize(outcome.value)
        except Exception as exc:
            return self._unserializable(outcome, f"serialize raised {describe_error(exc)}")
        if not isinstance(content, str):
            return self._unserializable(outcome, f"serialize returned {type(content).__name__}, not str")
        return ToolResult(
            self.name, _plain_text(content), value=outcome.value, tool_id=outcome.tool_id, attempts=outcome.attempts
        )

    def _unserializable(self, outcome: CallOutcome, problem: str) -> ToolResult:
        log.warning("tool_result_unserializable", tool=self.name, tool_id=outcome.tool_id, problem=problem)
        content = f"tool {self.name!r} ran, but its value could not be turned into text: {problem}"
        return ToolResult(
            self.name,
            storable_text(content),
            status="unserializable",
            value=outcome.value,
            tool_id=outcome.tool_id,
            attempts=outcome.attempts,
        )

    def _failed(self, exc: AllToolsFailedError | NoToolForCapabilityError) -> ToolResult:
        if isinstance(exc, NoToolForCapabilityError):  # its last backend was removed while the call was on its way
            return ToolResult(self.name, f"tool {self.name!r} failed: no backend serves it now", status="tools_failed")
        attempts = tuple(exc.attempts)
        content = f"tool {self.name!r} failed: {exc.summary('backend')}"
        return ToolResult(self.name, content, status="tools_failed", attempts=attempts)
