"""One schema per capability: derived from signatures and docstrings, checked across backends,
exported in the providers' documented formats (checked against the installed SDKs' own types).

No ``from __future__ import annotations`` here: the tools defined inside tests use local classes,
which string annotations could not resolve.
"""

import dataclasses
import enum
import json
from typing import Annotated, Any, Literal, get_type_hints

import pytest
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from integrations import SignatureMismatchError, Toolbox, ToolSchemaError, UnknownCapabilityError
from integrations import anthropic as anthropic_format
from integrations import openai as openai_format
from integrations._docstrings import parameter_docs, summary
from integrations.schema import capability_schema, fits_openai_strict


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Filter(BaseModel):
    site: str
    year: int | None = None


@dataclasses.dataclass
class Point:
    x: float
    y: float = 0.0


def search(
    query: str,
    filters: list[Filter] = [],  # noqa: B006 (a default the schema shows; never mutated)
    mode: Literal["fast", "deep"] = "fast",
    colour: Colour = Colour.RED,
    where: Point | None = None,
    limit: Annotated[int, Field(ge=1, le=50, description="At most this many results.")] = 10,
) -> list[str]:
    """Search the web for pages.

    A longer paragraph the summary leaves out.

    Args:
        query: What to look for,
            on two lines.
        filters (list[Filter]): Sites to keep.
        limit: Overridden by the annotation's description.
    """
    return [query]


def props(schema: dict[str, Any]) -> dict[str, Any]:
    return schema["properties"]


def merge(parts: list["Part"], first: "Part | None" = None) -> str:  # classes defined below: forward references
    return "+".join(part.name for part in parts)


class Part(BaseModel):
    name: str


# --- derivation -----------------------------------------------------------------------------------
def test_schema_comes_from_the_signature_and_docstring() -> None:
    s = capability_schema(search, "web_search")
    p = s.parameters
    assert s.name == "web_search" and s.description == "Search the web for pages."
    assert p["type"] == "object" and p["additionalProperties"] is False
    assert p["required"] == ["query"]
    assert list(props(p)) == ["query", "filters", "mode", "colour", "where", "limit"]
    assert props(p)["query"] == {"type": "string", "description": "What to look for, on two lines."}
    assert props(p)["filters"]["description"] == "Sites to keep."
    assert props(p)["filters"]["items"] == {"$ref": "#/$defs/Filter"}
    assert p["$defs"]["Filter"]["required"] == ["site"]
    assert props(p)["mode"] == {"type": "string", "enum": ["fast", "deep"], "default": "fast"}
    assert props(p)["colour"]["$ref"] == "#/$defs/Colour" and p["$defs"]["Colour"]["enum"] == ["red", "blue"]
    assert props(p)["colour"]["default"] == "red"
    assert {"$ref": "#/$defs/Point"} in props(p)["where"]["anyOf"] and p["$defs"]["Point"]["required"] == ["x"]
    # an explicit Field description wins over the docstring's; constraints come along
    assert props(p)["limit"] == {
        "type": "integer", "minimum": 1, "maximum": 50, "default": 10, "description": "At most this many results."
    }  # fmt: skip
    assert not s.strict  # optional parameters: not strict-mode material
    assert s.parameters is not s.parameters  # a fresh copy each read: callers cannot change it


def test_validation_uses_the_same_model_and_passes_what_was_given() -> None:
    s = capability_schema(search, "web_search")
    args, kwargs = s.bind('{"query": "q", "filters": [{"site": "a.org"}], "where": {"x": 1}, "colour": "blue"}')
    assert args == ()
    assert kwargs == {"query": "q", "filters": [Filter(site="a.org")], "where": Point(1.0), "colour": Colour.BLUE}
    assert s.bind({"query": "q"}) == ((), {"query": "q"})  # left out: the function's own default applies


def test_unannotated_kwargs_positional_only_and_reserved_names() -> None:
    def tool(a, /, json: int, _id: str = "x", **extra: float) -> None:
        """A tool.

        Args:
            a: anything at all.
        """

    s = capability_schema(tool, "tool")
    p = s.parameters
    assert props(p)["a"] == {"description": "anything at all."}  # unannotated: any JSON value
    assert list(props(p)) == ["a", "json", "_id"]  # names pydantic reserves or hides still work
    assert p["additionalProperties"] == {"type": "number"}  # **extra: more named numbers
    assert s.bind({"a": [1, {"b": None}], "json": 3, "more": 2}) == (([1, {"b": None}],), {"json": 3, "more": 2.0})
    assert "more" not in props(p) and not s.strict


