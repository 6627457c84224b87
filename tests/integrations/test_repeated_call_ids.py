"""Two calls of one response with one id (a stream accumulator that repeats a call) both ran, and
both answers carried that id: a tool with side effects ran twice. The first call of an id runs;
a repeat runs nothing and is answered with an error saying so, in every provider's format."""

from __future__ import annotations

import asyncio

import pytest

from integrations import Toolbox, ToolCall, adispatch_calls, dispatch_calls
from integrations import anthropic as anth
from integrations import openai as oai


def make_toolbox() -> tuple[Toolbox, list[str]]:
    toolbox = Toolbox(store="memory://", seed=0)
    sent: list[str] = []

    @toolbox.tool("send_email")
    def send_email(to: str) -> str:
        sent.append(to)
        return f"sent to {to}"

    return toolbox, sent


REPEATED = "invalid arguments for tool 'send_email': the call's id 'c1' is that of call 0 of this response"


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_repeated_id_runs_once_and_its_repeat_is_answered_with_an_error(asynchronous: bool) -> None:
    toolbox, sent = make_toolbox()
    calls = [
        ToolCall("c1", "send_email", '{"to": "ann"}'),
        ToolCall("c2", "send_email", '{"to": "bob"}'),
        ToolCall("c1", "send_email", '{"to": "ann"}'),
    ]
    results = asyncio.run(adispatch_calls(toolbox, calls)) if asynchronous else dispatch_calls(toolbox, calls)
    assert sorted(sent) == ["ann", "bob"]
    assert [(r.call_id, r.status) for r in results] == [("c1", "ok"), ("c2", "ok"), ("c1", "invalid_arguments")]
    assert results[2].content.startswith(REPEATED) and results[0].content == "sent to ann"
    assert toolbox.middleware.learner.tool_statistics()["send_email"].calls == 2


def test_openai_and_anthropic_answer_a_repeat_alike() -> None:
    toolbox, sent = make_toolbox()
    call = {"id": "c1", "type": "function", "function": {"name": "send_email", "arguments": '{"to": "ann"}'}}
    chat = oai.dispatch_chat(toolbox, {"role": "assistant", "tool_calls": [call, call]})
    assert [m["content"].startswith(REPEATED) for m in chat] == [False, True]
    block = {"type": "tool_use", "id": "c1", "name": "send_email", "input": {"to": "ann"}}
    answer = anth.dispatch(toolbox, {"role": "assistant", "content": [block, block], "stop_reason": "tool_use"})
    assert [(b["is_error"], b["content"].startswith(REPEATED)) for b in answer["content"]] == [(False, False), (True, True)]
    assert sent == ["ann", "ann"]  # once per response
