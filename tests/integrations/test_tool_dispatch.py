"""A model's tool calls, from the SDKs' typed responses and from plain dicts, run through the router:
concurrency, fallback, every backend failing, the model's mistakes (recorded against no backend),
nested arguments, the routing context, serialisation, and the store's rows equal to the attempts."""

import asyncio
import contextvars
import dataclasses
import datetime
import json
import re
import threading
import time
from typing import Any

import pytest
from anthropic.types import Message, MessageParam, ToolResultBlockParam
from openai.types.chat import ChatCompletion, ChatCompletionMessage, ChatCompletionToolMessageParam
from openai.types.responses import Response
from openai.types.responses.response_input_param import FunctionCallOutput
from pydantic import BaseModel, TypeAdapter

from integrations import ToolCall, Toolbox, adispatch_calls, dispatch_calls, to_content
from integrations import anthropic as claude
from integrations import dispatch as dispatch_module
from integrations import openai as oai
from toolrouter import ToolMiddleware


class Address(BaseModel):
    city: str
    zip_code: str | None = None


class Order(BaseModel):
    item: str
    quantity: int
    ship_to: Address


@dataclasses.dataclass
class Quote:
    item: str
    price: float


def make_toolbox() -> Toolbox:
    toolbox = Toolbox(store="memory://", seed=0)

    def weather(city: str, unit: str = "C") -> dict:
        """The weather in a city."""
        return {"city": city, "temp": 21, "unit": unit}

    def place_order(order: Order) -> Quote:
        """Place an order."""
        assert isinstance(order.ship_to, Address)  # the nested model arrives validated and typed
        return Quote(order.item, 2.5 * order.quantity)

    toolbox.register(weather, "get_weather")
    toolbox.register(place_order, "place_order")
    return toolbox


def rows(toolbox: Toolbox) -> list[tuple[str, bool, str | None]]:
    return [(r.tool_id, r.success, r.error) for r in toolbox.middleware.learner.store.attempts()]


def attempts_of(results: Any) -> list[tuple[str, bool, str | None]]:
    return [(a.tool_id, a.success, a.error) for r in results for a in r.attempts]


# --- provider objects built as the SDKs build them -------------------------------------------------
def chat_completion(calls: list[tuple[str, str, str]]) -> ChatCompletion:
    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "stub",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {"id": i, "type": "function", "function": {"name": n, "arguments": a}} for i, n, a in calls
                        ],
                    },
                }
            ],
        }
    )


def responses_response(calls: list[tuple[str, str, str]]) -> Response:
    return Response.model_validate(
        {
            "id": "resp_1",
            "object": "response",
            "created_at": 0,
            "model": "stub",
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "output": [
                {
                    "type": "message",  # not a call: left alone
                    "id": "msg_1",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": "Let me check.", "annotations": []}],
                },
                *(
                    {"type": "function_call", "id": f"fc_{i}", "call_id": i, "name": n, "arguments": a, "status": "completed"}
                    for i, n, a in calls
                ),
            ],
        }
    )


