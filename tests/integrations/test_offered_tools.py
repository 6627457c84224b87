"""A model given only some capabilities in its request (a shortlist) may still name another: the
dispatchers answer such a call as an unknown tool, as the provider refuses a tool it was not given,
and run nothing."""

import asyncio

import pytest

from integrations import Toolbox, ToolCall, adispatch_calls, dispatch_calls
from integrations import anthropic as claude
from integrations import openai as oai


def make_toolbox(ran: list[str]) -> Toolbox:
    toolbox = Toolbox(store="memory://", seed=0)

    @toolbox.tool("get_weather")
    def get_weather(city: str) -> str:
        """The weather in a city."""
        ran.append("get_weather")
        return f"clear in {city}"

    @toolbox.tool("delete_files")
    def delete_files(path: str) -> str:
        """Delete the files under a folder."""
        ran.append("delete_files")
        return f"deleted {path}"

    return toolbox


def test_chat_refuses_a_tool_not_given() -> None:
    ran: list[str] = []
    toolbox = make_toolbox(ran)
    tools = oai.chat_tools(toolbox, ["get_weather"])
    message = {"role": "assistant", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "delete_files", "arguments": '{"path": "/"}'}},
        {"id": "c2", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
    ]}  # fmt: skip
    answers = oai.dispatch_chat(toolbox, message, tools=tools)
    assert answers[0] == {"role": "tool", "tool_call_id": "c1", "content": "unknown tool 'delete_files'; the tools are 'get_weather'"}
    assert answers[1]["content"] == "clear in Oslo"
    assert ran == ["get_weather"]
    assert toolbox.middleware.learner.store.count() == 1  # the refused call recorded against no backend


def test_responses_and_anthropic_refuse_a_tool_not_given() -> None:
    ran: list[str] = []
    toolbox = make_toolbox(ran)
    response = {"output": [{"type": "function_call", "call_id": "c1", "name": "delete_files", "arguments": '{"path": "/"}'}]}
    (output,) = oai.dispatch_responses(toolbox, response, tools=oai.responses_tools(toolbox, ["get_weather"]))
    assert output["output"].startswith("unknown tool 'delete_files'")
    message = {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "delete_files", "input": {"path": "/"}}]}
    (block,) = claude.dispatch(toolbox, message, tools=claude.tools(toolbox, ["get_weather"]))["content"]
    assert block["is_error"] and block["content"].startswith("unknown tool 'delete_files'")
    assert ran == []


def test_names_and_async_dispatch() -> None:
    ran: list[str] = []
    toolbox = make_toolbox(ran)
    calls = [ToolCall("c1", "delete_files", '{"path": "/"}'), ToolCall("c2", "get_weather", '{"city": "Rome"}')]
    results = asyncio.run(adispatch_calls(toolbox, calls, tools=["get_weather"]))
    assert [r.status for r in results] == ["unknown_tool", "ok"]
    assert dispatch_calls(toolbox, calls[:1], tools=[])[0].content == "unknown tool 'delete_files'; the tools are none"
    assert [r.status for r in dispatch_calls(toolbox, calls)] == ["ok", "ok"]  # without tools: every capability
    assert ran == ["get_weather", "delete_files", "get_weather"]


def test_the_providers_own_tools_name_none() -> None:
    ran: list[str] = []
    toolbox = make_toolbox(ran)
    tools = [*oai.responses_tools(toolbox, ["get_weather"]), {"type": "web_search"}]
    response = {"output": [{"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": '{"city": "Oslo"}'}]}
    assert oai.dispatch_responses(toolbox, response, tools=tools)[0]["output"] == "clear in Oslo"


@pytest.mark.parametrize("tools", ["get_weather", {"name": "get_weather"}, [{"city": "Oslo"}], [3], [None]])
def test_tools_that_are_no_list_of_tools_are_refused(tools: object) -> None:
    ran: list[str] = []
    toolbox = make_toolbox(ran)
    with pytest.raises(TypeError, match=r"^tools(\[0\])?: expected"):
        dispatch_calls(toolbox, [ToolCall("c1", "get_weather", '{"city": "Oslo"}')], tools=tools)
    assert ran == []
