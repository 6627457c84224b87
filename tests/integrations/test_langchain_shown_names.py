"""A capability's LangChain tool goes to any provider's model: an argument whose name Anthropic
refuses (``filter[id]``, ``user id``: an MCP tool's) is shown under one every provider accepts, as
``integrations.anthropic.tools`` shows it, and reaches the backend under its own. The tool showed
the names as they were, and an agent on an Anthropic model had every request refused ('Property
keys should match pattern ^[a-zA-Z0-9_.-]{1,64}$')."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("langchain.agents")

from langchain.agents import create_agent  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage  # noqa: E402

from integrations import Toolbox  # noqa: E402
from integrations import anthropic as claude  # noqa: E402
from integrations.langchain import RouterMiddleware, as_langchain_tools  # noqa: E402
from integrations.schema import ARGUMENT_NAME_PATTERN, Parameter  # noqa: E402


class ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools: Any, **options: Any) -> Any:
        return self


def make_toolbox() -> Toolbox:
    def backend(**arguments: Any) -> dict[str, Any]:
        return arguments

    backend.__tool_parameters__ = (  # type: ignore[attr-defined]
        Parameter("filter[id]", "keyword", int),
        Parameter("user id", "keyword", str, "me"),
    )
    toolbox = Toolbox(store="memory://", seed=0)
    toolbox.register(backend, "list_apps", tool_id="apps")
    return toolbox


def test_a_capability_tool_shows_names_every_provider_accepts() -> None:
    toolbox = make_toolbox()
    (tool,) = as_langchain_tools(toolbox)
    assert tool.args_schema == claude.tools(toolbox)[0]["input_schema"]
    assert list(tool.args_schema["properties"]) == ["filter_id_", "user_id"]
    assert all(ARGUMENT_NAME_PATTERN.fullmatch(name) for name in tool.args_schema["properties"])
    assert tool.invoke({"filter_id_": 3}) == '{"filter[id]":3}'
    assert asyncio.run(tool.ainvoke({"filter_id_": 4, "user_id": "ann"})) == '{"filter[id]":4,"user id":"ann"}'
    call = {"name": "list_apps", "args": {"filter_id_": "x"}, "id": "c1", "type": "tool_call"}
    wrong = tool.invoke(call)
    assert wrong.status == "error" and wrong.content.endswith('filter_id_: Input should be a valid integer (got "x")')


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_router_middleware_takes_the_names_its_tools_show(mode: str) -> None:
    toolbox = make_toolbox()
    model = ScriptedModel(messages=iter([
        AIMessage("", tool_calls=[{"name": "list_apps", "args": {"filter_id_": 7, "user_id": "bob"}, "id": "c1"}]),
        "Done.",
    ]))
    agent = create_agent(model, middleware=[RouterMiddleware(toolbox)])
    state = {"messages": [HumanMessage("list app 7")]}
    done = agent.invoke(state) if mode == "sync" else asyncio.run(agent.ainvoke(state))
    (answer,) = [m for m in done["messages"] if isinstance(m, ToolMessage)]
    assert (answer.status, answer.content) == ("success", '{"filter[id]":7,"user id":"bob"}')