def anthropic_message(calls: list[tuple[str, str, dict[str, Any]]]) -> Message:
    return Message.model_validate(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "stub",
            "stop_reason": "tool_use",
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
            "content": [
                {"type": "text", "text": "Let me check."},
                *({"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in calls),
            ],
        }
    )


ORDER = {"item": "tea", "quantity": 2, "ship_to": {"city": "Oslo"}}


# --- the three formats -----------------------------------------------------------------------------
def test_openai_chat_typed_and_dict_responses() -> None:
    toolbox = make_toolbox()
    completion = chat_completion([("c1", "get_weather", '{"city": "Oslo"}'), ("c2", "place_order", json.dumps({"order": ORDER}))])
    expected = [
        {"role": "tool", "tool_call_id": "c1", "content": '{"city":"Oslo","temp":21,"unit":"C"}'},
        {"role": "tool", "tool_call_id": "c2", "content": '{"item":"tea","price":5.0}'},
    ]
    assert oai.dispatch_chat(toolbox, completion) == expected
    assert oai.dispatch_chat(toolbox, completion.choices[0].message) == expected
    assert oai.dispatch_chat(toolbox, completion.model_dump()) == expected
    assert oai.dispatch_chat(toolbox, completion.choices[0].message.model_dump(exclude_none=True)) == expected
    assert asyncio.run(oai.adispatch_chat(toolbox, completion)) == expected
    for message in expected:
        TypeAdapter(ChatCompletionToolMessageParam).validate_python(message)
    no_calls = ChatCompletionMessage(role="assistant", content="Done.")
    assert oai.dispatch_chat(toolbox, no_calls) == []
    assert len(rows(toolbox)) == 10  # two calls, five times, one attempt each


def test_openai_responses_typed_and_dict_responses() -> None:
    toolbox = make_toolbox()
    response = responses_response([("call_a", "get_weather", '{"city": "Rome", "unit": "F"}'), ("call_b", "nope", "{}")])
    outputs = oai.dispatch_responses(toolbox, response)
    assert outputs[0] == {"type": "function_call_output", "call_id": "call_a", "output": '{"city":"Rome","temp":21,"unit":"F"}'}
    assert outputs[1]["call_id"] == "call_b" and outputs[1]["output"].startswith("unknown tool 'nope'")
    assert oai.dispatch_responses(toolbox, response.model_dump()) == outputs
    assert oai.dispatch_responses(toolbox, [item.model_dump() for item in response.output]) == outputs
    assert asyncio.run(oai.adispatch_responses(toolbox, response)) == outputs
    for item in outputs:
        TypeAdapter(FunctionCallOutput).validate_python(item)


def test_anthropic_typed_and_dict_messages() -> None:
    toolbox = make_toolbox()
    message = anthropic_message([("tu_1", "place_order", {"order": ORDER}), ("tu_2", "get_weather", {"city": 5})])
    answer = claude.dispatch(toolbox, message)
    assert answer["role"] == "user"
    ok, bad = answer["content"]
    assert ok == {"type": "tool_result", "tool_use_id": "tu_1", "content": '{"item":"tea","price":5.0}', "is_error": False}
    assert bad["tool_use_id"] == "tu_2" and bad["is_error"] is True
    assert bad["content"] == "invalid arguments for tool 'get_weather': city: Input should be a valid string (got 5)"
    assert claude.dispatch(toolbox, message.model_dump()) == answer
    assert claude.dispatch(toolbox, message.content) == answer
    assert asyncio.run(claude.adispatch(toolbox, message)) == answer
    TypeAdapter(MessageParam).validate_python(answer)
    for block in answer["content"]:
        TypeAdapter(ToolResultBlockParam).validate_python(block)
    finished = message.model_copy(update={"content": message.content[:1], "stop_reason": "end_turn"})
    with pytest.raises(ValueError, match="no tool_use blocks to answer .*'end_turn'"):
        claude.dispatch(toolbox, finished)


# --- concurrency -----------------------------------------------------------------------------------
def test_parallel_calls_run_concurrently_sync_and_async() -> None:
    toolbox = Toolbox(seed=0)
    spans: list[tuple[str, float, float]] = []
    lock = threading.Lock()

    def slow_search(query: str) -> str:
        start = time.monotonic()
        time.sleep(0.3)
        with lock:
            spans.append((query, start, time.monotonic()))
        return f"found {query}"

    async def slow_fetch(url: str) -> str:
        start = time.monotonic()
        await asyncio.sleep(0.3)
        spans.append((url, start, time.monotonic()))
        return f"fetched {url}"

    toolbox.register(slow_search, "search")
    toolbox.register(slow_fetch, "fetch")
    calls = [("a", "search", '{"query": "one"}'), ("b", "fetch", '{"url": "u"}'), ("c", "search", '{"query": "two"}')]
    completion = chat_completion(calls)
    for run in (lambda: oai.dispatch_chat(toolbox, completion), lambda: asyncio.run(oai.adispatch_chat(toolbox, completion))):
        spans.clear()
        t0 = time.monotonic()
        messages = run()
        elapsed = time.monotonic() - t0
        assert [m["tool_call_id"] for m in messages] == ["a", "b", "c"]  # in the order of the calls
        assert [m["content"] for m in messages] == ["found one", "fetched u", "found two"]
        assert len(spans) == 3 and max(s for _, s, _ in spans) < min(e for _, _, e in spans)  # all overlapped
        assert elapsed < 0.55, elapsed  # one after the other would take 0.9 s


# --- failures and the model's mistakes ------------------------------------------------------------
def test_a_failing_backend_falls_back_and_every_attempt_is_recorded() -> None:
    toolbox = Toolbox(store="memory://", seed=0)

    def broken(query: str) -> str:
        raise ConnectionError("down")

    def working(query: str) -> str:
        return "ok"

    # the broken backend looks far better a priori, so it is tried first
    toolbox.register(broken, "search", reliability=1.0, cost_per_use=0.0, expected_latency_s=0.0)
    toolbox.register(working, "search", reliability=0.1, cost_per_use=5.0, expected_latency_s=5.0)
    (result,) = dispatch_calls(toolbox, [ToolCall("c1", "search", '{"query": "q"}')])
    assert (result.content, result.is_error, result.tool_id, result.call_id) == ("ok", False, "working", "c1")
    assert attempts_of([result]) == [("broken", False, "ConnectionError: down"), ("working", True, None)]
    assert rows(toolbox) == attempts_of([result])


def test_every_backend_failing_is_an_error_result_listing_the_attempts() -> None:
    toolbox = Toolbox(store="memory://", seed=0)

    def failing(name: str) -> Any:
        def fail(query: str) -> str:
            raise TimeoutError(f"{name} timed out")

        return fail

    for name in ("alpha", "beta"):
        toolbox.register(failing(name), "search", tool_id=name)
    message = anthropic_message([("tu_1", "search", {"query": "q"})])
    (block,) = claude.dispatch(toolbox, message)["content"]
    assert block["is_error"] is True and block["tool_use_id"] == "tu_1"
    assert block["content"].startswith("tool 'search' failed: every backend failed (2 attempts: ")
    assert "alpha: TimeoutError: alpha timed out" in block["content"]
    assert "beta: TimeoutError: beta timed out" in block["content"]
    assert sorted(r[0] for r in rows(toolbox)) == ["alpha", "beta"] and not any(r[1] for r in rows(toolbox))
    (result,) = dispatch_calls(toolbox, [ToolCall("x", "search", {"query": "q"})])
    assert result.status == "tools_failed" and len(result.attempts) == 2 and len(rows(toolbox)) == 4


def test_backends_not_tried_say_why_instead_of_every_backend_failing_after_no_attempt() -> None:
    from toolrouter.attempts import CircuitBreakerConfig, ExecutorConfig

    breakers = ExecutorConfig(circuit_breaker=CircuitBreakerConfig(failure_threshold=1, reset_timeout_s=600))
    toolbox = Toolbox(ToolMiddleware(store="memory://", seed=0, config=breakers))

    @toolbox.tool("search")
    def alpha(query: str) -> str:
        raise ConnectionError("alpha down")

    first = toolbox.call_one_sync("search", {"query": "q"})
    assert first.content.startswith("tool 'search' failed: every backend failed (1 attempt: alpha: ConnectionError: alpha down)")
    (block,) = claude.dispatch(toolbox, anthropic_message([("tu_1", "search", {"query": "q"})]))["content"]
    # it said "every backend failed (0 attempts: )"
    assert block["is_error"] and block["content"] == "tool 'search' failed: no backend could be tried; skipped alpha (circuit open)"
    assert len(rows(toolbox)) == 1  # no attempt made, none recorded


@pytest.mark.parametrize(
    ("name", "arguments", "status", "content"),
    [
        ("get_weather", '{"city": "Oslo"', "invalid_arguments", "the arguments are not valid JSON (Expecting"),
        ("get_weather", '{"city": ' + "[" * 100_000 + "]" * 100_000 + "}", "invalid_arguments",
         "the arguments are nested too deeply to read (objects and arrays inside one another, past the JSON "
         "parser's limit); send one JSON object nested less deeply"),
        ("get_weather", '["Oslo"]', "invalid_arguments", "expected a JSON object of named arguments, got an array"),
        ("get_weather", "{}", "invalid_arguments", "city: required, missing"),
        ("get_weather", '{"city": ["Oslo"]}', "invalid_arguments", 'city: Input should be a valid string (got ["Oslo"])'),
        ("get_weather", '{"city": "Oslo", "days": 3}', "invalid_arguments", "days: not an argument of this tool (its arguments: city, unit)"),
        ("place_order", json.dumps({"order": {**ORDER, "quantity": "two"}}), "invalid_arguments", "order.quantity: Input should be a valid integer"),
        ("place_order", json.dumps({"order": {**ORDER, "ship_to": {}}}), "invalid_arguments", "order.ship_to.city: required, missing"),
        ("get_wether", '{"city": "Oslo"}', "unknown_tool", "unknown tool 'get_wether'; the tools are 'get_weather', 'place_order'"),
    ],
)
def test_the_models_mistakes_are_error_results_recorded_against_no_backend(
    name: str, arguments: str, status: str, content: str
) -> None:
    toolbox = make_toolbox()
    completion = chat_completion([(f"call_{status}", name, arguments)])
    (message,) = oai.dispatch_chat(toolbox, completion)
    assert message["tool_call_id"] == f"call_{status}" and content in message["content"]
    (result,) = dispatch_calls(toolbox, oai.chat_tool_calls(completion))
    assert result.status == status and result.is_error and result.attempts == () and result.value is None
    assert rows(toolbox) == [] and all(s.calls == 0 for s in toolbox.middleware.learner.tool_statistics().values())


def test_a_nested_model_argument_reaches_the_tool_validated() -> None:
    toolbox = make_toolbox()
    result = toolbox.call_one_sync("place_order", {"order": {"item": "tea", "quantity": 3, "ship_to": {"city": "Oslo"}}})
    assert result.value == Quote("tea", 7.5) and result.content == '{"item":"tea","price":7.5}'
    assert result.tool_id == "place_order" and not result.is_error


# --- routing context, serialisation, the caller's own mistakes ------------------------------------
def spy_on_route(toolbox: Toolbox) -> list[str | None]:
    seen: list[str | None] = []
    route = toolbox.middleware.route

    def spy(capability: str, **options: Any) -> Any:
        seen.append(options.get("context"))
        return route(capability, **options)

    toolbox.middleware.route = spy  # type: ignore[method-assign]
    return seen


def test_the_routing_context_is_the_last_user_text_unless_given() -> None:
    toolbox = make_toolbox()
    seen = spy_on_route(toolbox)
    call = [("c", "get_weather", '{"city": "Oslo"}')]
    chat_messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question"},
        {"role": "assistant", "content": "an answer"},
        {"role": "user", "content": [{"type": "text", "text": "Weather"}, {"type": "image_url", "image_url": {"url": "x"}}, {"type": "text", "text": "in Oslo?"}]},
        {"role": "tool", "tool_call_id": "old", "content": "not user text"},
    ]
    oai.dispatch_chat(toolbox, chat_completion(call), messages=chat_messages)
    oai.dispatch_chat(toolbox, chat_completion(call), messages=chat_messages, context="given text")
    oai.dispatch_chat(toolbox, chat_completion(call))
    oai.dispatch_responses(toolbox, responses_response(call), input="plain input")
    responses_input = [
        {"role": "user", "content": [{"type": "input_text", "text": "typed input"}]},
        {"type": "function_call_output", "call_id": "old", "output": "x"},
    ]
    oai.dispatch_responses(toolbox, responses_response(call), input=responses_input)
    claude_messages = [
        {"role": "user", "content": "the question"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t0", "name": "get_weather", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t0", "content": "result"}]},
    ]
    claude.dispatch(toolbox, anthropic_message([("t1", "get_weather", {"city": "Oslo"})]), messages=claude_messages)
    assert seen == ["Weather\nin Oslo?", "given text", None, "plain input", "typed input", "the question"]
    for one_message in (chat_messages[1], ChatCompletionMessage(role="assistant", content="x")):  # not the list
        with pytest.raises(TypeError, match="messages: expected the list of messages, got one message"):
            oai.dispatch_chat(toolbox, chat_completion(call), messages=one_message)
    assert len(seen) == 6  # nothing ran


