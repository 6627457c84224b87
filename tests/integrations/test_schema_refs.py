"""One resolver of ``$ref`` (``integrations.schema.resolve_ref``) serves the strict-mode check and a
LangChain tool's JSON Schema: a JSON Pointer anywhere in the schema that points at a schema
(``#/properties/origin``, as zod-to-json-schema writes a schema used twice; a definition whose
name holds ``/``, escaped ``~1``) is followed, and a pointer at something that is no schema is not."""

from __future__ import annotations

from typing import Any

import pytest

from integrations import Toolbox
from integrations.schema import fits_openai_strict, resolve_ref

PLACE = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}
SCHEMA = {
    "type": "object",
    "properties": {
        "origin": PLACE,
        "destination": {"$ref": "#/properties/origin", "description": "Where to."},
        "stops": {"type": "array", "items": {"$ref": "#/$defs/stop~1point"}},
        "fallback": {"anyOf": [{"$ref": "#/properties/origin"}, {"type": "null"}]},
        "nowhere": {"$ref": "#/properties"},
    },
    "required": ["origin", "destination"],
    "$defs": {"stop/point": {"type": "integer"}},
}


def test_resolve_ref_follows_pointers_to_schemas_only() -> None:
    assert resolve_ref(SCHEMA, "#/properties/origin") is PLACE
    assert resolve_ref(SCHEMA, "#/$defs/stop~1point") == {"type": "integer"}
    assert resolve_ref(SCHEMA, "#/$defs/stop%7E1point") == {"type": "integer"}  # percent-escaped in the fragment
    assert resolve_ref(SCHEMA, "#/properties/fallback/anyOf/0") == {"$ref": "#/properties/origin"}
    assert resolve_ref(SCHEMA, "#/properties/origin/properties/city") == {"type": "string"}
    assert resolve_ref(SCHEMA, "#") is SCHEMA
    for ref in ("#/properties", "#/$defs", "#/required", "#/properties/fallback/anyOf", "#/properties/fallback/anyOf/2",
                "#/properties/origin/required", "#/type", "#/properties/nobody", "other.json#/$defs/x", "#/anyOf/x", 5):
        assert resolve_ref(SCHEMA, ref) is None, ref


def test_a_schema_with_a_ref_to_no_schema_is_not_strict() -> None:
    def strict(where: dict[str, Any]) -> bool:
        schema = {"type": "object", "properties": {"p": where}, "required": ["p"], "additionalProperties": False}
        return fits_openai_strict({**schema, "$defs": {"P": PLACE}})

    assert strict({"$ref": "#/$defs/P"}) and strict({"$ref": "#/properties/p/anyOf/0"}) is False  # nowhere
    assert strict({"$ref": "#/properties"}) is False  # at no schema: OpenAI would refuse the request
    assert strict({"$ref": "#/$defs"}) is False


def test_a_langchain_tool_keeps_the_types_its_refs_point_to() -> None:
    pytest.importorskip("langchain.agents")
    from langchain_core.tools import StructuredTool

    from integrations.langchain import from_langchain_tool

    seen: list[dict[str, Any]] = []

    def run(**arguments: Any) -> str:
        seen.append(arguments)
        return "ok"

    toolbox = Toolbox(store="memory://", seed=0)
    from_langchain_tool(toolbox, StructuredTool(name="trip", description="Plan a trip.", args_schema=SCHEMA, func=run))
    props = toolbox.schema("trip").parameters["properties"]
    assert props["destination"] == {**PLACE, "description": "Where to."}  # written out
    assert props["stops"] == {"type": "array", "items": {"type": "integer"}}
    assert props["fallback"] == {"anyOf": [PLACE, {"type": "null"}]}
    assert props["nowhere"] == {}  # not followed: any JSON value
    for arguments, problem in [
        ({"origin": {"city": "Oslo"}, "destination": "Bergen"}, "destination: Input should be an object"),
        ({"origin": {}, "destination": {}, "stops": ["x"]}, "stops.0: Input should be a valid integer"),
        ({"origin": {}, "destination": {}, "fallback": 3}, "fallback: Input should be an object (got 3)"),
    ]:
        result = toolbox.call_one_sync("trip", arguments)
        assert result.status == "invalid_arguments" and problem in result.content, result.content
    assert seen == []
    trip = {"origin": {"city": "Oslo"}, "destination": {"city": "Bergen"}, "stops": [1], "fallback": None, "nowhere": [1]}
    assert toolbox.call_one_sync("trip", trip).content == "ok" and seen == [trip]
