"""A Responses API ``custom_tool_call`` is run as Chat Completions' custom-tool calls are (its
``input`` as the arguments) and answered with a ``custom_tool_call_output``: skipped, it went
unanswered, and the API refuses the next request while a call has no output."""

import asyncio

from openai.types.responses import Response

from integrations import Toolbox
from integrations import openai as oai


def test_custom_tool_calls_are_run_and_answered_in_their_own_type() -> None:
    toolbox = Toolbox(store="memory://", seed=0)

    @toolbox.tool("get_weather")
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return f"clear in {city}"

    response = Response.model_validate({
        "id": "resp_1", "object": "response", "created_at": 0, "model": "stub", "status": "completed",
        "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
        "output": [
            {"type": "custom_tool_call", "call_id": "c1", "name": "get_weather", "input": '{"city": "Oslo"}'},
            {"type": "function_call", "call_id": "c2", "name": "get_weather", "arguments": '{"city": "Rome"}'},
            {"type": "custom_tool_call", "call_id": "c3", "name": "get_weather", "input": "Paris"},
        ],
    })  # fmt: skip
    assert [c.arguments for c in oai.responses_tool_calls(response)] == ['{"city": "Oslo"}', '{"city": "Rome"}', "Paris"]
    outputs = oai.dispatch_responses(toolbox, response)
    assert [(o["type"], o["call_id"]) for o in outputs] == [
        ("custom_tool_call_output", "c1"),
        ("function_call_output", "c2"),
        ("custom_tool_call_output", "c3"),
    ]
    assert [o["output"] for o in outputs[:2]] == ["clear in Oslo", "clear in Rome"]
    assert "not valid JSON" in outputs[2]["output"]  # the model's mistake, answered
    assert asyncio.run(oai.adispatch_responses(toolbox, response.output)) == outputs
    assert oai.dispatch_responses(toolbox, {"output": []}) == []
