"""A model reads at most ``Toolbox(max_result_chars=...)`` characters of a tool's value: a tool
returning a huge text or structure was serialised whole into the tool message, past the model's
context and the provider's request limit. The value is cut, a note among the characters kept,
the outcome recorded."""

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


NOTE = "\n[truncated: the result has {:,} characters; the first {:,} are shown]"


def test_a_long_value_is_cut_with_a_note_and_its_outcome_recorded() -> None:
    toolbox = make_toolbox(max_result_chars=100)
    message = {"role": "assistant", "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "text", "arguments": '{"n": 1000}'}},
        {"id": "b", "type": "function", "function": {"name": "rows", "arguments": '{"n": 100}'}},
        {"id": "c", "type": "function", "function": {"name": "text", "arguments": '{"n": 100}'}},
    ]}  # fmt: skip
    a, b, c = oai.dispatch_chat(toolbox, message)
    assert a["content"] == "\u00e9" * 30 + NOTE.format(1000, 30)
    assert b["content"] == '{"rows":[0,1,2,3,4,5,6,7,8,9,10,' + NOTE.format(300, 32)
    assert c["content"] == "\u00e9" * 100  # at the limit: whole
    stats = toolbox.middleware.learner.tool_statistics()
    assert (stats["text"].calls, stats["rows"].calls) == (2, 1)
    result = toolbox.call_one_sync("text", {"n": 300})
    assert (result.status, result.value) == ("ok", "\u00e9" * 300)  # the value itself is whole


@pytest.mark.parametrize("limit", [1, 20, 68, 69, 70, 100, 1000, 12345])
def test_the_note_counts_against_the_limit(limit: int) -> None:
    # the model reads at most the limit, note included: a limit sized to a provider's or a client's
    # cap on a tool's output was overrun by the note's 70-odd characters
    for n in (limit + 1, 10 * limit, 123_456):
        content = make_toolbox(max_result_chars=limit).call_one_sync("text", {"n": n}).content
        assert len(content) <= limit and content.startswith("\u00e9")
        kept = len(content) - len(content.lstrip("\u00e9"))
        assert content[kept:] in ("", NOTE.format(n, kept))  # a limit with no room for the note cuts the text alone
    assert make_toolbox(max_result_chars=1000).call_one_sync("text", {"n": 2000}).content.endswith(NOTE.format(2000, 928))


def test_an_error_the_model_reads_is_cut_too() -> None:
    # every backend's message, or a problem per item of a huge argument, can be as long as a value
    toolbox = make_toolbox(max_result_chars=120)

    @toolbox.tool("broken")
    def broken(n: int) -> str:
        raise RuntimeError("x" * n)

    failed = toolbox.call_one_sync("broken", {"n": 1000})
    assert failed.status == "tools_failed" and len(failed.attempts) == 1
    assert re.fullmatch(
        r"tool 'broken' failed: every backend failed \(1 atte\n\[truncated: the result has 1,\d{3} characters; the first 50 are shown\]",
        failed.content,
    )
    invalid = toolbox.call_one_sync("text", {"n": "x" * 1000})
    assert invalid.status == "invalid_arguments" and invalid.content.startswith("invalid arguments for tool 'text': n: ")
    assert invalid.content.endswith(" are shown]") and len(invalid.content) <= 120


def test_the_limit_has_a_default_and_none_lifts_it() -> None:
    assert make_toolbox().max_result_chars == DEFAULT_MAX_RESULT_CHARS
    n = DEFAULT_MAX_RESULT_CHARS + 1
    content = make_toolbox().call_one_sync("text", {"n": n}).content
    assert len(content) <= DEFAULT_MAX_RESULT_CHARS and content.endswith(NOTE.format(n, 99_924))
    assert make_toolbox(max_result_chars=None).call_one_sync("text", {"n": n}).content == "\u00e9" * n


@pytest.mark.parametrize("value", [0, -1, True, 2.5, "100"])
def test_a_limit_that_is_no_positive_integer_is_refused(value: Any) -> None:
    with pytest.raises(ValueError, match=rf"max_result_chars: expected an integer >= 1, got {value!r}"):
        Toolbox(store="memory://", seed=0, max_result_chars=value)
