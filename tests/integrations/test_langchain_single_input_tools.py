"""A single-input LangChain ``Tool`` (``Tool(name, func, description)``) as a backend: one string
argument, as LangChain shows it to a model (``__arg1``). Its schema was read off ``Tool._run``
(``args``, ``kwargs`` and a required ``config``), so that no call could reach the tool."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("langchain.agents")

from langchain_core.tools import Tool  # noqa: E402
from langchain_core.utils.function_calling import convert_to_openai_tool  # noqa: E402

from integrations import Toolbox  # noqa: E402
from integrations.langchain import as_langchain_tools, from_langchain_tool  # noqa: E402


async def _triple(text: str) -> str:
    return str(int(text) * 3)


def test_a_single_input_tool_takes_one_string_as_langchain_shows_it() -> None:
    double = Tool(name="double", func=lambda text: str(int(text) * 2), description="Doubles a number.")
    triple = Tool(name="triple", func=None, coroutine=_triple, description="Triples a number.")
    toolbox = Toolbox(store="memory://", seed=0)
    for tool in (double, triple):
        from_langchain_tool(toolbox, tool)
        shown = convert_to_openai_tool(tool)["function"]["parameters"]
        parameters = toolbox.schema(tool.name).parameters
        assert set(parameters["properties"]) == set(shown["properties"]) and parameters["required"] == shown["required"]
    assert toolbox.call_one_sync("double", {"__arg1": "21"}).content == "42"
    assert asyncio.run(toolbox.call_one("triple", {"__arg1": "5"})).content == "15"
    assert toolbox.call_one_sync("double", {"__arg1": 21}).status == "invalid_arguments"  # a string, as stated
    capability = {tool.name: tool for tool in as_langchain_tools(toolbox)}["double"]
    assert capability.invoke({"__arg1": "4"}) == "8"
