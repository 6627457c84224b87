"""A model reads at most ``Toolbox(max_result_chars=...)`` characters of a tool's value: a tool
returning a huge text or structure was serialised whole into the tool message, past the model's
context and the provider's request limit. The value is cut, with a note, the outcome recorded."""

from __future__ import annotations

import re
from typing import Any

import pytest

from integrations import Toolbox
from integrations import openai as oai
from integrations.toolbox import DEFAULT_MAX_RESULT_CHARS


def make_toolbox(**options: Any) -> Toolbox:
    toolbox = Toolbox(store="memory://", seed=0, **options)

    @toolbox.tool("text")
    def text(n: int) -> str:
        return "\u00e9" * n

    @toolbox.tool("rows")
    def rows(n: int) -> dict[str, Any]:
        return {"rows": list(range(n))}

    return toolbox


def test_a_long_value_is_cut_with_a_note_and_its_outcome_recorded() -> None:
    toolbox = make_toolbox(max_result_chars=20)
    message = {"role": "assistant", "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "text", "arguments": '{"n": 1000}'}},
        {"id": "b", "type": "function", "function": {"name": "rows", "arguments": '{"n": 100}'}},
        {"id": "c", "type": "function", "function": {"name": "text", "arguments": '{"n": 20}'}},
    ]}  # fmt: skip
    a, b, c = oai.dispatch_chat(toolbox, message)
    assert a["content"] == "\u00e9" * 20 + "\n[truncated: the result has 1,000 characters; the first 20 are shown]"
    assert b["content"] == '{"rows":[0,1,2,3,4,5\n[truncated: the result has 300 characters; the first 20 are shown]'
    assert c["content"] == "\u00e9" * 20  # at the limit: whole
    stats = toolbox.middleware.learner.tool_statistics()
    assert (stats["text"].calls, stats["rows"].calls) == (2, 1)
    result = toolbox.call_one_sync("text", {"n": 30})
    assert (result.status, result.value) == ("ok", "\u00e9" * 30)  # the value itself is whole


def test_an_error_the_model_reads_is_cut_too() -> None:
    # every backend's message, or a problem per item of a huge argument, can be as long as a value
    toolbox = make_toolbox(max_result_chars=40)

    @toolbox.tool("broken")
    def broken(n: int) -> str:
        raise RuntimeError("x" * n)

    failed = toolbox.call_one_sync("broken", {"n": 1000})
    assert failed.status == "tools_failed" and len(failed.attempts) == 1
    assert re.fullmatch(
        r"tool 'broken' failed: every backend fail\n\[truncated: the result has 1,\d{3} characters; the first 40 are shown\]",
        failed.content,
    )
    invalid = toolbox.call_one_sync("text", {"n": "many"})
    assert invalid.status == "invalid_arguments" and invalid.content.startswith("invalid arguments for tool 'text': n: ")
    assert invalid.content.endswith("the first 40 are shown]") and len(invalid.content) < 120


def test_the_limit_has_a_default_and_none_lifts_it() -> None:
    assert make_toolbox().max_result_chars == DEFAULT_MAX_RESULT_CHARS
    n = DEFAULT_MAX_RESULT_CHARS + 1
    assert make_toolbox().call_one_sync("text", {"n": n}).content.endswith(f"the first {DEFAULT_MAX_RESULT_CHARS:,} are shown]")
    assert make_toolbox(max_result_chars=None).call_one_sync("text", {"n": n}).content == "\u00e9" * n


@pytest.mark.parametrize("value", [0, -1, True, 2.5, "100"])
def test_a_limit_that_is_no_positive_integer_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=rf"max_result_chars: expected an integer >= 1, got {value!r}"):
        Toolbox(store="memory://", seed=0, max_result_chars=value)