def test_values_are_serialised_for_the_model_and_serialize_overrides() -> None:
    class Opaque:
        def __str__(self) -> str:
            return "<opaque>"

    assert to_content("as is") == "as is"
    assert to_content(Address(city="Oslo")) == '{"city":"Oslo","zip_code":null}'
    assert to_content(Quote("tea", 1.0)) == '{"item":"tea","price":1.0}'
    assert to_content({"a": [1, (2, 3)], "b": None}) == '{"a":[1,[2,3]],"b":null}'
    assert to_content([Opaque()]) == '["<opaque>"]' and to_content(Opaque()) == "<opaque>"
    assert to_content({"at": datetime.datetime(2026, 1, 2, 3, 4)}) == '{"at":"2026-01-02T03:04:00"}'  # ISO 8601
    assert to_content(None) == "null" and to_content(True) == "true" and to_content(2.5) == "2.5"
    # a lone surrogate (no encoding holds one: a provider's SDK could not send it) becomes U+FFFD
    assert to_content({"a": "x\ud800", "n": 1}) == '{"a":"x\ufffd","n":1}' and to_content("y\udfff") == "y\ufffd"
    toolbox = make_toolbox()
    (message,) = oai.dispatch_chat(
        toolbox, chat_completion([("c", "get_weather", '{"city": "Oslo"}')]), serialize=lambda v: f"{v['temp']} degrees"
    )
    assert message["content"] == "21 degrees"
    (message,) = oai.dispatch_chat(
        toolbox, chat_completion([("c", "get_weather", '{"city": "Oslo"}')]), serialize=lambda v: "z\ud800"
    )
    assert message["content"] == "z\ufffd"
    not_text = toolbox.call_one_sync("get_weather", {"city": "Oslo"}, serialize=lambda v: v)
    assert not_text.status == "unserializable" and not_text.content.endswith("serialize returned dict, not str")