def test_a_parameter_named_self_reaches_the_tool_by_every_way_of_calling() -> None:
    import asyncio

    toolbox = Toolbox(seed=0)

    @toolbox.tool("describe")
    def describe(self: str) -> str:  # a name the router's own methods also take
        return f"I am {self}"

    assert toolbox.call_one_sync("describe", {"self": "a"}).content == "I am a"
    assert asyncio.run(toolbox.call_one("describe", {"self": "b"})).content == "I am b"
    assert toolbox.middleware.call("describe", self="c") == "I am c"


def test_a_default_json_cannot_hold_is_left_out_of_the_schema_and_still_applies() -> None:
    import math

    toolbox = Toolbox(seed=0)

    @toolbox.tool("nearest")
    def nearest(city: str, within_km: float = math.inf, weights: tuple[float, ...] = (math.nan,)) -> str:
        return f"{city} {within_km} {weights}"

    schema = toolbox.schema("nearest").parameters
    json.dumps(schema, allow_nan=False)  # what a provider's API reads: strict JSON
    assert props(schema)["within_km"] == {"type": "number"}
    assert toolbox.call_one_sync("nearest", {"city": "Oslo"}).content == "Oslo inf (nan,)"


def test_forward_references_inside_annotations_resolve_in_the_functions_module() -> None:
    toolbox = Toolbox(seed=0)
    toolbox.register(merge, "merge")
    schema = toolbox.schema("merge").parameters
    assert props(schema)["parts"] == {"items": {"$ref": "#/$defs/Part"}, "type": "array"}
    assert toolbox.call_one_sync("merge", {"parts": [{"name": "a"}, {"name": "b"}]}).content == "a+b"


def test_kwargs_only_and_parameterless_functions() -> None:
    def options(**anything):
        return anything

    def ping() -> str:
        return "pong"

    s = capability_schema(options, "options")
    assert s.parameters == {"type": "object", "properties": {}, "additionalProperties": True, "title": "options"}
    assert s.bind('{"a": 1, "b": [2]}') == ((), {"a": 1, "b": [2]}) and not s.strict
    s = capability_schema(ping, "ping")
    assert s.parameters == {"type": "object", "properties": {}, "additionalProperties": False, "title": "ping"}
    assert s.bind(None) == s.bind("") == s.bind("{}") == ((), {}) and s.strict
    with pytest.raises(ValueError, match="x: not an argument of this tool \\(its arguments: none\\)"):
        s.bind({"x": 1})


def test_docstring_layouts() -> None:
    google = '''Fetch a page.

    Arguments:
        url (str): The address.
        timeout_s: Seconds
            to wait.

    Returns:
        The body.
    '''
    numpy = """Fetch a page.

    Parameters
    ----------
    url : str
        The address.
    timeout_s, retries : float
        Seconds to wait.

    Returns
    -------
    str
    """
    rest = """Fetch a page.

    :param url: The address.
    :param float timeout_s: Seconds
        to wait.
    :returns: The body.
    """
    assert parameter_docs(google) == {"url": "The address.", "timeout_s": "Seconds to wait."}
    assert parameter_docs(numpy) == {"url": "The address.", "timeout_s": "Seconds to wait.", "retries": "Seconds to wait."}
    assert parameter_docs(rest) == {"url": "The address.", "timeout_s": "Seconds to wait."}
    assert summary(google) == summary(numpy) == summary(rest) == "Fetch a page."
    assert summary("Line one\ncontinues.\n\nMore.") == "Line one continues."
    assert summary("Args:\n    x: y") == "" and summary(None) == "" and parameter_docs(None) == {}


