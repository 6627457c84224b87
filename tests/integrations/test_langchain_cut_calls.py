"""An Anthropic model's tool call cut short at ``max_tokens`` (the message stopped there while its
last block was the call's ``tool_use``; LangChain keeps the stop reason in the message's
``response_metadata``) runs nothing through ``RouterMiddleware``, as ``anthropic.dispatch`` refuses
it: the middleware routed it all the same, its input perhaps missing arguments or cut inside one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("langchain.agents")

from langchain.agents import create_agent  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage  # noqa: E402

from integrations.langchain import RouterMiddleware  # noqa: E402
from test_langchain import RAIN, office_toolbox  # noqa: E402


class ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools: Any, **options: Any) -> Any:
        return self


def cut_message(stop_reason: str) -> AIMessage:
    blocks = [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "whole", "name": "get_weather", "input": {"city": "Oslo"}},
        {"type": "tool_use", "id": "cut", "name": "send_email", "input": {"to": "bob"}},
    ]
    calls = [{"name": b["name"], "args": b["input"], "id": b["id"]} for b in blocks[1:]]
    return AIMessage(blocks, tool_calls=calls, response_metadata={"stop_reason": stop_reason})


def run(stop_reason: str, run_async: bool) -> dict[str, ToolMessage]:
    toolbox = office_toolbox()
    model = ScriptedModel(messages=iter([cut_message(stop_reason), AIMessage("Done.")]))
    agent = create_agent(model, middleware=[RouterMiddleware(toolbox)])
    state = {"messages": [HumanMessage(RAIN)]}
    out = asyncio.run(agent.ainvoke(state)) if run_async else agent.invoke(state)
    answered = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    assert len(answered) == 2 and out["messages"][-1].content == "Done."
    return {m.tool_call_id: m for m in answered}


@pytest.mark.parametrize("run_async", [False, True])
def test_a_call_cut_at_max_tokens_runs_nothing_and_is_answered(run_async: bool) -> None:
    answers = run("max_tokens", run_async)
    assert (answers["whole"].status, answers["whole"].content) == ("success", "rain in Oslo")
    assert answers["cut"].status == "error"
    assert answers["cut"].content.startswith(
        "invalid arguments for tool 'send_email': the call was cut short where the response reached max_tokens"
    )


def test_the_last_call_of_a_message_that_ended_otherwise_runs() -> None:
    answers = run("tool_use", run_async=False)
    assert answers["cut"].status == "error" and "body: required, missing" in answers["cut"].content