def test_a_value_that_cannot_be_serialised_reaches_the_model_as_a_note_and_spoils_no_other_call() -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("no text")

    circular: list = []
    circular.append(circular)
    assert to_content(Unprintable()) == "<unprintable Unprintable: str() raised RuntimeError: no text>"
    assert to_content({"a": Unprintable()}) == '{"a":"<unprintable Unprintable: str() raised RuntimeError: no text>"}'
    assert to_content(circular) == "[[...]]" and to_content({"raw": b"\xff"}) == "{'raw': b'\\xff'}"
    toolbox = make_toolbox()
    toolbox.register(lambda: Unprintable(), "opaque", tool_id="opaque")
    results = dispatch_calls(toolbox, [ToolCall("1", "get_weather", {"city": "Oslo"}), ToolCall("2", "opaque", {})])
    assert [(r.call_id, r.status) for r in results] == [("1", "ok"), ("2", "ok")]
    assert results[1].content.startswith("<unprintable Unprintable")


def test_a_response_field_that_is_not_a_list_is_named() -> None:
    toolbox = make_toolbox()
    with pytest.raises(ValueError, match=r"message.tool_calls: expected a list, got str 'get_weather'"):
        oai.dispatch_chat(toolbox, {"role": "assistant", "tool_calls": "get_weather"})
    with pytest.raises(ValueError, match=r"response.output: expected a list, got dict"):
        oai.dispatch_responses(toolbox, {"output": {"type": "function_call"}})
    with pytest.raises(ValueError, match=r"message.content: expected a list, got dict"):
        claude.dispatch(toolbox, {"role": "assistant", "content": {"type": "tool_use", "id": "t", "name": "x"}})
    assert rows(toolbox) == []


