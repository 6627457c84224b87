"""One JSON Schema per capability, derived from the code of the functions that serve it.

A capability is what a model sees as one tool: a name, a description and the JSON Schema of its
arguments. The schema comes from a backend's signature through pydantic, never written by hand:
each parameter's type hint (``Literal``, enums, ``list[...]``, nested pydantic models and
dataclasses, ``Annotated[..., Field(...)]`` constraints), whether it is required, its default, and
its description from the docstring (Google ``Args:``, NumPy ``Parameters`` or reST ``:param:``
layouts; a description given in ``Annotated[..., Field(description=...)]`` wins). The same pydantic
model validates the arguments a model sends, so the schema and the validation cannot drift apart.

How signatures map to arguments:

- an unannotated parameter takes any JSON value (its schema is ``{}``);
- ``**kwargs`` lets the tool take named arguments beyond its parameters (``additionalProperties``:
  the annotation's schema, or any JSON value when unannotated); without it, an argument the
  function does not take is an error the model is told about;
- ``*args`` is refused: a model sends named arguments only, and none of them could reach it;
- positional-only parameters are passed by position, the rest by name; an argument the model
  leaves out is left out of the call, so the function's own default applies;
- an argument a ``functools.partial`` binds (``partial(search, api_key=KEY)``, a connection, a
  client) is the function's own, not the model's: it is left out of the schema, so its value is
  never sent to a provider and a model cannot override it.

Every backend of a capability must accept the same arguments as the first: the same parameters,
each with the same type, default and way of passing (a backend may add parameters that have a
default). A backend that does not is refused with ``SignatureMismatchError`` naming the capability,
the backend and the parameter.

Example:
    >>> from typing import Literal
    >>> def search(query: str, region: Literal["us", "eu"] = "us") -> list[str]:
    ...     '''Search the web.
    ...
    ...     Args:
    ...         query: What to look for.
    ...         region: Where the results should come from.
    ...     '''
    ...     return [query]
    >>> schema = capability_schema(search, "web_search")
    >>> schema.description
    'Search the web.'
    >>> schema.parameters["properties"]["region"]
    {'default': 'us', 'description': 'Where the results should come from.', 'enum': ['us', 'eu'], 'type': 'string'}
    >>> schema.bind('{"query": "bandits"}')
    ((), {'query': 'bandits'})
"""

from __future__ import annotations

import collections
import copy
import dataclasses
import datetime
import functools
import hashlib
import inspect
import itertools
import json
import math
import re
import reprlib
import sys
import types
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

import pydantic_core
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PydanticUserError,
    Tag,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)
from pydantic.fields import FieldInfo
from pydantic.json_schema import GenerateJsonSchema

from integrations._docstrings import parameter_docs, summary
from toolrouter.errors import ToolRouterError
from toolrouter.middleware import docstring_of
from toolrouter.serialization import short_repr

__all__ = [
    "ARGUMENT_NAME_PATTERN",
    "NO_DEFAULT",
    "TOOL_NAME_PATTERN",
    "CapabilitySchema",
    "SignatureMismatchError",
    "ToolArgumentsError",
    "Parameter",
    "ToolSchemaError",
    "capability_schema",
    "check_compatible",
    "check_shown_names",
    "check_tool_name",
    "fits_openai_strict",
    "resolve_ref",
    "schema_from_signature",
    "signature_of",
]

#: The tool names that OpenAI and Anthropic both accept.
TOOL_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_-]{1,64}")
#: The argument names that OpenAI and Anthropic both accept in a tool's schema (Anthropic's
#: Messages API refuses the whole request when one tool has another; it checks the top-level
#: names only, so a nested object's keys go as they are).
ARGUMENT_NAME_PATTERN = re.compile(r"[a-zA-Z0-9_.-]{1,64}")

#: The JSON Schema keywords OpenAI's strict mode accepts (its documented subset), and the formats.
_STRICT_KEYWORDS = frozenset(
    {
        "type", "properties", "required", "additionalProperties", "items", "enum", "const", "anyOf",
        "$ref", "$defs", "description", "title", "pattern", "format", "multipleOf", "minimum",
        "maximum", "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems",
    }
)  # fmt: skip
_JSON_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
_STRICT_FORMATS = frozenset({"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"})
#: OpenAI strict mode's limits on a schema's size, from its Structured Outputs guide ("Supported
#: schemas": objects have limitations on nesting depth and size); a strict tool over one of them
#: makes OpenAI refuse the whole request.
_STRICT_MAX_LEVELS = 10  # levels of nesting (counted here as objects and arrays inside one another, the root one)
_STRICT_MAX_PROPERTIES = 5_000  # object properties in the whole schema
_STRICT_MAX_TEXT = 120_000  # characters of all property names, definition names, enum values and const values
_STRICT_MAX_ENUM_VALUES = 1_000  # enum values in the whole schema
_STRICT_LARGE_ENUM = 250  # a string enum of more values than this...
_STRICT_MAX_LARGE_ENUM_TEXT = 15_000  # ...has at most this many characters in all its values

ParameterKind = Literal["positional", "keyword", "var_keyword"]
_PARAMETER_KINDS: tuple[str, ...] = get_args(ParameterKind)


class ToolSchemaError(ToolRouterError, ValueError):
    """A function that cannot serve as a tool: a tool name providers refuse, or a signature that
    has no JSON Schema (``*args``, a type pydantic cannot describe, annotations that do not
    resolve). Nothing was registered."""


class SignatureMismatchError(ToolSchemaError):
    """A backend whose arguments differ from its capability's; nothing was registered.
    ``capability``, ``backend`` and ``parameter`` name where."""

    def __init__(self, capability: str, backend: str, parameter: str, problem: str, reference: str) -> None:
        self.capability = capability
        self.backend = backend
        self.parameter = parameter
        super().__init__(
            f"capability {capability!r}: backend {backend!r} does not take the capability's arguments "
            f"(those of backend {reference!r}): parameter {parameter!r} {problem}"
        )


#: Most problems a ``ToolArgumentsError`` lists; the rest are counted.
MAX_LISTED_PROBLEMS = 10

#: The string formats whose text pydantic reads as a Unix time when it is a number (``"0"`` a
#: date-time in 1970, ``"20240101"`` one in August 1970), each with the text it means.
_DATE_FORMATS = {"date-time": "2026-01-31T12:00:00Z", "date": "2026-01-31"}
#: The types of those formats, with the union member's label pydantic gives each in its errors.
_DATE_TYPES = {datetime.datetime: ("date-time", "datetime"), datetime.date: ("date", "date")}


