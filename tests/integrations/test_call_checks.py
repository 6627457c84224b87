"""A caller's mistake in the options of a model's tool calls is refused before any tool runs."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest

from integrations import Toolbox, ToolCall, adispatch_calls, dispatch_calls


def make_toolbox(ran: list[str]) -> Toolbox:
    toolbox = Toolbox(seed=0)

    @toolbox.tool("get_weather")
    def weather(city: str) -> str:
        """The weather in a city."""
        ran.append(city)
        return f"{city}: sun"

    return toolbox


def test_a_serialize_that_is_not_a_function_is_refused_before_any_tool_runs() -> None:
    ran: list[str] = []
    toolbox = make_toolbox(ran)
    calls = [ToolCall("c1", "get_weather", {"city": "Oslo"}), ToolCall("c2", "get_weather", {"city": "Rome"})]
    with pytest.raises(TypeError, match="serialize: expected a function of a value returning str, or None, got 'json'"):
        toolbox.call_one_sync("get_weather", {"city": "Oslo"}, serialize="json")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="serialize: expected a function"):
        dispatch_calls(toolbox, calls, serialize=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="serialize: expected a function"):  # whatever the tool's name
        toolbox.call_one_sync("get_forecast", {}, serialize=5)  # type: ignore[arg-type]
    assert ran == [] and toolbox.middleware.learner.tool_statistics()["weather"].calls == 0
    assert toolbox.call_one_sync("get_weather", {"city": "Oslo"}, serialize=str.upper).content == "OSLO: SUN"


def test_an_async_serialize_is_refused_before_any_tool_runs() -> None:
    # it was called, not awaited: every tool ran, its outcome recorded, and the model read that its
    # value could not be turned into text (serialize returned a coroutine, never awaited)
    ran: list[str] = []
    toolbox = make_toolbox(ran)

    async def serialize(value: Any) -> str:
        return str(value)

    calls = [ToolCall("c1", "get_weather", {"city": "Oslo"})]
    with pytest.raises(TypeError, match="serialize: expected a function of a value returning str, got the async function"):
        asyncio.run(adispatch_calls(toolbox, calls, serialize=serialize))
    with pytest.raises(TypeError, match="it is called, not awaited"):
        toolbox.call_one_sync("get_weather", {"city": "Oslo"}, serialize=functools.partial(serialize))
    assert ran == [] and toolbox.middleware.learner.tool_statistics()["weather"].calls == 0


def test_nan_and_infinities_in_the_arguments_are_the_models_mistake_and_reach_no_tool() -> None:
    toolbox = Toolbox(seed=0)
    got: list[float] = []

    @toolbox.tool("scale")
    def scale(factor: float, options: dict | None = None) -> float:
        """Scale by a factor."""
        got.append(factor)
        return factor

    for arguments, problem in [
        ('{"factor": NaN}', "factor: NaN is not a JSON number"),  # Python's parser reads these tokens
        ('{"factor": -Infinity}', "factor: -Infinity is not a JSON number"),
        ('{"factor": 1e999}', "factor: Infinity is not a JSON number"),
        ({"factor": float("inf")}, "factor: Infinity is not a JSON number"),  # parsed by a provider's SDK
        ({"factor": 1.0, "options": {"weights": [1.0, float("nan")]}}, "options.weights.1: NaN is not a JSON number"),
    ]:
        result = toolbox.call_one_sync("scale", arguments)
        assert result.status == "invalid_arguments" and problem in result.content, result.content
    assert got == [] and toolbox.middleware.learner.tool_statistics()["scale"].calls == 0
    assert toolbox.call_one_sync("scale", '{"factor": 2.5}').content == "2.5"


def test_an_invalid_arguments_message_lists_the_first_problems_and_counts_the_rest() -> None:
    toolbox = Toolbox(seed=0)

    @toolbox.tool("total")
    def total(values: list[int]) -> int:
        """Add numbers."""
        return sum(values)

    result = toolbox.call_one_sync("total", {"values": ["x"] * 5000})  # one problem per item
    assert result.status == "invalid_arguments" and len(result.content) < 2000, len(result.content)
    assert "values.9: Input should be a valid integer" in result.content and "values.10:" not in result.content
    assert result.content.endswith("; and 4990 more problems")
    extra = toolbox.call_one_sync("total", {"values": [1], **{f"k{i}": 1 for i in range(3000)}}).content
    assert len(extra) < 2000 and extra.endswith("; and 2990 more problems")
    nan = toolbox.call_one_sync("total", {"values": [float("nan")] * 50}).content
    assert nan.endswith("values.9: NaN is not a JSON number; send a finite number; and 40 more problems")


def test_arguments_nested_as_deep_as_json_text_allows_are_checked_without_a_recursion_error() -> None:
    toolbox = Toolbox(seed=0)

    @toolbox.tool("keep")
    def keep(data: Any) -> str:
        """Keep a document."""
        return "kept"

    @toolbox.tool("count")
    def count(data: dict[str, int]) -> int:
        """Count."""
        return len(data)

    deep = '{"a": ' * 700 + "1" + "}" * 700  # read by json.loads; the check of the numbers broke near 500
    assert toolbox.call_one_sync("keep", f'{{"data": {deep}}}').content == "kept"
    nested: Any = 1
    for _ in range(3000):
        nested = {"a": nested}
    result = toolbox.call_one_sync("count", {"data": {"a": nested}})  # the problem shows the value's start
    assert result.status == "invalid_arguments" and "data.a: Input should be a valid integer (got {'a': {'a':" in result.content


def test_a_tool_call_needs_a_text_id_and_name() -> None:
    for call_id, name, field in [(1, "get_weather", "call_id"), (None, "get_weather", "call_id"), ("c1", None, "name")]:
        with pytest.raises(TypeError, match=f"{field}: expected a string, got"):
            ToolCall(call_id, name, {"city": "Oslo"})  # type: ignore[arg-type]
    ran: list[str] = []
    (result,) = dispatch_calls(make_toolbox(ran), [ToolCall("c1", "get_weather", {"city": "Oslo"})])
    assert (result.call_id, result.content, ran) == ("c1", "Oslo: sun", ["Oslo"])


def test_a_provider_call_without_a_text_id_or_name_is_named_by_its_path() -> None:
    # it was "tool call 1: field 'call_id'" for a response's first call, the item after a
    # reasoning one, and an Anthropic block was quoted whole, its input and all
    from integrations import anthropic as claude
    from integrations import openai as oai

    function = {"name": "get_weather", "arguments": "{}"}
    for read, answer, problem in [
        (oai.chat_tool_calls, [{"type": "function", "function": function}], "message.tool_calls[0].id: expected a string, got None"),
        (oai.chat_tool_calls, [{"id": "c1", "type": "function", "function": {**function, "name": 5}}], "message.tool_calls[0].function.name: expected a string, got 5"),
        (oai.responses_tool_calls, [{"type": "reasoning", "id": "r1", "summary": []}, {"type": "function_call", **function, "call_id": 7}], "response.output[1].call_id: expected a string, got 7"),
        (claude.tool_calls, [{"type": "tool_use", "name": "get_weather", "input": {"city": "x" * 10_000}}], "message.content[0].id: a tool_use block needs a string, got None"),
    ]:  # fmt: skip
        with pytest.raises(ValueError) as caught:
            read(answer)
        assert str(caught.value) == problem


def test_a_capability_named_twice_for_the_model_is_refused_in_every_format() -> None:
    from integrations import anthropic as claude
    from integrations import openai as oai
    from integrations.langchain import as_langchain_tools

    toolbox = make_toolbox([])
    twice = ["get_weather", "get_weather"]
    for export in (Toolbox.schemas, oai.chat_tools, oai.responses_tools, claude.tools, as_langchain_tools):
        with pytest.raises(ValueError, match=r"names: \['get_weather'\] given more than once"):
            export(toolbox, twice)
    with pytest.raises(TypeError, match="names: expected a list of capability names, got 5"):
        toolbox.schemas(5)  # type: ignore[arg-type]
    assert [t["name"] for t in claude.tools(toolbox, ["get_weather"])] == ["get_weather"]


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_capability_left_without_backends_is_an_error_result_and_spoils_no_other_call(asynchronous: bool) -> None:
    import asyncio

    from integrations import adispatch_calls

    ran: list[str] = []
    toolbox = make_toolbox(ran)

    @toolbox.tool("get_time")
    def clock(city: str) -> str:
        """The time in a city."""
        return "12:00"

    toolbox.middleware.unregister("clock")  # gone from the router (another thread's unregister, say)
    calls = [ToolCall("c1", "get_time", {"city": "Oslo"}), ToolCall("c2", "get_weather", {"city": "Oslo"})]
    results = asyncio.run(adispatch_calls(toolbox, calls)) if asynchronous else dispatch_calls(toolbox, calls)
    assert [(r.call_id, r.status, r.content) for r in results] == [
        ("c1", "tools_failed", "tool 'get_time' failed: no backend serves it now"),
        ("c2", "ok", "Oslo: sun"),
    ]
    assert ran == ["Oslo"]
