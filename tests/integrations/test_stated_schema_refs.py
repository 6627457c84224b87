"""A parameter's stated ``json_schema`` stands inside the capability's schema, where a ``$ref`` in
it would point elsewhere: it is refused at once with ``ToolSchemaError`` naming the parameter and
the reference. The registration failed with pydantic's bare ``KeyError: '#/$defs/Place'``."""

from __future__ import annotations

from typing import Any

import pytest

from integrations import Toolbox, ToolSchemaError
from integrations.schema import Parameter

PLACE = {"type": "object", "properties": {"city": {"type": "string"}}}


@pytest.mark.parametrize(
    "json_schema",
    [
        {"$ref": "#/$defs/Place"},
        {"type": "object", "properties": {"from": {"$ref": "#/$defs/Place"}}, "$defs": {"Place": PLACE}},
        {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/Place"}]},
    ],
)
def test_a_stated_schema_with_a_ref_is_refused_naming_the_parameter(json_schema: dict[str, Any]) -> None:
    with pytest.raises(ToolSchemaError, match=r"json_schema: has a \$ref \('#/\$defs/Place'\); .* \(parameter 'trip'\)"):
        Parameter("trip", "keyword", dict, json_schema=json_schema)


def test_a_stated_schema_written_out_still_serves() -> None:
    def backend(**arguments: Any) -> dict[str, Any]:
        return arguments

    # a property named $ref is a name, not a reference
    stated = {"type": "object", "properties": {"from": PLACE, "$ref": {"type": "string"}}}
    backend.__tool_parameters__ = (Parameter("trip", "keyword", dict, json_schema=stated),)  # type: ignore[attr-defined]
    toolbox = Toolbox(store="memory://", seed=0)
    toolbox.register(backend, "go", tool_id="go")
    assert toolbox.schema("go").parameters["properties"]["trip"] == stated
    assert toolbox.call_one_sync("go", {"trip": {"from": {"city": "Oslo"}}}).content == '{"trip":{"from":{"city":"Oslo"}}}'