def test_something_that_is_not_a_response_is_named_not_read_as_no_tool_calls() -> None:
    toolbox = make_toolbox()
    # message.content of a tool-calling answer is None: passed for the message, its calls would be lost
    for dispatch, where in ((oai.dispatch_chat, "message"), (oai.dispatch_responses, "response"), (claude.dispatch, "message")):
        for wrong in (None, "get_weather", 3):
            with pytest.raises(ValueError, match=f"{where}: expected the model's response .*, got {wrong!r}"):
                dispatch(toolbox, wrong)
    with pytest.raises(ValueError, match="message: expected the model's response"):
        claude.tool_calls(None)
    assert oai.chat_tool_calls({"role": "assistant", "content": "done"}) == []  # an answer without calls
    assert rows(toolbox) == []


def test_a_chat_answer_is_read_from_its_tool_calls_and_a_part_of_it_is_named() -> None:
    toolbox = make_toolbox()
    completion = chat_completion([("c1", "get_weather", '{"city": "Oslo"}')])
    message = completion.choices[0].message
    expected = oai.dispatch_chat(toolbox, completion)
    assert oai.dispatch_chat(toolbox, message.tool_calls) == expected  # the message's tool_calls list
    assert oai.dispatch_chat(toolbox, message.model_dump()["tool_calls"]) == expected
    # these held no calls: dispatch_chat returned [], and the model's calls went unanswered
    for wrong, problem in [
        (completion.choices, r"message.tool_calls\[0\].function: missing in Choice\("),
        (message.tool_calls[0], "message: expected a ChatCompletion, a choice, an assistant message or its tool_calls, got Chat"),
        ({"tool_call_id": "c1"}, "message: expected a ChatCompletion, .* got {'tool_call_id': 'c1'}"),
    ]:
        with pytest.raises(ValueError, match=problem):
            oai.dispatch_chat(toolbox, wrong)
    assert oai.chat_tool_calls([]) == [] and len(rows(toolbox)) == 3


def test_an_anthropic_block_is_named_not_read_as_a_message_without_calls() -> None:
    toolbox = make_toolbox()
    message = anthropic_message([("t1", "get_weather", {"city": "Oslo"})])
    for wrong in (message.content[-1], message.content[-1].model_dump(), {"tool_use_id": "t1"}):
        with pytest.raises(ValueError, match="message: expected a Message, a message dict or its content blocks, got"):
            claude.tool_calls(wrong)  # it returned [] (and dispatch said 'no tool_use blocks to answer')
        with pytest.raises(ValueError, match="message: expected a Message"):
            claude.dispatch(toolbox, wrong)
    assert claude.dispatch(toolbox, message.content)["content"][0]["tool_use_id"] == "t1"  # its blocks
    assert claude.tool_calls({"role": "assistant", "content": "done"}) == [] and len(rows(toolbox)) == 1


def test_anthropic_is_sent_argument_names_it_accepts_and_the_tool_gets_its_own() -> None:
    from integrations.schema import Parameter

    def backend(**arguments: Any) -> dict[str, Any]:
        return arguments

    backend.__tool_parameters__ = (  # type: ignore[attr-defined]  # an MCP tool's names, say
        Parameter("filter[id]", "keyword", int),
        Parameter("filter_id_", "keyword", str, None),  # what filter[id] would become
        Parameter("user id", "keyword", str),
        Parameter("limit", "keyword", int, 10),
        Parameter("x" * 70, "keyword", int, 0),
    )
    toolbox = Toolbox(store="memory://", seed=0)
    toolbox.register(backend, "list_apps", tool_id="apps")
    (tool,) = claude.tools(toolbox)
    sent = list(tool["input_schema"]["properties"])
    # the Messages API refuses a request whose tool has a property key outside this pattern
    assert all(re.fullmatch(r"[a-zA-Z0-9_.-]{1,64}", name) for name in sent) and len(set(sent)) == 5, sent
    assert sent[1:4] == ["filter_id_", "user_id", "limit"] and sent[0].startswith("filter_id__")
    assert tool["input_schema"]["required"] == [sent[0], "user_id"]
    assert toolbox.schema("list_apps").parameters["required"] == ["filter[id]", "user id"]  # the toolbox's own
    values = [5, "a", "ann", 3, 7]
    message = {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "list_apps", "input": dict(zip(sent, values))}]}
    (block,) = claude.dispatch(toolbox, message)["content"]
    assert json.loads(block["content"]) == dict(zip(["filter[id]", "filter_id_", "user id", "limit", "x" * 70], values))


