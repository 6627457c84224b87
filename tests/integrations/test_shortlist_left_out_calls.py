"""A tool call of a capability the shortlist left out of the model's request runs nothing: it ran
(routed by ``RouterMiddleware``, or by the agent's tool node), though the model was never given
the tool in that request and a provider refuses a tool it did not give."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("langchain.agents")

from langchain.agents import create_agent  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage  # noqa: E402

from integrations.langchain import RouterMiddleware, ToolShortlistMiddleware, as_langchain_tools  # noqa: E402
from integrations.shortlist import ToolShortlist  # noqa: E402
from test_langchain import RAIN, office_toolbox  # noqa: E402
from toolrouter.features import HashingFeaturizer  # noqa: E402


class ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools: Any, **options: Any) -> Any:
        return self


def script() -> ScriptedModel:
    calls = [
        {"name": "get_weather", "args": {"city": "Oslo"}, "id": "shown"},
        {"name": "send_email", "args": {"to": "bob", "body": "hi"}, "id": "left_out"},
    ]
    return ScriptedModel(messages=iter([AIMessage("", tool_calls=calls), AIMessage("Done.")]))


@pytest.mark.parametrize("routed", [True, False])
@pytest.mark.parametrize("run_async", [False, True])
def test_a_call_of_a_capability_left_out_runs_nothing(routed: bool, run_async: bool) -> None:
    toolbox = office_toolbox()
    shortlist = ToolShortlist(toolbox, k=1, featurizer=HashingFeaturizer(dim=512))
    assert shortlist.select(RAIN, k=1) == ["get_weather"]  # send_email is left out
    shortlisted = ToolShortlistMiddleware(shortlist, max_tools=1)
    if routed:
        agent = create_agent(script(), middleware=[shortlisted, RouterMiddleware(toolbox)])
    else:
        agent = create_agent(script(), tools=as_langchain_tools(toolbox), middleware=[shortlisted])
    state = {"messages": [HumanMessage(RAIN)]}
    out = asyncio.run(agent.ainvoke(state)) if run_async else agent.invoke(state)
    answered = [m for m in out["messages"] if isinstance(m, ToolMessage)]
    answers = {m.tool_call_id: m for m in answered}
    assert len(answered) == 2  # each call answered once (the router refuses it too, nearer the model)
    assert (answers["shown"].status, answers["shown"].content) == ("success", "rain in Oslo")
    assert answers["left_out"].status == "error"
    assert answers["left_out"].content == "unknown tool 'send_email'; the tools are 'get_weather'"
    assert out["messages"][-1].content == "Done."
