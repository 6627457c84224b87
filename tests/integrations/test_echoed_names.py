"""What a model sent is echoed back to it bounded, and an argument too long to read is named as
such: an integer of more digits than Python reads was answered "not valid JSON ... use
sys.set_int_max_str_digits()", advice for a programmer that the model cannot follow, and a
made-up argument or tool name came back whole, however long."""

from __future__ import annotations

import sys

from integrations import Toolbox
from integrations import openai as oai


def make_toolbox() -> Toolbox:
    toolbox = Toolbox(store="memory://", seed=0, max_result_chars=None)

    @toolbox.tool("count")
    def count(n: int, tags: dict[str, int] | None = None) -> str:
        return str(n)

    return toolbox


def test_an_integer_too_long_to_read_is_named_as_such() -> None:
    digits = sys.get_int_max_str_digits()
    message = {"role": "assistant", "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "count", "arguments": '{"n": 1' + "0" * digits + "}"}},
        {"id": "b", "type": "function", "function": {"name": "count", "arguments": '{"n": 12'}},
    ]}  # fmt: skip
    too_long, broken = oai.dispatch_chat(make_toolbox(), message)
    assert too_long["content"] == (
        f"invalid arguments for tool 'count': the arguments hold an integer of more than {digits:,} digits; "
        "send a shorter number"
    )
    assert broken["content"].startswith("invalid arguments for tool 'count': the arguments are not valid JSON (")


def test_a_long_made_up_name_is_echoed_cut_short() -> None:
    toolbox = make_toolbox()
    name = "x" * 100_000
    extra = toolbox.call_one_sync("count", {"n": 1, name: 2})
    assert extra.status == "invalid_arguments" and len(extra.content) < 200
    assert f"{'x' * 61}...: not an argument of this tool (its arguments: n, tags)" in extra.content
    nested = toolbox.call_one_sync("count", {"n": 1, "tags": {name: "two"}})
    assert nested.status == "invalid_arguments" and len(nested.content) < 300
    assert f"tags.{'x' * 61}...: Input should be a valid integer" in nested.content
    unknown = toolbox.call_one_sync(name, {"n": 1})
    assert unknown.status == "unknown_tool" and len(unknown.content) < 200
    assert unknown.content.startswith("unknown tool 'xxx") and unknown.content.endswith("; the tools are 'count'")
