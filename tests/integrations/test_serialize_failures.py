"""A ``serialize`` of the caller's that fails on one value fails that call's result alone: the
other calls of the response still get theirs, and the failing one says what went wrong."""

from __future__ import annotations

import asyncio
from typing import Any

from integrations import ToolCall, Toolbox, adispatch_calls, dispatch_calls
from integrations import anthropic as claude
from integrations import openai as oai


def make_toolbox() -> Toolbox:
    toolbox = Toolbox(store="memory://", seed=0)

    @toolbox.tool("get_weather")
    def get_weather(city: str) -> dict[str, Any]:
        return {"city": city, "temp": 21}

    @toolbox.tool("get_time")
    def get_time(city: str) -> str:
        return "12:00"

    return toolbox


def temperature(value: Any) -> str:
    return f"{value['temp']} degrees"  # a str value has no 'temp': TypeError


def test_a_failing_serialize_fails_only_its_own_call() -> None:
    toolbox = make_toolbox()
    calls = [ToolCall("1", "get_weather", {"city": "Oslo"}), ToolCall("2", "get_time", {"city": "Oslo"})]
    for results in (dispatch_calls(toolbox, calls, serialize=temperature), asyncio.run(adispatch_calls(toolbox, calls, serialize=temperature))):
        assert [(r.call_id, r.status, r.is_error) for r in results] == [("1", "ok", False), ("2", "unserializable", True)]
        assert results[0].content == "21 degrees"
        assert results[1].content == (
            "tool 'get_time' ran, but its value could not be turned into text: serialize raised TypeError: "
            "string indices must be integers, not 'str'"
        )
        assert results[1].value == "12:00" and results[1].tool_id == "get_time"  # what the tool gave is kept
    assert [a.success for a in toolbox.middleware.learner.store.attempts()] == [True] * 4  # the tools did not fail
    not_text = dispatch_calls(toolbox, calls, serialize=lambda value: None)
    assert [r.content.endswith("serialize returned NoneType, not str") for r in not_text] == [True, True]


def test_the_provider_formats_answer_every_call_when_one_value_cannot_be_serialised() -> None:
    toolbox = make_toolbox()
    message = {
        "role": "assistant",
        "content": [
            {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Oslo"}},
            {"type": "tool_use", "id": "t2", "name": "get_time", "input": {"city": "Oslo"}},
        ],
    }
    blocks = claude.dispatch(toolbox, message, serialize=temperature)["content"]
    assert [(b["tool_use_id"], b["is_error"]) for b in blocks] == [("t1", False), ("t2", True)]
    chat = {
        "role": "assistant",
        "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
            {"id": "c2", "type": "function", "function": {"name": "get_time", "arguments": '{"city": "Oslo"}'}},
        ],
    }
    answers = oai.dispatch_chat(toolbox, chat, serialize=temperature)
    assert [m["tool_call_id"] for m in answers] == ["c1", "c2"] and answers[0]["content"] == "21 degrees"
    assert "serialize raised TypeError" in answers[1]["content"]
