"""Parameters stated by hand (``__tool_parameters__``) are checked when stated, so that a mistake
cannot become a schema providers refuse or a backend whose every call fails."""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from integrations import Toolbox, ToolSchemaError
from integrations.schema import Parameter


def stating(*parameters: Parameter) -> Any:
    def backend(**arguments: Any) -> dict[str, Any]:
        return arguments

    backend.__tool_parameters__ = parameters  # type: ignore[attr-defined]
    return backend


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: Parameter("a", "by_name", int), ToolSchemaError, "kind: expected one of ['positional', 'keyword', 'var_keyword'], got 'by_name'"),  # type: ignore[arg-type]
        (lambda: Parameter("", "keyword", int), ToolSchemaError, "name: a parameter needs a name"),
        (lambda: Parameter(5, "keyword", int), TypeError, "name: expected a parameter name (str), got 5"),  # type: ignore[arg-type]
        (lambda: Parameter("a", "keyword", int, inspect.Parameter.empty, 5), TypeError, "description: expected a string, got 5"),  # type: ignore[arg-type]
        (lambda: Parameter("a", "keyword", int, json_schema='{"type": "integer"}'), TypeError, "json_schema: expected a JSON Schema (a mapping) or None"),  # type: ignore[arg-type]
    ],
)
def test_a_parameter_refuses_a_wrong_field(make: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error) as info:
        make()
    assert str(info.value).startswith(message)


def test_a_name_stated_twice_is_refused_and_registers_nothing() -> None:
    toolbox = Toolbox(seed=0)
    twice = stating(Parameter("from", "keyword", str), Parameter("from", "keyword", int))
    with pytest.raises(ToolSchemaError, match=r"__tool_parameters__ has names \['from'\] more than once"):
        toolbox.register(twice, "flights", tool_id="twice")
    extra = stating(Parameter("a", "var_keyword", Any), Parameter("b", "var_keyword", Any))
    with pytest.raises(ToolSchemaError, match="more than one var_keyword parameter"):
        toolbox.register(extra, "flights", tool_id="extra")
    assert toolbox.capabilities == () and toolbox.middleware.tool_ids == []
    toolbox.register(stating(Parameter("from", "keyword", str)), "flights", tool_id="once")
    assert toolbox.call_one_sync("flights", {"from": "OSL"}).content == '{"from":"OSL"}'


def test_a_stated_json_schema_is_what_the_model_sees_and_the_annotation_validates() -> None:
    toolbox = Toolbox(seed=0)
    shown = {"type": "integer", "minimum": 1, "description": "Seats."}
    toolbox.register(stating(Parameter("seats", "keyword", int, json_schema=shown)), "flights", tool_id="first")
    toolbox.register(stating(Parameter("seats", "keyword", int)), "flights", tool_id="second")  # compared by type
    assert toolbox.schema("flights").parameters["properties"]["seats"] == shown
    assert toolbox.call_one_sync("flights", {"seats": "two"}).status == "invalid_arguments"