class ToolArgumentsError(ToolRouterError, ValueError):
    """Arguments a model sent that do not fit the tool's schema. The message is written for the
    model: the tool, then each problem (the field, what was expected, what came). ``problems``
    lists the first ``MAX_LISTED_PROBLEMS`` and then how many more there are: a model that sent
    thousands of wrong values reads what to fix, not a message larger than its context window."""

    def __init__(self, tool: str, problems: list[str]) -> None:
        self.tool = tool
        self.problems = list(problems[:MAX_LISTED_PROBLEMS])
        if len(problems) > MAX_LISTED_PROBLEMS:
            self.problems.append(f"and {len(problems) - MAX_LISTED_PROBLEMS} more problems")
        super().__init__(f"invalid arguments for tool {tool!r}: " + "; ".join(self.problems))


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


#: The default of a parameter that may be left out but states no default (a JSON Schema property
#: that is neither required nor given a default): the schema shows none, and a call the model
#: makes without the argument leaves it out.
NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class Parameter:
    """One parameter of a tool function, as the capability's schema sees it."""

    name: str
    kind: ParameterKind
    annotation: Any  # ``Any`` when unannotated
    default: Any = inspect.Parameter.empty  # ``inspect.Parameter.empty``: required; or NO_DEFAULT
    description: str = ""
    #: the JSON Schema a model sees for the parameter where the annotation cannot say it all (a
    #: tool's own schema: nested properties, constraints, formats); ``None``: the annotation's.
    #: Arguments are still validated by the annotation, and backends compared by it.
    json_schema: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        # stated by hand in a backend's ``__tool_parameters__``: a mistake here would make a schema
        # that providers refuse, or calls that fail in the backend and count as its failures
        if not isinstance(self.name, str):
            raise TypeError(f"name: expected a parameter name (str), got {self.name!r}")
        if not self.name:
            raise ToolSchemaError("name: a parameter needs a name, got ''")
        if self.kind not in _PARAMETER_KINDS:
            raise ToolSchemaError(f"kind: expected one of {list(_PARAMETER_KINDS)}, got {self.kind!r} (parameter {self.name!r})")
        if not isinstance(self.description, str):
            raise TypeError(f"description: expected a string, got {self.description!r} (parameter {self.name!r})")
        if self.json_schema is not None and not isinstance(self.json_schema, Mapping):
            raise TypeError(f"json_schema: expected a JSON Schema (a mapping) or None, got {self.json_schema!r} (parameter {self.name!r})")
        ref = None if self.json_schema is None else _first_ref(self.json_schema)
        if ref is not None:
            # it stands inside the capability's schema, where the pointer would mean another place
            # (pydantic failed on it with a bare KeyError)
            raise ToolSchemaError(
                f"json_schema: has a $ref ({ref!r}); write out the schema it points to in its place "
                f"(parameter {self.name!r})"
            )

    @property
    def required(self) -> bool:
        """Whether a call must give this parameter."""
        return self.kind != "var_keyword" and self.default is inspect.Parameter.empty


def _first_ref(schema: Mapping[str, Any]) -> str | None:
    """The first ``$ref`` in ``schema`` (a walk with a stack of its own), or ``None``."""
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if isinstance(node.get("$ref"), str):
                return node["$ref"]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return None


def check_tool_name(name: Any, field_name: str = "capability") -> str:
    """``name`` if providers accept it as a tool name (``^[a-zA-Z0-9_-]{1,64}$``), else
    ``ToolSchemaError`` naming ``field_name`` and the value."""
    if not isinstance(name, str) or not TOOL_NAME_PATTERN.fullmatch(name):
        raise ToolSchemaError(
            f"{field_name}: {name!r} is not a tool name that model providers accept "
            "(1 to 64 letters, digits, '_' or '-')"
        )
    return name


def check_shown_names(shown_names: Any) -> Mapping[str, str] | None:
    """``shown_names`` if ``None`` or a mapping of argument names to the names a model was shown,
    else ``TypeError`` naming it."""
    if shown_names is not None and not (
        isinstance(shown_names, Mapping) and all(isinstance(k, str) and isinstance(v, str) for k, v in shown_names.items())
    ):
        raise TypeError(
            f"shown_names: expected a mapping of argument names to the names shown, or None, got {short_repr(shown_names)}"
        )
    return shown_names


def signature_of(fn: Callable[..., Any], *, capability: str, backend: str) -> tuple[Parameter, ...]:
    """The parameters of ``fn`` with resolved type hints and docstring descriptions.
    ``ToolSchemaError`` (naming the capability, the backend and the parameter) for ``*args``, a
    pydantic ``Field`` given as a default, or annotations that cannot be resolved.

    A function that takes ``**kwargs`` may state its parameters instead, as a tuple of
    ``Parameter`` in its ``__tool_parameters__``: a backend standing for a tool whose arguments
    Python cannot name (a JSON Schema property named ``from`` or ``user-id``)."""
    where = f"capability {capability!r}: backend {backend!r}"
    stated = getattr(fn, "__tool_parameters__", None)
    if stated is not None:
        if not isinstance(stated, tuple) or not all(isinstance(p, Parameter) for p in stated):
            raise ToolSchemaError(f"{where}: __tool_parameters__ must be a tuple of Parameter, got {stated!r}")
        names = [p.name for p in stated]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice or sum(p.kind == "var_keyword" for p in stated) > 1:
            problem = f"names {twice} more than once" if twice else "more than one var_keyword parameter"
            raise ToolSchemaError(f"{where}: __tool_parameters__ has {problem}")
        return stated
    try:
        sig = inspect.signature(fn, eval_str=True)
    except (NameError, SyntaxError, TypeError, AttributeError) as exc:
        raise ToolSchemaError(f"{where}: its signature cannot be read or its annotations resolved: {exc}") from exc
    except ValueError as exc:  # builtins without a signature
        raise ToolSchemaError(f"{where}: it has no signature to derive a schema from: {exc}") from exc
    try:
        hints = _resolved_hints(fn, sig)
    except (NameError, SyntaxError, TypeError) as exc:
        raise ToolSchemaError(f"{where}: its annotations cannot be resolved: {exc}") from exc
    docs = parameter_docs(docstring_of(fn))
    # inspect shows a partial's keywords as defaults a call may override: they are bound here
    bound = fn.keywords if isinstance(fn, functools.partial) else {}
    params: list[Parameter] = []
    for p in sig.parameters.values():
        if p.name in bound and p.kind is inspect.Parameter.KEYWORD_ONLY:
            continue
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            raise ToolSchemaError(
                f"{where}: parameter '*{p.name}' cannot be filled by a model, which sends named arguments "
                "only; give the function named parameters"
            )
        if isinstance(p.default, FieldInfo):
            raise ToolSchemaError(
                f"{where}: parameter {p.name!r} has a pydantic Field as its default; write "
                f"`{p.name}: Annotated[<type>, Field(...)] = <default>` instead"
            )
        kind: ParameterKind = (
            "positional"
            if p.kind is inspect.Parameter.POSITIONAL_ONLY
            else "var_keyword" if p.kind is inspect.Parameter.VAR_KEYWORD else "keyword"
        )
        annotation = hints.get(p.name, Any)
        params.append(Parameter(p.name, kind, annotation, p.default, docs.get(p.name, "")))
    return tuple(params)


