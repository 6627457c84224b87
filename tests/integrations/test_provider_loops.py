"""Complete tool-calling loops with the real ``openai`` and ``anthropic`` clients, offline: each talks
to a scripted provider on 127.0.0.1 that asks for tools, then answers once it has the results."""

import json
from typing import Any

import anthropic
import openai
import pytest

from integrations import Toolbox
from integrations import anthropic as claude
from integrations import openai as oai

from provider_stub import ScriptedProvider

pytestmark = pytest.mark.timeout(60)

QUESTION = "What is the weather in Oslo and in Rome, and what is 2 + 3?"


def make_toolbox() -> Toolbox:
    toolbox = Toolbox(store="memory://", seed=0)

    @toolbox.tool("get_weather")
    def weather(city: str) -> dict:
        """The current weather in a city.

        Args:
            city: The city's name.
        """
        return {"city": city, "sky": "clear"}

    @toolbox.tool("add")
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    return toolbox


CALLS = [
    ("call_1", "get_weather", {"city": "Oslo"}),
    ("call_2", "get_weather", {"city": "Rome"}),
    ("call_3", "add", {"a": 2, "b": 3}),
]
EXPECTED_CONTENTS = ['{"city":"Oslo","sky":"clear"}', '{"city":"Rome","sky":"clear"}', "5"]


def test_openai_chat_completions_loop() -> None:
    def ask_for_tools(request: dict[str, Any]) -> dict[str, Any]:
        tool_calls = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}} for i, n, a in CALLS
        ]
        message = {"role": "assistant", "content": None, "tool_calls": tool_calls}
        return _chat(message, "tool_calls")

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        results = {m["tool_call_id"]: m["content"] for m in request["messages"] if m["role"] == "tool"}
        return _chat({"role": "assistant", "content": f"Done: {results['call_3']}"}, "stop")

    toolbox = make_toolbox()
    with ScriptedProvider([ask_for_tools, answer]) as provider:
        client = openai.OpenAI(base_url=f"{provider.url}/v1", api_key="test", max_retries=0, timeout=10)
        messages: list[Any] = [{"role": "user", "content": QUESTION}]
        tools = oai.chat_tools(toolbox)
        for _ in range(4):  # bounded: the script ends the loop on its second answer
            completion = client.chat.completions.create(model="stub", messages=messages, tools=tools)
            message = completion.choices[0].message
            if not message.tool_calls:
                break
            messages.append(message.model_dump(exclude_none=True))
            messages += oai.dispatch_chat(toolbox, completion, messages=messages)
    assert message.content == "Done: 5"
    (path1, first), (path2, second) = provider.requests
    assert path1 == path2 == "/v1/chat/completions"
    assert first["tools"] == json.loads(json.dumps(tools))  # the exported schemas, as sent
    assert [t["function"]["name"] for t in first["tools"]] == ["get_weather", "add"]
    tool_messages = [m for m in second["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == ["call_1", "call_2", "call_3"]
    assert [m["content"] for m in tool_messages] == EXPECTED_CONTENTS
    assert second["messages"][1]["tool_calls"][2]["function"]["name"] == "add"
    assert toolbox.middleware.learner.store.count() == 3


def test_openai_responses_loop() -> None:
    def ask_for_tools(request: dict[str, Any]) -> dict[str, Any]:
        items = [
            {"type": "function_call", "id": f"fc_{i}", "call_id": i, "name": n, "arguments": json.dumps(a), "status": "completed"}
            for i, n, a in CALLS
        ]
        return _response(items)

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        outputs = [i for i in request["input"] if i.get("type") == "function_call_output"]
        text = " | ".join(o["output"] for o in outputs)
        message = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
                   "content": [{"type": "output_text", "text": text, "annotations": []}]}  # fmt: skip
        return _response([message])

    toolbox = make_toolbox()
    with ScriptedProvider([ask_for_tools, answer]) as provider:
        client = openai.OpenAI(base_url=f"{provider.url}/v1", api_key="test", max_retries=0, timeout=10)
        conversation: list[Any] = [{"role": "user", "content": QUESTION}]
        tools = oai.responses_tools(toolbox)
        for _ in range(4):
            response = client.responses.create(model="stub", input=conversation, tools=tools)
            calls = [item for item in response.output if item.type == "function_call"]
            if not calls:
                break
            conversation += [item.model_dump(exclude_none=True) for item in calls]
            conversation += oai.dispatch_responses(toolbox, response, input=conversation)
    assert response.output_text == " | ".join(EXPECTED_CONTENTS)
    (path1, first), (_, second) = provider.requests
    assert path1 == "/v1/responses" and first["tools"] == json.loads(json.dumps(tools))
    outputs = [i for i in second["input"] if i.get("type") == "function_call_output"]
    assert [(o["call_id"], o["output"]) for o in outputs] == list(zip(["call_1", "call_2", "call_3"], EXPECTED_CONTENTS))


def test_anthropic_messages_loop() -> None:
    def ask_for_tools(request: dict[str, Any]) -> dict[str, Any]:
        blocks = [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in CALLS]
        return _message([{"type": "text", "text": "Checking."}, *blocks], "tool_use")

    def answer(request: dict[str, Any]) -> dict[str, Any]:
        results = [b for m in request["messages"] if m["role"] == "user" and isinstance(m["content"], list)
                   for b in m["content"] if b["type"] == "tool_result"]  # fmt: skip
        return _message([{"type": "text", "text": f"{len(results)} results"}], "end_turn")

    toolbox = make_toolbox()
    with ScriptedProvider([ask_for_tools, answer]) as provider:
        client = anthropic.Anthropic(base_url=provider.url, api_key="test", max_retries=0, timeout=10)
        messages: list[Any] = [{"role": "user", "content": QUESTION}]
        tools = claude.tools(toolbox)
        for _ in range(4):
            message = client.messages.create(model="stub", max_tokens=256, messages=messages, tools=tools)
            if message.stop_reason != "tool_use":
                break
            messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in message.content]})
            messages.append(claude.dispatch(toolbox, message, messages=messages))
    assert message.content[0].text == "3 results"
    (path1, first), (path2, second) = provider.requests
    assert path1 == path2 == "/v1/messages"
    assert first["tools"] == json.loads(json.dumps(tools))
    results = second["messages"][-1]
    assert results["role"] == "user"
    assert [(b["tool_use_id"], b["content"], b["is_error"]) for b in results["content"]] == [
        (i, c, False) for (i, _, _), c in zip(CALLS, EXPECTED_CONTENTS)
    ]
    assert toolbox.middleware.learner.store.count() == 3


# --- the providers' response bodies ---------------------------------------------------------------
def _chat(message: dict[str, Any], finish_reason: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _response(output: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": "resp_stub",
        "object": "response",
        "created_at": 0,
        "model": "stub",
        "status": "completed",
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }


def _message(content: list[dict[str, Any]], stop_reason: str) -> dict[str, Any]:
    return {
        "id": "msg_stub",
        "type": "message",
        "role": "assistant",
        "model": "stub",
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
