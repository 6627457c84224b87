"""Every tool result a model reads is strict JSON: a float NaN or infinity (which JSON has no word
for) is written as ``null``, as JavaScript's ``JSON.stringify`` and pydantic's models write it. It
reached the model as ``{"a":NaN}``, text a strict JSON parser refuses whole."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
from pydantic import BaseModel, ConfigDict

from integrations import Toolbox, to_content
from integrations import anthropic as claude
from integrations import openai as oai
from integrations.mcp.backends import _as_result


def _strict(text: str):
    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


class Constants(BaseModel):
    model_config = ConfigDict(ser_json_inf_nan="constants")  # a model's own choice of NaN's text
    x: float


@dataclasses.dataclass
class Point:
    y: float


def test_nan_and_infinities_are_null_in_every_kind_of_value() -> None:
    assert [_strict(to_content(v)) for v in (math.nan, np.float64("inf"), (math.inf, -math.inf, 1.5))] == [
        None, None, [None, None, 1.5],
    ]
    assert to_content("NaN") == "NaN"  # a text is the tool's, as it is
    assert to_content({"a": math.nan, "note": "NaN or Infinity", "b": [2, -math.inf]}) == (
        '{"a":null,"note":"NaN or Infinity","b":[2,null]}'
    )
    assert _strict(to_content([Constants(x=math.nan), Point(math.inf)])) == [{"x": None}, {"y": None}]
    # a lone surrogate takes the other writer: its NaN too is null
    assert to_content({"caf\udce9": math.nan}) == '{"caf\ufffd":null}'


def test_provider_messages_and_gateway_results_carry_strict_json() -> None:
    toolbox = Toolbox(store="memory://", seed=0)

    @toolbox.tool("stats")
    def stats() -> dict:
        """Summary statistics of an empty series."""
        return {"mean": math.nan, "max": -math.inf}

    message = {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "stats", "arguments": "{}"}}]}
    blocks = claude.dispatch(toolbox, {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "stats", "input": {}}]})
    texts = [m["content"] for m in oai.dispatch_chat(toolbox, message)] + [b["content"] for b in blocks["content"]]
    texts.append(_as_result({"mean": math.nan}).content[0].text)
    assert [_strict(t) for t in texts] == [{"mean": None, "max": None}] * 2 + [{"mean": None}]
    assert math.isnan(toolbox.call_one_sync("stats", {}).value["mean"])  # the value itself is kept as it was


def test_a_gateway_result_of_the_middlewares_own_tool_holds_what_its_text_says() -> None:
    # its structured content was the dict itself: a numpy count in it failed the result's own
    # serialisation (PydanticSerializationError), so the gateway could not send the answer
    result = _as_result({"count": np.int64(3), "mean": math.nan})
    assert result.structured_content == {"count": 3, "mean": None} == json.loads(result.content[0].text)
    sent = json.loads(result.model_dump_json(by_alias=True, exclude_none=True))
    assert sent["structuredContent"] == {"count": 3, "mean": None}
    circular: dict = {}
    circular["self"] = circular
    assert _as_result(circular).structured_content is None  # its text is its str(): no structure