def _resolved_hints(fn: Callable[..., Any], sig: inspect.Signature) -> dict[str, Any]:
    """The parameters' annotations with the forward references left in them (``list["Item"]``, or a
    quoted name in a module of postponed annotations) resolved in the module of ``fn``'s code."""
    code: Any = fn
    while isinstance(code, functools.partial):
        code = code.func
    if not (inspect.isfunction(code) or inspect.ismethod(code)):
        code = getattr(type(code), "__call__", code)  # a callable object: its class's __call__
    annotated = {p.name: p.annotation for p in sig.parameters.values() if p.annotation is not inspect.Parameter.empty}
    holder = types.SimpleNamespace(__annotations__=annotated)
    return get_type_hints(holder, globalns=getattr(inspect.unwrap(code), "__globals__", {}), include_extras=True)


def check_compatible(
    capability: str, reference_backend: str, reference: tuple[Parameter, ...], backend: str, candidate: tuple[Parameter, ...]
) -> None:
    """Raise ``SignatureMismatchError`` unless a function with parameters ``candidate`` accepts
    every call that the capability's parameters ``reference`` allow, passed the same way."""

    def mismatch(parameter: str, problem: str) -> SignatureMismatchError:
        return SignatureMismatchError(capability, backend, parameter, problem, reference_backend)

    theirs = {p.name: p for p in candidate}
    their_var_keyword = next((p for p in candidate if p.kind == "var_keyword"), None)
    for ours in reference:
        if ours.kind == "var_keyword":
            if their_var_keyword is None:
                raise mismatch(f"**{ours.name}", "is missing: the capability takes extra named arguments")
            if not _same_type(their_var_keyword.annotation, ours.annotation):
                raise mismatch(
                    f"**{ours.name}",
                    f"has type {_type_name(their_var_keyword.annotation)}, the capability {_type_name(ours.annotation)}",
                )
            continue
        other = theirs.get(ours.name)
        if other is None or other.kind == "var_keyword":
            raise mismatch(ours.name, "is missing")
        if not _same_type(other.annotation, ours.annotation):
            raise mismatch(ours.name, f"has type {_type_name(other.annotation)}, the capability {_type_name(ours.annotation)}")
        if other.required != ours.required or not (ours.required or _same_default(ours.default, other.default)):
            raise mismatch(ours.name, f"has {_default_text(other)}, the capability {_default_text(ours)}")
    known = {p.name for p in reference}
    for other in candidate:
        if other.name not in known and other.required:
            raise mismatch(other.name, "is required here and is not an argument of the capability")
    ours_by_position = [p.name for p in reference if p.kind == "positional"]
    theirs_by_position = [p.name for p in candidate if p.kind == "positional"]
    if ours_by_position != theirs_by_position:
        first = next(a or b for a, b in itertools.zip_longest(ours_by_position, theirs_by_position) if a != b)
        raise mismatch(
            first,
            f"is passed differently: positional-only parameters here {theirs_by_position}, "
            f"the capability {ours_by_position}",
        )


class _ToolSchemaGenerator(GenerateJsonSchema):
    # a property's title would only repeat its name to the model
    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> Any:
        json_schema = super().default_schema(schema)
        # a default of NaN or an infinity (``limit: float = math.inf``) has no JSON: sent as it is,
        # it would make every request carrying the tools invalid JSON. The schema leaves it out;
        # the function's own default still applies when the model leaves the argument out.
        if isinstance(json_schema, dict) and "default" in json_schema:
            try:
                json.dumps(json_schema["default"], allow_nan=False)
            except ValueError:
                del json_schema["default"]
        return json_schema