def test_calls_that_are_not_a_list_of_tool_calls_are_named_before_any_runs() -> None:
    toolbox = make_toolbox()
    good = ToolCall("1", "get_weather", {"city": "Oslo"})
    wrong = [
        (good, "calls: expected a list of ToolCall, got ToolCall"),
        ((c for c in [good]), "calls: expected a list of ToolCall, got <generator"),
        ([good, {"call_id": "2", "name": "get_weather"}], r"calls\[1\]: expected a ToolCall, got \{'call_id': '2'"),
    ]
    for calls, message in wrong:
        with pytest.raises(TypeError, match=message):
            dispatch_calls(toolbox, calls)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=message):
            asyncio.run(adispatch_calls(toolbox, calls))  # type: ignore[arg-type]
    assert rows(toolbox) == []


def test_the_callers_mistakes_raise_and_route_options_pass_through() -> None:
    toolbox = make_toolbox()
    with pytest.raises(TypeError, match="context: expected request text"):
        toolbox.call_one_sync("get_weather", {"city": "Oslo"}, context=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="deadline_s"):
        toolbox.call_one_sync("get_weather", {"city": "Oslo"}, deadline_s=-1)
    # as for a tool the model named wrong: they were taken unseen when it named no known tool
    with pytest.raises(TypeError, match="context: expected request text"):
        dispatch_calls(toolbox, [ToolCall("1", "get_wether", {})], context=3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="deadline_s"):
        toolbox.call_one_sync("", {}, deadline_s=-1)
    assert toolbox.call_one_sync("", {}, deadline_s=1).status == "unknown_tool"  # the model's mistake
    assert rows(toolbox) == []
    result = toolbox.call_one_sync("get_weather", {"city": "Oslo"}, task_type="travel")
    assert not result.is_error
    assert [r.task_type for r in toolbox.middleware.learner.store.attempts()] == ["travel"]
    with pytest.raises(TypeError, match="middleware_options: give a middleware or options"):
        Toolbox(ToolMiddleware(seed=0), seed=1)


def test_the_callers_mistakes_raise_from_a_response_without_calls_too() -> None:
    # an answer without tool calls (most turns' last) returned [] unchecked: a wrong option went
    # unseen until a turn with calls, and the sync and async dispatchers disagreed on a trace_id
    toolbox = make_toolbox()
    answer = {"role": "assistant", "content": "Sunny in Oslo."}
    mistakes = [
        ({"deadline_s": -1}, ValueError, "deadline_s"),
        ({"trace_id": 5}, ValueError, "trace_id"),
        ({"context": 3}, TypeError, "context: expected request text"),
        ({"serialize": "json"}, TypeError, "serialize: expected a function"),
    ]
    for options, error, named in mistakes:
        with pytest.raises(error, match=named):
            dispatch_calls(toolbox, [], **options)
        with pytest.raises(error, match=named):
            asyncio.run(adispatch_calls(toolbox, [], **options))
        with pytest.raises(error, match=named):
            oai.dispatch_chat(toolbox, answer, **options)
    assert dispatch_calls(toolbox, [], deadline_s=1, trace_id="t") == oai.dispatch_chat(toolbox, answer, task_type="travel") == []
    assert rows(toolbox) == []


def test_the_store_holds_exactly_the_attempts_of_a_mixed_dispatch() -> None:
    toolbox = make_toolbox()

    def flaky(city: str, unit: str = "C") -> dict:
        raise RuntimeError("flaky backend")

    toolbox.register(flaky, "get_weather", reliability=1.0, expected_latency_s=0.0)
    calls = [
        ToolCall("1", "get_weather", '{"city": "Oslo"}'),
        ToolCall("2", "place_order", {"order": ORDER}),
        ToolCall("3", "get_weather", "not json"),
        ToolCall("4", "get_weather", {"city": "Rome"}),
    ]
    results = dispatch_calls(toolbox, calls)
    assert [r.call_id for r in results] == ["1", "2", "3", "4"]
    assert [r.status for r in results] == ["ok", "ok", "invalid_arguments", "ok"]
    assert sorted(rows(toolbox), key=repr) == sorted(attempts_of(results), key=repr)
    assert len(rows(toolbox)) == sum(len(r.attempts) for r in results) >= 3


def test_parallel_calls_see_the_callers_context_variables_as_a_single_call_does() -> None:
    user: contextvars.ContextVar[str] = contextvars.ContextVar("user", default="nobody")
    toolbox = Toolbox(store="memory://", seed=0)

    @toolbox.tool("whoami")
    def whoami(times: int) -> str:
        user.set("changed")  # stays in this call's copy
        return user.get() if times == 0 else f"{user.get()} x{times}"

    @toolbox.tool("whoami_async")
    async def whoami_async(times: int) -> str:
        return f"{user.get()} x{times}"

    def run() -> list[str]:
        user.set("ann")
        calls = [ToolCall("1", "whoami_async", {"times": 1}), ToolCall("2", "whoami_async", {"times": 2})]
        return [r.content for r in dispatch_calls(toolbox, calls)] + [user.get()]

    # the tools saw 'nobody' when the model made several calls, 'ann' when it made one
    assert contextvars.copy_context().run(run) == ["ann x1", "ann x2", "ann"]
    user.set("bob")
    calls = [ToolCall("1", "whoami", {"times": 0}), ToolCall("2", "whoami_async", {"times": 2})]
    assert [r.content for r in dispatch_calls(toolbox, calls)] == ["changed", "bob x2"] and user.get() == "bob"