def test_strict_only_where_openai_strict_mode_allows_it() -> None:
    class Closed(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str
        tags: list[Literal["a", "b"]]

    class Open(BaseModel):  # extra keys ignored, so no additionalProperties: false
        name: str

    def closed(item: Closed, count: int | None, when: Annotated[str, Field(pattern="^[0-9]+$")]) -> None: ...
    def open_(item: Open) -> None: ...
    def optional(count: int = 1) -> None: ...
    def bounded(text: Annotated[str, Field(max_length=5)]) -> None: ...  # maxLength: not in strict mode
    def url(link: Annotated[str, Field(json_schema_extra={"format": "uri"})]) -> None: ...

    assert capability_schema(closed, "closed").strict
    assert not capability_schema(open_, "open").strict
    assert not capability_schema(optional, "optional").strict
    assert not capability_schema(bounded, "bounded").strict
    assert not capability_schema(url, "url").strict
    assert not fits_openai_strict({"anyOf": [{"type": "object"}]})  # the root must be an object
    assert fits_openai_strict({"type": "object", "properties": {}, "additionalProperties": False})


def test_strict_refuses_what_openai_strict_mode_refuses() -> None:
    """OpenAI answers 400 to a strict tool with a schema that has no type ("schema must have a
    'type' key") or a $ref with a keyword beside it ("$ref cannot have keywords {'description'}")."""

    class Closed(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str

    def described(item: Closed) -> None:
        """Store an item.

        Args:
            item: What to store.
        """

    def untyped(value, values: list) -> None: ...  # noqa: ANN001  # any JSON value: {}
    def typed(item: Closed, count: int | None) -> None: ...

    assert capability_schema(described, "described").parameters["properties"]["item"].keys() == {"$ref", "description"}
    assert not capability_schema(described, "described").strict
    assert not capability_schema(untyped, "untyped").strict
    assert capability_schema(typed, "typed").strict  # a bare $ref and an anyOf are typed
    for node in ({}, {"description": "any"}, {"enum": ["a", 1]}, {"type": "array", "items": {}}):
        assert not fits_openai_strict({"type": "object", "properties": {"x": node}, "required": ["x"], "additionalProperties": False})


# --- registration ---------------------------------------------------------------------------------
def google(query: str, limit: int = 5) -> str:
    """Search with Google."""
    return "g"


@pytest.mark.parametrize(
    ("backend", "parameter", "problem"),
    [
        ("def f(query: str) -> str: ...", "limit", "is missing"),
        ("def f(query: str, limit: int = 5, *, page: int) -> str: ...", "page", "is required here"),
        ("def f(query: bytes, limit: int = 5) -> str: ...", "query", "has type bytes, the capability str"),
        ("def f(query: str, limit: int = 6) -> str: ...", "limit", "has default 6, the capability default 5"),
        ("def f(query: str, limit: int) -> str: ...", "limit", "has no default (required), the capability default 5"),
        ("def f(query: str, /, limit: int = 5) -> str: ...", "query", "is passed differently"),
    ],
)
def test_an_incompatible_backend_is_refused_and_registers_nothing(backend: str, parameter: str, problem: str) -> None:
    toolbox = Toolbox(seed=0)
    toolbox.register(google, "web_search")
    namespace: dict[str, Any] = {}
    exec(backend, namespace)
    with pytest.raises(SignatureMismatchError) as info:
        toolbox.register(namespace["f"], "web_search", tool_id="other")
    message = str(info.value)
    assert "'web_search'" in message and "'other'" in message and f"parameter {parameter!r}" in message
    assert problem in message and isinstance(info.value, ValueError)
    assert (info.value.capability, info.value.backend, info.value.parameter) == ("web_search", "other", parameter)
    assert toolbox.middleware.tool_ids == ["google"] and toolbox.backends("web_search") == ("google",)
    assert "other" not in toolbox.middleware.learner.tools


def test_compatible_backends_share_one_schema_and_description() -> None:
    toolbox = Toolbox(seed=0)
    toolbox.register(google, "web_search")

    def bing(query: str, limit: int = 5, safe: bool = True) -> str:  # an extra optional parameter is fine
        """Search with Bing."""
        return "b"

    toolbox.register(bing, "web_search")
    assert toolbox.capabilities == ("web_search",) and toolbox.backends("web_search") == ("google", "bing")
    s = toolbox.schema("web_search")
    assert s.description == "Search with Google." and "safe" not in props(s.parameters)
    toolbox.register(lambda query, limit=5: "x", "other_search", tool_id="anon")
    toolbox.register(lambda query, limit=5: "y", "other_search", tool_id="anon2", description="Search elsewhere.")
    assert toolbox.schema("other_search").description == "Search elsewhere."  # given beats a docstring
    toolbox.unregister("google")
    toolbox.unregister("bing")
    assert toolbox.capabilities == ("other_search",)


def test_invalid_names_and_signatures_are_refused_clearly() -> None:
    toolbox = Toolbox(seed=0)
    for name in ("web search", "", "x" * 65, "naïve", 3):
        with pytest.raises(ToolSchemaError, match="capability: .* not a tool name"):
            toolbox.register(google, name)  # type: ignore[arg-type]

    def variadic(*queries: str) -> str: ...
    def unresolvable(x: "NotDefinedAnywhere") -> None: ...  # noqa: F821
    def pydantic_default(x: int = Field(1)) -> None: ...

    class Opaque:  # no JSON Schema for an arbitrary class
        pass

    def opaque(x: Opaque) -> None: ...

    def generator(query: str):  # the middleware refuses it: its call would run none of its body
        yield query

    with pytest.raises(ToolSchemaError, match=r"capability 'c': backend 'variadic': parameter '\*queries'"):
        toolbox.register(variadic, "c")
    with pytest.raises(ToolSchemaError, match="backend 'unresolvable'.*NotDefinedAnywhere"):
        toolbox.register(unresolvable, "c")
    with pytest.raises(ToolSchemaError, match="parameter 'x' has a pydantic Field as its default"):
        toolbox.register(pydantic_default, "c")
    with pytest.raises(ToolSchemaError, match="backend 'opaque': parameter 'x' has type .*Opaque, which has no JSON Schema"):
        toolbox.register(opaque, "c")
    with pytest.raises(TypeError, match="tool 'generator' is a generator function"):
        toolbox.register(generator, "c")
    assert toolbox.capabilities == () and toolbox.middleware.tool_ids == []
    with pytest.raises(UnknownCapabilityError, match="capability: unknown 'c'"):
        toolbox.schema("c")


def test_a_single_capability_name_given_for_the_list_of_names_is_named() -> None:
    toolbox = Toolbox(seed=0)
    toolbox.register(search, "web_search")
    exports = [toolbox.schemas] + [
        lambda names, export=export: export(toolbox, names)
        for export in (openai_format.chat_tools, openai_format.responses_tools, anthropic_format.tools)
    ]
    for export in exports:
        with pytest.raises(TypeError, match="names: expected a list of capability names, got the string 'web_search'"):
            export("web_search")
    assert [t["name"] for t in anthropic_format.tools(toolbox, ["web_search"])] == ["web_search"]


def test_a_refusal_by_the_middleware_changes_nothing() -> None:
    toolbox = Toolbox(seed=0)
    toolbox.register(google, "web_search")
    with pytest.raises(ValueError, match="google"):  # the same tool id twice
        toolbox.register(google, ["web_search", "lookup"])
    with pytest.raises(ValueError):
        toolbox.register(google, "lookup", tool_id="g2", reliability=7.0)  # the profile's validation
    assert toolbox.capabilities == ("web_search",) and toolbox.backends("web_search") == ("google",)


def test_a_backend_may_serve_several_capabilities_and_the_decorator_returns_the_function() -> None:
    toolbox = Toolbox(seed=0)

    @toolbox.tool(["lookup", "find"], description="Find a thing.")
    def find(key: str) -> str:
        return key

    assert find("k") == "k"
    assert toolbox.capabilities == ("lookup", "find")
    assert all(toolbox.schema(n).description == "Find a thing." for n in toolbox.capabilities)
    assert toolbox.middleware.learner.tools["find"].capabilities == ("lookup", "find")


# --- exports, checked against the SDKs' own type definitions -------------------------------------
def assert_fits(typed_dict: Any, value: dict[str, Any]) -> None:
    """``value`` validates as ``typed_dict`` and uses no key it does not declare."""
    TypeAdapter(typed_dict).validate_python(value)
    assert set(value) <= set(get_type_hints(typed_dict)), sorted(set(value) - set(get_type_hints(typed_dict)))


def test_exports_fit_the_sdk_types() -> None:
    from anthropic.types import ToolParam
    from openai.types.chat import ChatCompletionToolParam
    from openai.types.responses import FunctionToolParam
    from openai.types.shared_params import FunctionDefinition

    toolbox = Toolbox(seed=0)
    toolbox.register(search, "web_search")

    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    toolbox.register(add, "add")
    chat, responses, claude = (
        openai_format.chat_tools(toolbox),
        openai_format.responses_tools(toolbox),
        anthropic_format.tools(toolbox),
    )
    for tool in chat:
        assert_fits(ChatCompletionToolParam, tool)
        assert_fits(FunctionDefinition, tool["function"])
    for tool in responses:
        assert_fits(FunctionToolParam, tool)
    for tool in claude:
        assert_fits(ToolParam, tool)
    by_name = {t["function"]["name"]: t["function"] for t in chat}
    assert by_name["add"] == {
        "name": "add",
        "description": "Add two integers.",
        "parameters": toolbox.schema("add").parameters,
        "strict": True,
    }
    assert by_name["web_search"]["strict"] is False
    assert [t["name"] for t in responses] == [t["name"] for t in claude] == ["web_search", "add"]
    assert responses[1] == {"type": "function", **by_name["add"]}
    assert claude[1] == {"name": "add", "description": "Add two integers.", "input_schema": by_name["add"]["parameters"]}
    assert openai_format.chat_tools(toolbox, ["add"]) == [chat[1]]  # a shortlist, in the order asked
    json.dumps([chat, responses, claude])  # plain JSON all through
