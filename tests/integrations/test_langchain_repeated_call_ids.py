"""Two calls of one model message with one id (a stream accumulated twice over) both ran through
``RouterMiddleware``, and both answers carried the id: a tool with side effects ran twice. The
first call of an id runs alone, as the provider dispatchers run it (``integrations.dispatch``)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

pytest.importorskip("langchain.agents")

from langchain.agents import create_agent  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

from integrations import Toolbox  # noqa: E402
from integrations.langchain import RouterMiddleware  # noqa: E402


class ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools: Any, **options: Any) -> Any:
        return self


@pytest.mark.parametrize("run_async", [False, True])
def test_a_repeated_call_id_runs_once(run_async: bool) -> None:
    toolbox = Toolbox(store="memory://", seed=0)
    sent: list[str] = []
    noted: list[str] = []

    @toolbox.tool("send_email")
    def send_email(to: str) -> str:
        sent.append(to)
        return f"sent to {to}"

    @tool
    def note(text: str) -> str:
        """Note a text."""
        noted.append(text)
        return "noted"

    calls = [
        {"name": "send_email", "args": {"to": "ann"}, "id": "c1"},
        {"name": "send_email", "args": {"to": "bob"}, "id": "c2"},
        {"name": "send_email", "args": {"to": "ann"}, "id": "c1"},
        {"name": "note", "args": {"text": "x"}, "id": "n1"},
    ]
    model = ScriptedModel(messages=iter([AIMessage("", tool_calls=calls), AIMessage("Done.")]))
    agent = create_agent(model, tools=[note], middleware=[RouterMiddleware(toolbox)])
    state = {"messages": [HumanMessage("mail ann and bob")]}
    out = asyncio.run(agent.ainvoke(state)) if run_async else agent.invoke(state)
    assert sorted(sent) == ["ann", "bob"] and noted == ["x"]
    answers = sorted((m.tool_call_id, m.status, m.content) for m in out["messages"] if isinstance(m, ToolMessage))
    assert answers == [("c1", "success", "sent to ann"), ("c2", "success", "sent to bob"), ("n1", "success", "noted")]
    assert [c["id"] for c in out["messages"][1].tool_calls] == ["c1", "c2", "n1"]  # one call per id, as answered
    assert out["messages"][-1].content == "Done."