def test_sync_dispatch_runs_async_tools_even_inside_a_running_loop() -> None:
    toolbox = Toolbox(seed=0)

    @toolbox.tool("echo")
    async def echo(text: str) -> str:
        return text

    async def inside_a_loop() -> Any:
        return oai.dispatch_chat(toolbox, chat_completion([("c", "echo", '{"text": "hi"}')]))

    assert asyncio.run(inside_a_loop()) == [{"role": "tool", "tool_call_id": "c", "content": "hi"}]


def test_a_conversation_turn_is_a_trace_the_router_plans_from() -> None:
    toolbox = make_toolbox()
    for turn in range(2):
        trace = {"trace_id": f"turn-{turn}", "task_type": "shopping"}
        dispatch_calls(toolbox, [  # two calls of one response: side by side
            ToolCall("a", "get_weather", {"city": "Oslo"}),
            ToolCall("b", "place_order", {"order": {"item": "umbrella", "quantity": 1, "ship_to": {"city": "Oslo"}}}),
        ], context="buy an umbrella if it rains in Oslo", **trace)
        dispatch_calls(toolbox, [ToolCall("c", "get_weather", {"city": "Bergen"})], **trace)  # repeats a step
    for t in range(2):  # whichever call of the response finished first, neither consumes the other
        steps = toolbox.middleware.learner.trace_steps(f"turn-{t}")
        assert sorted((s.step, s.depends_on) for s in steps) == [("get_weather", ()), ("place_order", ())]
    from toolrouter import TaskProfile

    plan = toolbox.middleware.learner.optimize_task_execution(TaskProfile(task_id="t", task_type="shopping"))
    assert sorted(plan.topological_order()) == ["get_weather", "place_order"] and not plan.graph.edges
    assert plan.structure.source == "learned" and plan.structure.traces == 2  # one structure, either order


def test_the_turns_of_a_chat_name_its_conversation() -> None:
    toolbox = make_toolbox()
    for turn in range(2):  # each turn a trace of the chat's conversation: the router learns what chats run again
        dispatch_calls(toolbox, [ToolCall("a", "get_weather", {"city": "Oslo"})], trace_id=f"turn-{turn}",
                       task_type="shopping", conversation_id="chat-1")
    assert [r.conversation_id for r in toolbox.middleware.learner.store.attempts()] == ["chat-1"] * 2
    assert toolbox.middleware.learner.structures.state()[0]["conversations"] == [["chat-1", [["get_weather", 2]]]]


@pytest.mark.parametrize("form", ["sync", "async"])
def test_calls_of_different_tools_given_one_step_are_refused_before_any_runs(form: str) -> None:
    toolbox = make_toolbox()
    ran = []

    @toolbox.tool("echo")
    def echo(text: str) -> str:
        ran.append(text)
        return text

    def dispatch(calls: list[ToolCall], **options: Any) -> list:
        if form == "sync":
            return dispatch_calls(toolbox, calls, trace_id="turn", **options)
        return asyncio.run(adispatch_calls(toolbox, calls, trace_id="turn", **options))

    mixed = [ToolCall("a", "echo", {"text": "first"}), ToolCall("b", "get_weather", {"city": "Oslo"})]
    with pytest.raises(ValueError, match=r"^step: the calls 'a' \('echo'\), 'b' \('get_weather'\) would serve step 'look' "):
        dispatch(mixed, step="look")
    assert ran == [] and rows(toolbox) == [] and toolbox.middleware.learner.trace_steps("turn") == ()
    twice = [ToolCall("a", "echo", {"text": "one"}), ToolCall("b", "echo", {"text": "two"}), ToolCall("c", "nope", {})]
    results = dispatch(twice, step="look")  # one tool, twice (and the model's unknown tool, a result)
    assert sorted(ran) == ["one", "two"] and [r.status for r in results] == ["ok", "ok", "unknown_tool"]
    with pytest.raises(ValueError, match=r"'look' with 'echo', 'get_weather' \(it served 'echo' earlier in the trace\)"):
        dispatch([ToolCall("d", "get_weather", {"city": "Oslo"})], step="look")
    assert len(rows(toolbox)) == 2 and [(s.step, s.capability) for s in toolbox.middleware.learner.trace_steps("turn")] == [("look", "echo")]


