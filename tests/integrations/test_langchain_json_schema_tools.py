"""A LangChain tool with a JSON Schema argument schema (as MCP tools have) keeps the types of its
nullable, union and ``$ref`` properties as a capability's backend."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("langchain.agents")

from langchain_core.tools import StructuredTool  # noqa: E402

from integrations import Toolbox  # noqa: E402
from integrations.langchain import from_langchain_tool  # noqa: E402

SCHEMA = {  # what pydantic writes for Optional[int], a nested model, and a recursive one
    "type": "object",
    "properties": {
        "user_id": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
        "place": {"$ref": "#/$defs/Place"},
        "kind": {"oneOf": [{"type": "string", "enum": ["a", "b"]}, {"type": "integer"}]},
        "tree": {"$ref": "#/$defs/Tree"},
        "elsewhere": {"$ref": "other.json#/Place"},
    },
    "required": ["place"],
    "$defs": {
        "Place": {"type": "object", "properties": {"city": {"type": "string"}}},
        "Tree": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Tree"}}}},
    },
}


def test_nullable_union_and_ref_properties_keep_their_types() -> None:
    seen: list[dict[str, Any]] = []

    def run(**arguments: Any) -> str:
        seen.append(arguments)
        return "ok"

    toolbox = Toolbox(seed=0)
    from_langchain_tool(toolbox, StructuredTool(name="lookup", description="Look up.", args_schema=SCHEMA, func=run))
    props = toolbox.schema("lookup").parameters["properties"]
    assert props["user_id"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}
    assert props["place"] == {"type": "object", "properties": {"city": {"type": "string"}}}  # written out
    assert props["kind"] == SCHEMA["properties"]["kind"]
    assert props["tree"]["type"] == "object" and props["elsewhere"] == {}  # resolvable refs only
    for arguments, problem in [
        ({"place": {}, "user_id": "me"}, "user_id: Input should be a valid integer"),
        ({"place": "Oslo"}, "place: Input should be an object"),
        ({"place": {}, "kind": "c"}, "kind."),
    ]:
        result = toolbox.call_one_sync("lookup", arguments)
        assert result.status == "invalid_arguments" and problem in result.content, result.content
    assert seen == []
    assert toolbox.call_one_sync("lookup", {"place": {"city": "Oslo"}, "user_id": None, "kind": 2}).content == "ok"
    assert seen == [{"place": {"city": "Oslo"}, "user_id": None, "kind": 2}]


def test_the_model_sees_each_property_as_the_tool_states_it() -> None:
    """Nested properties, constraints and formats reach the model (before, it saw a bare object
    and a bare integer, and had to guess the fields); the arguments are still validated by type."""
    schema = {
        "type": "object",
        "properties": {
            "place": {
                "type": "object",
                "description": "Where.",
                "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
                "required": ["lat", "lon"],
            },
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
            "when": {"type": "string", "format": "date-time"},
            "stops": {"type": "array", "items": {"$ref": "#/definitions/Stop"}, "maxItems": 3},
            "units": {"const": "metric"},
            "glossary": {"type": "object", "properties": {"definitions": {"type": "string"}}},  # a name, not a keyword
        },
        "required": ["place"],
        "definitions": {"Stop": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}},
    }
    toolbox = Toolbox(seed=0)
    tool = StructuredTool(name="forecast", description="Forecast.", args_schema=schema, func=lambda **a: "ok")
    from_langchain_tool(toolbox, tool)
    props = toolbox.schema("forecast").parameters["properties"]
    stop = schema["definitions"]["Stop"]
    assert props == {**schema["properties"], "stops": {"type": "array", "items": stop, "maxItems": 3}}
    assert "definitions" not in toolbox.schema("forecast").parameters  # nothing refers to them
    result = toolbox.call_one_sync("forecast", {"place": "Oslo", "days": "two"})
    assert result.status == "invalid_arguments" and "place: Input should be an object" in result.content
    assert toolbox.call_one_sync("forecast", {"place": {"lat": 1, "lon": 2}, "days": 3}).content == "ok"
