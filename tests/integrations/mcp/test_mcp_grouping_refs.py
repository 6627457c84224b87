"""Input schemas whose arguments refer to definitions (``$ref`` to ``$defs``) are compared by the
definitions they name, not by the text of the reference."""

from __future__ import annotations

import pytest

from integrations.mcp.config import GroupingConfig
from integrations.mcp.grouping import GroupingError, UpstreamTool, group_tools, schema_conflict


def with_place(place: dict, keyword: str = "$defs") -> dict:
    return {
        "type": "object",
        "properties": {"place": {"$ref": f"#/{keyword}/Place"}},
        "required": ["place"],
        keyword: {"Place": place},
    }


COORDINATES = {"type": "object", "properties": {"lat": {"type": "number"}}, "required": ["lat"]}
CITY = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def test_one_reference_to_different_definitions_is_a_conflict_and_keeps_the_tools_apart() -> None:
    a, b = with_place(COORDINATES), with_place(CITY)
    field, problem = schema_conflict(a, b)  # type: ignore[misc]
    assert field == "place" and '"lat"' in problem and '"city"' in problem
    tools = [UpstreamTool("a", "geocode", "", a), UpstreamTool("b", "geocode", "", b)]
    assert [c.members for c in group_tools(tools)] == [("a:geocode",), ("b:geocode",)]
    explicit = GroupingConfig.model_validate({"capabilities": {"geocode": {"tools": ["a:geocode", "b:geocode"]}}})
    with pytest.raises(GroupingError, match="place"):
        group_tools(tools, explicit)


def test_the_same_definition_by_reference_or_written_out_is_compatible() -> None:
    inline = {"type": "object", "properties": {"place": {**COORDINATES, "title": "Place"}}, "required": ["place"]}
    assert schema_conflict(with_place(COORDINATES), inline) is None
    assert schema_conflict(with_place(COORDINATES), with_place(COORDINATES, "definitions")) is None
    tree = {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Tree"}}}}
    recursive = {"type": "object", "properties": {"root": {"$ref": "#/$defs/Tree"}}, "$defs": {"Tree": tree}}
    assert schema_conflict(recursive, recursive) is None  # a recursive reference ends