def test_field_of_reads_any_mapping_by_key_and_other_objects_by_attribute() -> None:
    from collections.abc import Mapping

    from integrations.dispatch import field_of

    class Frozen(Mapping):  # a mapping that is no dict, with an attribute of a key's name
        content = "the attribute"

        def __init__(self, **items: Any) -> None:
            self._items = items

        def __getitem__(self, key: str) -> Any:
            return self._items[key]

        def __iter__(self) -> Any:
            return iter(self._items)

        def __len__(self) -> int:
            return len(self._items)

    class Sdk:
        content = "from the attribute"

    for _ in range(2):  # the second read of each type is answered from what the first learnt
        assert field_of(Frozen(content="by key"), "content") == "by key"
        assert field_of(Frozen(), "content", "absent") == "absent"
        assert field_of(type("Sub", (dict,), {})(content="sub"), "content") == "sub"
        assert field_of(Sdk(), "content") == "from the attribute"
        assert field_of(Sdk(), "role", "none") == "none"


def test_a_toolbox_closes_the_middleware_it_built_and_leaves_one_given_to_it_open(tmp_path) -> None:
    with Toolbox(store=f"sqlite:///{tmp_path / 'own.db'}", seed=0) as toolbox:
        toolbox.register(lambda q: q, "echo")
        assert toolbox.middleware.call("echo", "inside") == "inside"
    with pytest.raises(ValueError, match="own.db'?: closed"):
        toolbox.middleware.call("echo", "after")
    middleware = ToolMiddleware(store=f"sqlite:///{tmp_path / 'given.db'}", seed=0)
    with Toolbox(middleware) as toolbox:
        toolbox.register(lambda q: q, "echo")
    assert middleware.call("echo", "after") == "after"  # its owner's to close
    middleware.close()


class _Stop(BaseException):
    """What a tool may raise that is not an ``Exception`` (a framework's abort, say)."""


@pytest.mark.parametrize("form", ["sync", "async"])
def test_a_call_that_raises_propagates_after_every_other_call_has_ended_and_is_recorded(form: str, monkeypatch) -> None:
    # async: gather raised at once and left the slow call running unawaited, its outcome
    # recorded (or lost) after the caller had moved on; sync: a call waiting for a thread (more
    # calls than MAX_PARALLEL_CALLS) was cancelled, never run
    monkeypatch.setattr(dispatch_module, "MAX_PARALLEL_CALLS", 1)
    toolbox = Toolbox(store="memory://", seed=0)
    finished: list[str] = []

    def slow() -> str:
        time.sleep(0.05)
        finished.append("slow")
        return "done"

    async def aslow() -> str:
        await asyncio.sleep(0.05)
        finished.append("slow")
        return "done"

    def stop() -> str:
        raise _Stop("abort")

    toolbox.register(slow if form == "sync" else aslow, "slow", tool_id="slow")
    toolbox.register(stop, "stop", tool_id="stop")
    calls = [ToolCall("1", "stop", {}), ToolCall("2", "slow", {})]

    async def dispatch() -> list[str]:
        with pytest.raises(_Stop):
            await adispatch_calls(toolbox, calls)
        return list(finished)  # as the caller saw it, before asyncio.run cancels what is left

    if form == "sync":
        with pytest.raises(_Stop):
            dispatch_calls(toolbox, calls)
    assert (finished if form == "sync" else asyncio.run(dispatch())) == ["slow"]
    assert ("slow", True, None) in rows(toolbox)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_an_anthropic_call_cut_short_at_max_tokens_runs_nothing_and_is_answered(asynchronous: bool) -> None:
    # the last tool_use of a message that stopped at max_tokens may lack arguments (or end inside
    # one): it ran with what it had, here an email sent without its body, the default taken
    sent: list[tuple[str, str]] = []
    toolbox = Toolbox(store="memory://", seed=0)

    @toolbox.tool("send_email")
    def send_email(to: str, body: str = "") -> str:
        sent.append((to, body))
        return "sent"

    whole = {"type": "tool_use", "id": "t1", "name": "send_email", "input": {"to": "a@example.com", "body": "hi"}}
    cut = {"type": "tool_use", "id": "t2", "name": "send_email", "input": {"to": "b@example.com"}}
    message = Message.model_validate({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude", "stop_reason": "max_tokens",
        "usage": {"input_tokens": 1, "output_tokens": 1}, "content": [whole, cut],
    })  # fmt: skip
    answer = asyncio.run(claude.adispatch(toolbox, message)) if asynchronous else claude.dispatch(toolbox, message)
    ok, refused = answer["content"]
    assert (ok["tool_use_id"], ok["content"], ok["is_error"]) == ("t1", "sent", False)
    assert (refused["tool_use_id"], refused["is_error"]) == ("t2", True)
    assert "cut short where the response reached max_tokens" in refused["content"]
    assert sent == [("a@example.com", "hi")] and len(rows(toolbox)) == 1
    # a block after it (text cut short instead), or another stop reason: every call runs
    for changed in ({"content": [whole, cut, {"type": "text", "text": "and"}]}, {"stop_reason": "tool_use"}):
        answer = claude.dispatch(toolbox, message.model_copy(update=changed))
        assert [block["is_error"] for block in answer["content"]] == [False, False]
