"""A LangChain tool's JSON Schema property with ``const`` (zod's literals, the tag of a
discriminated union) takes that value only, as an ``enum`` of one value does; it took any value,
and a model's ``"imperial"`` for ``{"const": "metric"}`` reached the tool."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("langchain.agents")

from langchain_core.tools import StructuredTool  # noqa: E402

from integrations import Toolbox  # noqa: E402
from integrations.langchain import from_langchain_tool  # noqa: E402


def test_a_const_property_takes_its_value_only() -> None:
    schema = {
        "type": "object",
        "properties": {"units": {"const": "metric"}, "version": {"type": "integer", "const": 2}, "city": {"type": "string"}},
        "required": ["city"],
    }
    seen: list[dict[str, Any]] = []
    toolbox = Toolbox(store="memory://", seed=0)
    tool = StructuredTool(name="forecast", description="Forecast.", args_schema=schema, func=lambda **a: seen.append(a) or "ok")
    from_langchain_tool(toolbox, tool)
    assert toolbox.schema("forecast").parameters["properties"]["units"] == {"const": "metric"}  # shown as stated
    for arguments, problem in [
        ({"city": "Oslo", "units": "imperial"}, "units: Input should be 'metric' (got \"imperial\")"),
        ({"city": "Oslo", "version": 3}, "version: Input should be 2 (got 3)"),
    ]:
        result = toolbox.call_one_sync("forecast", arguments)
        assert (result.status, result.content) == ("invalid_arguments", f"invalid arguments for tool 'forecast': {problem}")
    assert seen == []
    assert toolbox.call_one_sync("forecast", {"city": "Oslo", "units": "metric", "version": 2}).content == "ok"
    assert seen == [{"city": "Oslo", "units": "metric", "version": 2}]
