"""A streamed Chat Completions answer is dispatched once accumulated; a chunk is refused, not read as no calls."""

from __future__ import annotations

import pytest

pytest.importorskip("openai")

from openai.lib.streaming.chat import ChatCompletionStreamState  # noqa: E402
from openai.types.chat import ChatCompletionChunk  # noqa: E402

from integrations import Toolbox  # noqa: E402
from integrations.openai import chat_tool_calls, dispatch_chat  # noqa: E402


def chunk(delta: dict, finish_reason: str | None = None) -> ChatCompletionChunk:
    return ChatCompletionChunk.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "stub",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }
    )


STREAM = [  # the arguments arrive in fragments, as a provider streams them
    chunk({"role": "assistant", "tool_calls": [
        {"index": 0, "id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": '{"ci'}}]}),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ty": "Oslo"}'}}]}),
    chunk({}, finish_reason="tool_calls"),
]  # fmt: skip


def test_a_chunk_is_refused_and_the_accumulated_stream_is_dispatched() -> None:
    ran: list[str] = []
    toolbox = Toolbox(seed=0)

    @toolbox.tool("get_weather")
    def weather(city: str) -> str:
        """The weather in a city."""
        ran.append(city)
        return f"{city}: sun"

    for part in (STREAM[0], STREAM[0].model_dump(), STREAM[0].choices[0]):
        with pytest.raises(ValueError, match=r"message: a streamed chunk \(choices\[0\]\.delta\), not the answer"):
            dispatch_chat(toolbox, part)
    assert ran == []
    state = ChatCompletionStreamState()
    for part in STREAM:
        state.handle_chunk(part)
    completion = state.get_final_completion()
    assert [(c.call_id, c.arguments) for c in chat_tool_calls(completion)] == [("c1", '{"city": "Oslo"}')]
    assert dispatch_chat(toolbox, completion) == [{"role": "tool", "tool_call_id": "c1", "content": "Oslo: sun"}]


def test_a_chunks_delta_or_its_tool_calls_are_refused_not_read_as_calls_cut_short() -> None:
    # the delta taken out of its chunk was read as a message: the first one's call ran with the
    # arguments' first fragment (answered as malformed JSON), a later one's raised TypeError
    toolbox = Toolbox(seed=0)

    @toolbox.tool("get_weather")
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"{city}: sun"

    deltas = [part.choices[0].delta for part in STREAM[:2]]
    for part in (*deltas, deltas[0].tool_calls, deltas[1].tool_calls):
        with pytest.raises(ValueError, match=r"message: a streamed chunk \(choices\[0\]\.delta\), not the answer"):
            dispatch_chat(toolbox, part)
    # a call whose type is not a string is named (it was looked up as the field of that name)
    untyped = {"id": "c1", "type": None, "function": {"name": "get_weather", "arguments": "{}"}}
    with pytest.raises(ValueError, match=r"message\.tool_calls\[0\]\.type: expected a string, got None"):
        chat_tool_calls([untyped])


def test_a_choice_with_its_message_is_the_answer_whatever_else_it_carries() -> None:
    # a chunk's choice has no message; one that has it is the answer, an empty delta beside it or not
    call = {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    choice = {"index": 0, "message": {"role": "assistant", "tool_calls": [call]}, "delta": {}}
    assert [(c.call_id, c.name) for c in chat_tool_calls({"choices": [choice]})] == [("c1", "get_weather")]

def test_an_anthropic_stream_event_is_refused_not_read_as_a_message_without_calls() -> None:
    from anthropic.types import RawContentBlockStartEvent, RawMessageStopEvent

    from integrations import anthropic as claude

    toolbox = Toolbox(seed=0)

    @toolbox.tool("get_weather")
    def weather(city: str) -> str:
        """The weather in a city."""
        return f"{city}: sun"

    start = RawContentBlockStartEvent.model_validate(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {}}}
    )
    for event in (start, start.model_dump(), RawMessageStopEvent(type="message_stop")):
        with pytest.raises(ValueError, match=r"message: a stream event \((content_block_start|message_stop)\), not the message"):
            claude.tool_calls(event)
    with pytest.raises(ValueError, match=r"a stream event \(content_block_start\)"):
        claude.dispatch(toolbox, start)
    message = {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Oslo"}}]}
    assert claude.dispatch(toolbox, message)["content"][0]["content"] == "Oslo: sun"
