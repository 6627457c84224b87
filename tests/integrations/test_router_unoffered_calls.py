"""A call of a capability that the model's final request did not offer runs nothing: a middleware
that narrows the tools (LangChain's LLMToolSelectorMiddleware, say) left it out, yet
RouterMiddleware routed the model's call of it all the same."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("langchain.agents")

from langchain.agents import create_agent  # noqa: E402
from langchain.agents.middleware import AgentMiddleware  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage  # noqa: E402

from integrations.langchain import RouterMiddleware  # noqa: E402
from test_langchain import RAIN, office_toolbox  # noqa: E402


class ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools: Any, **options: Any) -> Any:
        return self


class OnlyWeather(AgentMiddleware):
    """Narrows the model's tools to get_weather, as a tool selector does."""

    def wrap_model_call(self, request: Any, handler: Any) -> Any:
        return handler(request.override(tools=[t for t in request.tools if t.name == "get_weather"]))

    async def awrap_model_call(self, request: Any, handler: Any) -> Any:
        return await handler(request.override(tools=[t for t in request.tools if t.name == "get_weather"]))


def script() -> ScriptedModel:
    calls = [
        {"name": "get_weather", "args": {"city": "Oslo"}, "id": "offered"},
        {"name": "send_email", "args": {"to": "bob", "body": "hi"}, "id": "left_out"},
    ]
    return ScriptedModel(messages=iter([AIMessage("", tool_calls=calls), AIMessage("Done.")]))


@pytest.mark.parametrize("run_async", [False, True])
def test_a_capability_left_out_of_the_request_is_not_routed(run_async: bool) -> None:
    toolbox = office_toolbox()
    agent = create_agent(script(), middleware=[OnlyWeather(), RouterMiddleware(toolbox)])
    state = {"messages": [HumanMessage(RAIN)]}
    out = asyncio.run(agent.ainvoke(state)) if run_async else agent.invoke(state)
    answered = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    answers = {m.tool_call_id: m for m in answered}
    assert len(answered) == 2  # each call answered once
    assert (answers["offered"].status, answers["offered"].content) == ("success", "rain in Oslo")
    assert answers["left_out"].status == "error"
    assert answers["left_out"].content == "unknown tool 'send_email'; the tools are 'get_weather'"
    assert out["messages"][-1].content == "Done."
