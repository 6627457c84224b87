"""OpenAI strict mode's limits on a schema's size (its Structured Outputs guide: at most 10 levels
of nesting, 5,000 object properties, 1,000 enum values, 120,000 characters of names, enum and
const values, 15,000 characters in a string enum of over 250 values): a schema over one of them
makes OpenAI refuse the whole request, so it is sent with ``strict: false``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from integrations import Toolbox
from integrations import openai as oai
from integrations.schema import fits_openai_strict


def closed(properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False, **more}


def strings(count: int, width: int = 1) -> dict[str, Any]:
    return {f"{i:0{width}d}": {"type": "string"} for i in range(count)}


def nested_models(levels: int) -> type[BaseModel]:
    """``levels`` models, each the only field of the next."""
    model: type[BaseModel] | None = None
    for i in range(levels):
        fields: dict[str, Any] = {"leaf": (str, ...)} if model is None else {"child": (model, ...)}
        model = create_model(f"Level{i}", __config__=ConfigDict(extra="forbid"), **fields)
    assert model is not None
    return model


def test_a_schema_nested_deeper_than_strict_mode_allows_is_not_sent_as_strict() -> None:
    toolbox = Toolbox(store="memory://", seed=0)
    for name, levels in (("fits", 9), ("too_deep", 10)):  # and the arguments' object: 10 and 11 levels

        def backend(item: Any) -> None: ...

        backend.__annotations__ = {"item": nested_models(levels), "return": None}
        toolbox.register(backend, name, tool_id=name)
    assert [t["function"]["strict"] for t in oai.chat_tools(toolbox)] == [True, False]
    assert [t["strict"] for t in oai.responses_tools(toolbox)] == [True, False]
    # arrays are levels too; a recursive schema is as deep as it is written
    arrays: dict[str, Any] = {"type": "string"}
    for _ in range(9):
        arrays = {"type": "array", "items": arrays}
    assert fits_openai_strict(closed({"x": arrays})) and not fits_openai_strict(closed({"x": {"type": "array", "items": arrays}}))
    tree = closed({"children": {"type": "array", "items": {"$ref": "#"}}})
    assert fits_openai_strict(tree)
    assert not fits_openai_strict(closed({"x": {"$ref": "#/$defs/Missing"}}))  # points nowhere
    for kind in ([{"not": "a type"}], "text", ["string", 5]):  # not JSON Schema types: not strict, and no TypeError
        assert not fits_openai_strict(closed({"x": {"type": kind}}))
    assert fits_openai_strict(closed({"x": {"type": ["string", "null"]}}))


def test_a_schema_larger_than_strict_mode_allows_is_not_strict() -> None:
    assert fits_openai_strict(closed(strings(5000))) and not fits_openai_strict(closed(strings(5001)))
    nested = closed({"a": closed(strings(2500)), "b": closed(strings(2499))})  # 5,001 in all
    assert not fits_openai_strict(nested)
    # 1,000 enum values across the schema
    enums = {"a": {"type": "integer", "enum": list(range(500))}, "b": {"type": "integer", "enum": list(range(500))}}
    assert fits_openai_strict(closed(enums))
    enums["b"]["enum"].append(500)
    assert not fits_openai_strict(closed(enums))
    # 120,000 characters of property names, definition names, enum and const values
    assert fits_openai_strict(closed(strings(1000, width=120)))
    assert not fits_openai_strict(closed(strings(1000, width=121)))
    assert not fits_openai_strict(closed(strings(1000, width=119), **{"$defs": {"d" * 1001: {"type": "string"}}}))
    assert not fits_openai_strict(closed({**strings(999, width=120), "c": {"type": "string", "const": "x" * 120}}))
    # a string enum of over 250 values: 15,000 characters in all
    assert fits_openai_strict(closed({"e": {"type": "string", "enum": [f"{i:059d}" for i in range(251)]}}))
    assert not fits_openai_strict(closed({"e": {"type": "string", "enum": [f"{i:060d}" for i in range(251)]}}))
    assert fits_openai_strict(closed({"e": {"type": "string", "enum": [f"{i:070d}" for i in range(250)]}}))