@dataclass(frozen=True)
class CapabilitySchema:
    """A capability as a model sees one tool: ``name``, ``description``, the JSON Schema of its
    arguments (``parameters``, a fresh copy on each read), and the pydantic ``model`` that
    validates them. ``strict`` says whether the schema fits OpenAI's strict mode.

    ``bind(arguments)`` turns what a model sent into the ``(args, kwargs)`` of a call, or raises
    ``ToolArgumentsError`` with a message the model can act on.
    """

    name: str
    description: str
    model: type[BaseModel]
    signature: tuple[Parameter, ...]
    strict: bool
    _parameters: dict[str, Any] = field(repr=False)
    _fields: tuple[tuple[str, Parameter], ...] = field(repr=False)  # (model field, parameter)

    @property
    def parameters(self) -> dict[str, Any]:
        """The JSON Schema of the arguments (an object schema)."""
        return copy.deepcopy(self._parameters)

    @functools.cached_property
    def shown_names(self) -> Mapping[str, str]:
        """Each argument whose name a provider refuses (``filter[id]``, ``user id``, longer than 64
        characters: an MCP tool's, say; see ``ARGUMENT_NAME_PATTERN``) and the name a model is
        shown instead: its characters the providers refuse made ``_``, cut to fit, and made unique
        with a digest of the name. ``validate(arguments, shown_names)`` takes it back."""
        properties = [p.name for p in self.signature if p.kind != "var_keyword"]
        taken = set(properties)
        shown = {}
        for name in properties:
            if ARGUMENT_NAME_PATTERN.fullmatch(name):
                continue
            alias = re.sub(r"[^a-zA-Z0-9_.-]", "_", name)[:64]
            if alias in taken:
                alias = f"{alias[:56]}_{hashlib.sha256(name.encode()).hexdigest()[:7]}"
            taken.add(alias)
            shown[name] = alias
        return types.MappingProxyType(shown)  # computed once, shared by every call: read-only

    @functools.cached_property
    def _has_choices(self) -> bool:
        """Whether the schema has a ``const`` or an ``enum`` (see ``_cross_typed``): most have
        none, and their arguments need no walk."""
        return _has_node(self._parameters, lambda node: "const" in node or "enum" in node)

    @functools.cached_property
    def _has_dates(self) -> bool:
        """Whether the schema has a date format (``_DATE_FORMATS``): only then are the arguments
        searched for a string that is a number (see ``_cross_typed``)."""
        return _has_node(self._parameters, lambda node: node.get("format") in _DATE_FORMATS)

    @property
    def shown_parameters(self) -> dict[str, Any]:
        """``parameters`` with each argument under the name a model is shown (``shown_names``):
        the schema of a tool that every provider accepts."""
        parameters = self.parameters
        shown = self.shown_names
        if shown:
            parameters["properties"] = {shown.get(k, k): v for k, v in parameters["properties"].items()}
            if "required" in parameters:
                parameters["required"] = [shown.get(k, k) for k in parameters["required"]]
        return parameters

    def with_description(self, description: str) -> "CapabilitySchema":
        """The same schema with another description."""
        return dataclasses.replace(self, description=description)

    def validate(
        self, arguments: Mapping[str, Any] | str | bytes | None, shown_names: Mapping[str, str] | None = None
    ) -> BaseModel:
        """The arguments as an instance of ``model``: a mapping of JSON values, or JSON text of an
        object (``None``, empty text or ``"null"``: no arguments). ``ToolArgumentsError`` names
        each problem, NaN and the infinities among them: JSON has no such numbers (Python's parser
        reads its ``NaN`` and ``Infinity`` tokens all the same), and a float parameter would take
        them unseen.

        The arguments are validated as the JSON they are, strictly, as the schema shown to the
        model says: ``true`` or ``"5"`` is no integer, ``1`` or ``"yes"`` no boolean, ``"2.5"`` no
        number, ``true`` no value of ``Literal[1]`` or of an ``IntEnum`` (pydantic's lax mode would
        take each, and a model's mistake would reach the tool as a value it did not mean); a string stands for what JSON writes as one (a date, a UUID, an
        enum's value; a date's string that is a number, which pydantic reads as a Unix time, is
        no date), and a number with no fractional part for an integer, as in JSON Schema
        (``5.0``: a provider that writes every number as a float).

        ``shown_names`` maps an argument the model was shown under another name (one a provider
        refuses) to that name: the model sends it under that name, and the problems name it so,
        the names the model knows: its own name, never shown, is refused as an argument the tool
        does not take (and both names together as the one argument sent twice)."""
        shown = check_shown_names(shown_names) or {}
        data = _parse_arguments(self.name, arguments)
        if shown:
            own = {alias: name for name, alias in shown.items()}
            # an argument under the name the model was never shown: taken, it would pass a made-up
            # name (or, beside the shown one, drop one of two values unseen)
            unshown = [name for name, alias in shown.items() if name != alias and name not in own and name in data]
            if unshown:
                twice = [name for name in unshown if shown[name] in data]
                raise ToolArgumentsError(
                    self.name,
                    [f"{shown[name]}: sent twice, also as {name!r}, a name not shown; send it once, as {shown[name]}" for name in twice]
                    or [f"{_short_name(name)}: {_not_an_argument([p.name for _, p in self._fields], shown)}" for name in unshown],
                )
            data = {own.get(key, key): value for key, value in data.items()}
        if not _all_finite(data):
            found = _non_finite_numbers(data)
            raise ToolArgumentsError(
                self.name, [f"{_shown_path(path, shown)}: {n} is not a JSON number; send a finite number" for path, n in found]
            )
        # pydantic matches a Literal or an enum by Python equality even strictly, where True == 1:
        # ``true`` would pass for ``Literal[1]`` (an IntEnum), ``1`` for ``Literal[True]``; and it
        # reads a date-time's text that is a number as a Unix time (``"0"``: 1970)
        walk = self._has_choices or (self._has_dates and _has_number_text(data))
        crossed = _cross_typed(self._parameters, data) if walk else []
        try:
            model = _validated_as_json(self.model, data)
        except ValidationError as exc:
            named = {tuple(map(str, error["loc"])) for error in exc.errors()}
            crossed = [(path, problem) for path, problem in crossed if path not in named]
            problems = _problems(exc, [p.name for _, p in self._fields], shown)
            raise ToolArgumentsError(self.name, problems + [f"{_shown_path(p, shown)}: {m}" for p, m in crossed]) from None
        if crossed:
            raise ToolArgumentsError(self.name, [f"{_shown_path(p, shown)}: {m}" for p, m in crossed])
        return model

    def bind(
        self, arguments: Mapping[str, Any] | str | bytes | None, shown_names: Mapping[str, str] | None = None
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The validated arguments as ``(args, kwargs)`` for any backend of the capability:
        positional-only parameters by position (their defaults filled in), the others by name
        when the model gave them, extra named arguments when the functions take ``**kwargs``.
        ``shown_names`` as for ``validate``: the kwargs are under the arguments' own names."""
        model = self.validate(arguments, shown_names)
        given = model.model_fields_set
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for field_name, param in self._fields:
            if param.kind == "positional":
                args.append(getattr(model, field_name))
            elif field_name in given:
                kwargs[param.name] = getattr(model, field_name)
        kwargs.update(model.model_extra or {})
        return tuple(args), kwargs


def capability_schema(
    fn: Callable[..., Any], name: str, *, description: str | None = None, backend: str | None = None
) -> CapabilitySchema:
    """The schema of capability ``name`` as served by ``fn`` (``backend`` names it in errors,
    default its ``__name__``). ``description`` defaults to the docstring's summary."""
    check_tool_name(name)
    backend = backend or getattr(fn, "__name__", repr(fn))
    signature = signature_of(fn, capability=name, backend=backend)
    return schema_from_signature(
        name, signature, description=summary(docstring_of(fn)) if description is None else description, backend=backend
    )


def schema_from_signature(
    name: str, signature: tuple[Parameter, ...], *, description: str, backend: str
) -> CapabilitySchema:
    """The schema of capability ``name`` whose backends take ``signature``."""
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {"__module__": __name__}
    fields: list[tuple[str, Parameter]] = []
    extra = "forbid"
    for i, param in enumerate(signature):
        if param.kind == "var_keyword":
            extra = "allow"
            annotations["__pydantic_extra__"] = dict[str, param.annotation]
            continue
        # internal field names, the parameter's name as alias: any name works, even one pydantic
        # reserves (``json``, ``model_config``) or treats as private (``_id``)
        field_name = f"p{i}"
        shown = None if param.json_schema is None else WithJsonSchema(dict(param.json_schema))
        annotation = _dates_in_unions_not_numbers(param.annotation)
        annotations[field_name] = annotation if shown is None else Annotated[annotation, shown]
        described = {} if _has_description(param.annotation) or not param.description else {"description": param.description}
        # a default factory puts no default in the schema (the factory's value never reaches a call:
        # an argument the model leaves out is left out)
        if param.default is NO_DEFAULT:
            default: dict[str, Any] = {"default_factory": type(None)}
        else:
            default = {"default": ... if param.required else param.default}
        namespace[field_name] = Field(**default, alias=param.name, **described)
        fields.append((field_name, param))
    namespace["__annotations__"] = annotations
    namespace["model_config"] = ConfigDict(extra=extra)
    try:
        model = type(name, (BaseModel,), namespace)
        parameters = model.model_json_schema(schema_generator=_ToolSchemaGenerator)
    except (PydanticUserError, TypeError, ValueError) as exc:
        raise ToolSchemaError(_schema_failure(name, backend, signature, exc)) from exc
    return CapabilitySchema(
        name=name,
        description=description,
        model=model,
        signature=signature,
        strict=fits_openai_strict(parameters),
        _parameters=parameters,
        _fields=tuple(fields),
    )


def _dates_in_unions_not_numbers(annotation: Any, in_union: bool = False) -> Any:
    """``annotation`` with each date type that is a union's member (``datetime | str``, in a list
    or a dict too) refusing text that is a number: pydantic reads it as a Unix time, and its union
    took ``"0"`` as 1970 where the string the model sent fits. A date type alone is left as it is
    (``_cross_typed`` refuses such text, in the user's own models too)."""
    if in_union and any(annotation is t for t in _DATE_TYPES):
        date_format, label = _DATE_TYPES[annotation]
        return Annotated[annotation, BeforeValidator(functools.partial(_date_from_text, annotation, date_format)), Tag(label)]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is None or origin is Literal or not args:
        return annotation
    if origin is Annotated:  # the type first, then its metadata, kept
        rewritten = (_dates_in_unions_not_numbers(args[0], in_union), *args[1:])
    else:
        union = origin is Union or origin is types.UnionType
        rewritten = tuple(_dates_in_unions_not_numbers(arg, union) for arg in args)
    if all(new is old for new, old in zip(rewritten, args)):
        return annotation
    try:
        return Union[rewritten] if origin is types.UnionType else origin[rewritten]
    except TypeError:  # a generic that cannot be made again from its arguments: as it is
        return annotation


def _date_from_text(kind: type, date_format: str, value: Any) -> Any:
    """``value`` as the date ``kind``, read from JSON text as pydantic reads it strictly, unless a
    number (``_dates_in_unions_not_numbers``); anything else is left to pydantic's own check."""
    if not isinstance(value, str):
        return value
    if _number_text(value):
        raise pydantic_core.PydanticCustomError("date_from_number", f"Input should be {_date_wanted(date_format)}, not a number")
    try:  # here the text is a Python str, which a strict date check refuses: read it as JSON's
        return _DATE_ADAPTERS[kind].validate_json(json.dumps(value), strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise pydantic_core.PydanticCustomError(error["type"], error["msg"]) from None


_DATE_ADAPTERS = {kind: TypeAdapter(kind) for kind in _DATE_TYPES}


def _date_wanted(date_format: str) -> str:
    return f"a {date_format} as ISO 8601 text ({_DATE_FORMATS[date_format]})"


def fits_openai_strict(schema: Mapping[str, Any]) -> bool:
    """Whether ``schema`` may be sent with ``strict: true`` under OpenAI's strict-mode rules: an
    object at the root; in every object each property required and ``additionalProperties:
    false``; every schema typed (a ``type``, an ``anyOf`` or a ``$ref``, and a ``$ref`` with no
    keyword beside it, pointing into the schema); only the keywords (and string formats) strict
    mode supports; within its limits on size (at most 10 levels of nesting, 5,000 object
    properties, 1,000 enum values, 120,000 characters of names, enum and const values, 15,000
    characters in a string enum of over 250 values). When in doubt, no."""
    if schema.get("type") != "object":
        return False
    size = _StrictSize()
    try:
        return _strict_node(schema, size) and size.fits() and _levels(schema, schema, {}, frozenset()) <= _STRICT_MAX_LEVELS
    except RecursionError:  # nested deeper than Python recurses: far past the limit on nesting
        return False


@dataclass
class _StrictSize:
    """What OpenAI's strict-mode limits count in a schema, each node (and definition) once."""

    properties: int = 0
    text: int = 0
    enum_values: int = 0
    large_enum_text: int = 0  # of the largest string enum of over _STRICT_LARGE_ENUM values

    def add(self, node: Mapping[str, Any]) -> None:
        names = [*node.get("properties", {}), *node.get("$defs", {})]
        self.properties += len(node.get("properties", {}))
        self.text += sum(len(str(name)) for name in names)
        values = node.get("enum", [])
        enum_text = sum(len(v if isinstance(v, str) else str(v)) for v in values)
        self.enum_values += len(values)
        self.text += enum_text
        if len(values) > _STRICT_LARGE_ENUM and all(isinstance(v, str) for v in values):
            self.large_enum_text = max(self.large_enum_text, enum_text)
        if "const" in node:
            self.text += len(node["const"] if isinstance(node["const"], str) else str(node["const"]))

    def fits(self) -> bool:
        return (
            self.properties <= _STRICT_MAX_PROPERTIES
            and self.text <= _STRICT_MAX_TEXT
            and self.enum_values <= _STRICT_MAX_ENUM_VALUES
            and self.large_enum_text <= _STRICT_MAX_LARGE_ENUM_TEXT
        )


def _strict_node(node: Any, size: _StrictSize) -> bool:
    if not isinstance(node, Mapping) or set(node) - _STRICT_KEYWORDS:
        return False
    if "format" in node and node["format"] not in _STRICT_FORMATS:
        return False
    kinds = node.get("type", [])
    if (
        not all(isinstance(node.get(k, {}), Mapping) for k in ("properties", "$defs", "items"))
        or not all(isinstance(node.get(k, []), list) for k in ("anyOf", "enum", "required"))
        or not all(isinstance(kind, str) and kind in _JSON_TYPES for kind in (kinds if isinstance(kinds, list) else [kinds]))
    ):
        return False  # not a JSON Schema
    # OpenAI refuses a schema without a type ("schema must have a 'type' key": an unannotated
    # parameter's {}) and a $ref with a keyword beside it ("$ref cannot have keywords
    # {'description'}": a model parameter described in the docstring)
    if "$ref" in node:
        if len(node) > 1:
            return False
    elif "type" not in node and "anyOf" not in node:
        return False
    if node.get("type") == "object" or "properties" in node:
        properties = node.get("properties", {})
        if node.get("additionalProperties") is not False or set(node.get("required", ())) != set(properties):
            return False
    size.add(node)
    return all(_strict_node(s, size) for s in [*_subschemas(node), *node.get("$defs", {}).values()])


def _subschemas(node: Mapping[str, Any]) -> list[Any]:
    """The schemas nested in ``node`` (its ``$defs`` not among them: each stands where a ``$ref``
    points to it)."""
    return [*node.get("properties", {}).values(), *node.get("anyOf", ()), *([node["items"]] if "items" in node else [])]


def _levels(node: Mapping[str, Any], root: Mapping[str, Any], resolved: dict[str, float], resolving: frozenset[str]) -> float:
    """The levels of nesting from ``node`` down: objects and arrays inside one another, through
    ``$ref``s (each resolved once; one back into a definition being resolved, a recursive
    schema, adds nothing); infinite for a ``$ref`` that points nowhere in ``root``."""
    ref = node.get("$ref")
    if ref is not None:
        target = resolve_ref(root, ref)
        if target is None:
            return math.inf
        if ref in resolving:
            return 0
        if ref not in resolved:
            resolved[ref] = _levels(target, root, resolved, resolving | {ref})
        return resolved[ref]
    kinds = node.get("type")
    own = 1 if {"object", "array"} & set(kinds if isinstance(kinds, list) else [kinds]) else 0  # (names checked)
    return own + max((_levels(s, root, resolved, resolving) for s in _subschemas(node)), default=0)


#: Where a schema holds schemas, the only places a JSON Pointer to a schema passes: a keyword whose
#: value is a schema, one whose value names schemas, and one whose value lists them (``items`` a
#: schema, or a list of them in the drafts before 2020-12).
_SUBSCHEMA = frozenset(
    {
        "items", "additionalItems", "additionalProperties", "not", "if", "then", "else", "contains",
        "propertyNames", "unevaluatedItems", "unevaluatedProperties", "contentSchema",
    }
)  # fmt: skip
_SUBSCHEMAS_BY_NAME = frozenset({"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"})
_SUBSCHEMAS_BY_POSITION = frozenset({"anyOf", "allOf", "oneOf", "prefixItems", "items"})


def resolve_ref(root: Mapping[str, Any], ref: Any) -> Mapping[str, Any] | None:
    """The schema the ``$ref`` ``ref`` points to in ``root``: a JSON Pointer fragment (``#``,
    ``#/$defs/Item``, ``#/properties/origin``, ``#/anyOf/0``; ``~1``, ``~0`` and percent-escapes
    read as RFC 6901 says). ``None`` for a reference to another document (never fetched), a
    pointer to nowhere in ``root``, and one to something that is no schema (``#/properties``
    itself, ``#/required/0``, a keyword's value): read as a schema, it would be a wrong one."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        return None
    node: Any = root
    holder: str | None = None  # the keyword whose schemas, by name or by position, the next part picks
    for part in urllib.parse.unquote(ref[1:]).split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if holder is None:  # at a schema: the part is a keyword
            if not isinstance(node, Mapping) or part not in node:
                return None
            node = node[part]
            if part in _SUBSCHEMAS_BY_POSITION and isinstance(node, list):
                holder = part
            elif part in _SUBSCHEMAS_BY_NAME and isinstance(node, Mapping):
                holder = part
            elif part not in _SUBSCHEMA:
                return None
        elif isinstance(node, list):  # a position
            if not part.isdigit() or int(part) >= len(node):
                return None
            node, holder = node[int(part)], None
        else:  # a name
            if part not in node:
                return None
            node, holder = node[part], None
    return node if holder is None and isinstance(node, Mapping) else None


def _parse_arguments(tool: str, arguments: Any) -> dict[str, Any]:
    if arguments is None:
        return {}
    if isinstance(arguments, (str, bytes, bytearray)):
        if not arguments.strip():
            return {}
        try:
            arguments = json.loads(arguments)
        except ValueError as exc:  # JSONDecodeError, bytes that are not UTF-8, an integer too long to read
            if type(exc) is ValueError:  # valid JSON past Python's bound on an integer's digits
                digits = sys.get_int_max_str_digits()
                problem = f"the arguments hold an integer of more than {digits:,} digits; send a shorter number"
            else:
                problem = f"the arguments are not valid JSON ({exc}); send one JSON object"
            raise ToolArgumentsError(tool, [problem]) from None
        except RecursionError:  # valid JSON or not: the parser stops where Python stops recursing
            too_deep = "nested too deeply to read (objects and arrays inside one another, past the JSON parser's limit)"
            raise ToolArgumentsError(tool, [f"the arguments are {too_deep}; send one JSON object nested less deeply"]) from None
        if arguments is None:  # "null": as None is, no arguments
            return {}
        if type(arguments) is dict:  # parsed here: a dict of our own, no copy to make
            return arguments
    if not isinstance(arguments, Mapping):
        raise ToolArgumentsError(tool, [f"expected a JSON object of named arguments, got {_json_kind(arguments)}"])
    return dict(arguments)


def _validated_as_json(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """``data`` validated by ``model`` strictly, as JSON (see ``CapabilitySchema.validate``)."""
    try:
        text = pydantic_core.to_json(data)
    except pydantic_core.PydanticSerializationError:  # a caller's own objects, or nested deeper than JSON text goes
        return model.model_validate(data, strict=True)
    try:
        return model.model_validate_json(text, strict=True)
    except ValidationError as exc:
        if any(error["type"] == "json_invalid" for error in exc.errors()):  # nested past the JSON parser's limit
            return model.model_validate(data, strict=True)
        whole = pydantic_core.to_json(_integral_floats_as_ints(data))
        if whole == text:
            raise
    # only now: a float parameter, or one of any type, keeps the 5.0 the model sent
    return model.model_validate_json(whole, strict=True)


def _cross_typed(root: Mapping[str, Any], data: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """(path, problem) of each boolean in ``data`` where the JSON Schema ``root`` has a ``const``
    or an ``enum`` and takes no boolean (its ``const``, ``enum`` or ``type`` says so in every
    branch that reaches there), of each other number where it takes only booleans, and of each
    string that is a number where it takes only dates (``_DATE_FORMATS``), level by level. Where
    the schema says nothing that reaches a value (``{}``, a ``$ref`` to nowhere), or no ``const``,
    ``enum`` or date format does, any goes: pydantic's strict check of the type decides."""
    found = []
    # the items of an array meet the same schemas: each set of them is expanded, and judged for a
    # boolean or a number, once per call, and an item's path is written only for a problem
    reached: dict[tuple[int, ...], list[Mapping[str, Any]]] = {}
    wanted: dict[tuple[tuple[int, ...], bool], list[str] | None] = {}

    def expand(nodes: list[Mapping[str, Any]]) -> tuple[tuple[int, ...], list[Mapping[str, Any]]]:
        key = tuple(map(id, nodes))
        if key not in reached:
            reached[key] = _reached(root, nodes)
        return key, reached[key]

    stack: list[tuple[tuple[str, ...], Any, list[Mapping[str, Any]]]] = [((), data, [root])]
    while stack:
        path, value, nodes = stack.pop()
        nodes = expand(nodes)[1]
        if isinstance(value, Mapping):
            members: Any = [(str(k), sub, _children(nodes, str(k))) for k, sub in value.items()]
        elif any("prefixItems" in node for node in nodes):  # the items' schemas one by one
            members = [(i, sub, _children(nodes, i)) for i, sub in enumerate(value)]
        else:
            items = _children(nodes, 0)
            members = ((i, sub, items) for i, sub in enumerate(value))
        nested = []
        below: Any = None
        for name, sub, children in members:
            if isinstance(sub, (bool, int, float)):
                if children is not below:  # the same list for every item of an array: expanded once
                    below, (key, reaching) = children, expand(children)
                is_bool = isinstance(sub, bool)
                if (key, is_bool) not in wanted:
                    wanted[key, is_bool] = _wanted(is_bool, reaching)
                takes = wanted[key, is_bool]
                if takes is not None:
                    found.append(((*path, str(name)), f"Input should be {' or '.join(takes)} (got {_short_json(sub)})"))
            elif isinstance(sub, str):
                dates = _number_text(sub) and _dates_only(expand(children)[1], sub)
                if dates:
                    found.append(((*path, str(name)), f"Input should be {' or '.join(dates)}, not a number (got {_short_json(sub)})"))
            elif isinstance(sub, (Mapping, list, tuple)):
                nested.append(((*path, str(name)), sub, children))
        stack.extend(reversed(nested))
    return found


def _reached(root: Mapping[str, Any], nodes: list[Any]) -> list[Mapping[str, Any]]:
    """``nodes`` with the targets of their ``$ref``s and their ``anyOf``/``oneOf``/``allOf``
    branches, through any depth (each once); a ``$ref`` to nowhere stands for ``{}``."""
    reached: list[Mapping[str, Any]] = []
    seen: set[int] = set()
    todo = collections.deque(nodes)
    while todo:
        node = todo.popleft()
        if not isinstance(node, Mapping) or id(node) in seen:
            continue
        seen.add(id(node))
        reached.append(node)
        if "$ref" in node:
            todo.append(resolve_ref(root, node["$ref"]) or {})
        for keyword in ("anyOf", "oneOf", "allOf"):
            todo.extend(node.get(keyword, ()))
    return reached


def _children(nodes: list[Mapping[str, Any]], key: str | int) -> list[Any]:
    """The schemas among ``nodes`` that a member ``key`` of an object (an item ``key`` of an array) meets."""
    children = []
    for node in nodes:
        types = node.get("type")
        types = types if isinstance(types, list) else [types]
        if isinstance(key, str):
            if "object" in types or "properties" in node or "additionalProperties" in node:
                properties = node.get("properties")
                known = isinstance(properties, Mapping) and key in properties
                children.append(properties[key] if known else node.get("additionalProperties", {}))
        elif "array" in types or "items" in node or "prefixItems" in node:
            prefix = node.get("prefixItems")
            known = isinstance(prefix, list) and key < len(prefix)
            children.append(prefix[key] if known else node.get("items", {}))
    return [c for c in children if isinstance(c, Mapping)]


def _wanted(is_bool: bool, nodes: list[Mapping[str, Any]]) -> list[str] | None:
    """What the schemas ``nodes`` take where none takes a boolean (``is_bool``) or another number
    as the JSON type it is and one is a ``const`` or an ``enum``; ``None`` when one does (or one
    says nothing of its type: ``{}``)."""
    choices: list[str] = []
    types: list[str] = []
    for node in nodes:
        if "const" in node or "enum" in node:
            listed = [node["const"]] if "const" in node else node["enum"] if isinstance(node["enum"], list) else []
            if any(isinstance(c, bool) == is_bool and isinstance(c, (bool, int, float)) for c in listed):
                return None
            choices.extend(_short_json(c) for c in listed)
        elif "type" in node:
            named = node["type"] if isinstance(node["type"], list) else [node["type"]]
            # a number against a type of numbers (or text) is pydantic's strict check to make
            if "boolean" in named if is_bool else not set(named) <= {"null", "boolean"}:
                return None
            types.extend(f"a JSON {t}" for t in named)
        elif not any(k in node for k in ("$ref", "anyOf", "oneOf", "allOf")):
            return None
    # no const or enum here: pydantic's strict check of the type is the one to make (a type of
    # the user's may take what its schema does not say)
    return list(dict.fromkeys(choices + types)) if choices else None


def _has_node(schema: Mapping[str, Any], found: Callable[[Mapping[str, Any]], bool]) -> bool:
    """Whether a node of the JSON Schema ``schema`` (any mapping in it) is ``found``."""
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if found(node):
                return True
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return False


def _number_text(text: str) -> bool:
    # as pydantic reads a Unix time: a sign or a digit first (text that is no number, first
    # looked at without float(), whose refusal costs a microsecond)
    if text[:1] not in _NUMBER_STARTS:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


_NUMBER_STARTS = frozenset("0123456789+-")


def _has_number_text(value: Any) -> bool:
    """Whether the JSON-shaped ``value`` holds a string that is a number (a walk with a stack of
    its own, as ``_all_finite``)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _number_text(item):
                return True
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def _dates_only(nodes: list[Mapping[str, Any]], text: str) -> list[str]:
    """The texts of the dates the schemas ``nodes`` take where each that takes the string ``text``
    is a date format (``_DATE_FORMATS``); ``[]`` when another takes it (a plain string, a
    ``const`` or an ``enum`` listing it, ``{}``)."""
    dates: list[str] = []
    for node in nodes:
        if "const" in node or "enum" in node:
            if text in ([node["const"]] if "const" in node else node["enum"] if isinstance(node["enum"], list) else []):
                return []
        elif "type" in node:
            named = node["type"] if isinstance(node["type"], list) else [node["type"]]
            if "string" in named:
                if node.get("format") not in _DATE_FORMATS:
                    return []
                dates.append(_date_wanted(node["format"]))
        elif not any(k in node for k in ("$ref", "anyOf", "oneOf", "allOf")):
            return []
    return list(dict.fromkeys(dates))


def _integral_floats_as_ints(value: Any) -> Any:
    """The JSON-shaped ``value`` with each float that has no fractional part as an int."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_integral_floats_as_ints(item) for item in value]
    return value


def _all_finite(value: Any) -> bool:
    """Whether the JSON-shaped ``value`` holds no NaN or infinity (on every call: the common
    types first, and no paths kept). A walk with a stack of its own, not recursion: JSON text
    nested as deep as the parser reads must not break the check (a RecursionError raised out
    of the call, taking the other calls of the response with it)."""
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is int or kind is bool or item is None:
            continue
        if kind is dict:  # JSON's objects: before the look-up of the Mapping ABC below
            stack.extend(item.values())
        elif isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, Mapping):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return True


def _non_finite_numbers(value: Any) -> list[tuple[tuple[str, ...], str]]:
    """(path, the number) of each NaN or infinity in the JSON-shaped ``value``, in document order."""
    found = []
    stack: list[tuple[tuple[str, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                found.append((path, json.dumps(item)))
            continue
        if isinstance(item, Mapping):
            items: Any = item.items()
        elif isinstance(item, (list, tuple)):
            items = enumerate(item)
        else:
            continue
        stack.extend(reversed([((*path, str(key)), sub) for key, sub in items]))
    return found


def _problems(exc: ValidationError, parameters: list[str], shown: Mapping[str, str]) -> list[str]:
    problems = []
    for error in exc.errors(include_url=False):
        where = _shown_path(error["loc"], shown)
        if error["type"] == "missing":
            problems.append(f"{where}: required, missing")
        elif error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
            problems.append(f"{where}: {_not_an_argument(parameters, shown)}")
        else:
            problems.append(f"{where}: {error['msg']} (got {_short_json(error['input'])})")
    return problems


def _not_an_argument(parameters: list[str], shown: Mapping[str, str]) -> str:
    names = ", ".join(shown.get(name, name) for name in parameters)
    return f"not an argument of this tool (its arguments: {names or 'none'})"


def _shown_path(path: tuple[Any, ...], shown: Mapping[str, str]) -> str:
    """``path`` into the arguments as the model knows it: its argument under the name it was shown."""
    if not path:
        return "arguments"
    # each name cut short: a model's made-up argument name may be any length, and is echoed
    return ".".join(_short_name(str(part)) for part in (shown.get(path[0], path[0]), *path[1:]))


def _short_name(name: str, limit: int = 64) -> str:
    return name if len(name) <= limit else f"{name[: limit - 3]}..."


def _short_json(value: Any, limit: int = 120) -> str:
    try:
        text = json.dumps(value, default=repr, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):  # circular, or nested deeper than the encoder goes
        text = reprlib.repr(value)  # which stops a few levels down
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number", float: "a number", type(None): "null"}
    return next((kinds[t] for t in kinds if isinstance(value, t)), type(value).__name__)


def _has_description(annotation: Any) -> bool:
    if get_origin(annotation) is not Annotated:
        return False
    return any(isinstance(meta, FieldInfo) and meta.description for meta in get_args(annotation)[1:])


def _same_type(a: Any, b: Any) -> bool:
    """Whether annotations ``a`` and ``b`` name the same type however spelt: ``List[int]`` and
    ``list[int]``, ``Optional[X]`` and ``None | X``, ``Annotated[X, Field(...)]`` written twice
    (``==`` tells a typing alias from the builtin, ``typing.Union`` from ``X | Y``, and one
    ``Field(...)`` from another made alike)."""
    try:
        if a == b:
            return True
    except Exception:  # metadata whose == raises or answers elementwise (an array): not provably the same
        return False
    if isinstance(a, FieldInfo) and isinstance(b, FieldInfo):  # ``Annotated[str, Field(...)]``'s metadata
        return repr(a) == repr(b)  # no == of its own; its repr lists every attribute and constraint
    origin = _origin(a)
    if origin is not _origin(b) or origin is Literal:  # a Literal's arguments are values, compared by == above
        return False
    args_a, args_b = get_args(a), get_args(b)
    if origin is Union:  # in any order
        return all(any(_same_type(x, y) for y in args_b) for x in args_a) and all(
            any(_same_type(x, y) for x in args_a) for y in args_b
        )
    return len(args_a) == len(args_b) and all(_same_type(x, y) for x, y in zip(args_a, args_b))


def _origin(annotation: Any) -> Any:
    """The class or special form ``annotation`` is made from (``list`` for ``List[int]``), one
    for both spellings of a union; the annotation itself when it is not generic."""
    origin = get_origin(annotation)
    if origin is types.UnionType:
        return Union
    return annotation if origin is None else origin


def _same_default(a: Any, b: Any) -> bool:
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:  # an array's elementwise ==, or an __eq__ that raises: not provably the same
        return False


def _default_text(param: Parameter) -> str:
    if param.required or param.default is NO_DEFAULT:
        return f"no default ({'required' if param.required else 'optional'})"
    return f"default {param.default!r}"


def _type_name(annotation: Any) -> str:
    if isinstance(annotation, type) and get_origin(annotation) is None and not get_args(annotation):
        return annotation.__qualname__
    return repr(annotation).replace("typing.", "")


def _schema_failure(name: str, backend: str, signature: tuple[Parameter, ...], exc: Exception) -> str:
    where = f"capability {name!r}: backend {backend!r}"
    for param in signature:
        try:
            TypeAdapter(param.annotation).json_schema()
        except Exception as inner:  # the first parameter whose type has no JSON Schema
            first_line = str(inner).splitlines()[0] if str(inner) else type(inner).__name__
            return (
                f"{where}: parameter {param.name!r} has type {_type_name(param.annotation)}, which has no JSON "
                f"Schema ({first_line}); use JSON-shaped types (str, numbers, lists, dicts, pydantic models, "
                "dataclasses)"
            )
    first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{where}: its arguments have no JSON Schema ({first_line})"
