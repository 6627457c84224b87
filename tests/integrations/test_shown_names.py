"""An argument a provider refuses under its own name (``filter[id]``, ``user id``: an MCP tool's) is
shown to the model under another; an error about it must name it as the model knows it, or the
model cannot correct its call."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from integrations import ToolCall, Toolbox, adispatch_calls, dispatch_calls
from integrations import anthropic as claude
from integrations.schema import Parameter


def make_toolbox() -> Toolbox:
    def backend(**arguments: Any) -> dict[str, Any]:
        return arguments

    backend.__tool_parameters__ = (  # type: ignore[attr-defined]
        Parameter("filter[id]", "keyword", int),
        Parameter("user id", "keyword", str),
        Parameter("limit", "keyword", int, 10),
    )
    toolbox = Toolbox(store="memory://", seed=0)
    toolbox.register(backend, "list_apps", tool_id="apps")
    return toolbox


def answer(toolbox: Toolbox, arguments: dict[str, Any]) -> dict[str, Any]:
    message = {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "list_apps", "input": arguments}]}
    (block,) = claude.dispatch(toolbox, message)["content"]
    return block


def test_anthropic_errors_name_the_arguments_as_the_model_was_shown_them() -> None:
    toolbox = make_toolbox()
    (tool,) = claude.tools(toolbox)
    assert list(tool["input_schema"]["properties"]) == ["filter_id_", "user_id", "limit"]
    wrong_type = answer(toolbox, {"filter_id_": "seven", "limit": 2})
    assert wrong_type["is_error"]
    assert wrong_type["content"] == (
        "invalid arguments for tool 'list_apps': filter_id_: Input should be a valid integer "
        '(got "seven"); user_id: required, missing'
    )
    unknown = answer(toolbox, {"filter_id_": 1, "user_id": "ann", "bogus": 1})["content"]
    assert unknown.endswith("bogus: not an argument of this tool (its arguments: filter_id_, user_id, limit)")
    not_a_number = answer(toolbox, {"filter_id_": float("nan"), "user_id": "ann"})["content"]
    assert not_a_number.endswith("filter_id_: NaN is not a JSON number; send a finite number")
    for content in (wrong_type["content"], unknown, not_a_number):
        assert "filter[id]" not in content and "user id" not in content
    # the tool still gets its own names
    assert answer(toolbox, {"filter_id_": 1, "user_id": "ann"})["content"] == '{"filter[id]":1,"user id":"ann"}'


def test_calls_carry_the_names_shown_through_either_dispatcher_and_wrong_ones_are_refused() -> None:
    toolbox = make_toolbox()
    shown = {"filter[id]": "f", "user id": "u"}
    calls = [ToolCall("1", "list_apps", {"f": "x", "u": "ann"}, shown), ToolCall("2", "list_apps", {"f": 3, "u": "bob"}, shown)]
    for results in (dispatch_calls(toolbox, calls), asyncio.run(adispatch_calls(toolbox, calls))):
        assert [r.status for r in results] == ["invalid_arguments", "ok"]
        assert results[0].content.endswith("f: Input should be a valid integer (got \"x\")")
        assert results[1].value == {"filter[id]": 3, "user id": "bob"}
    for wrong in (["f"], {"filter[id]": 5}):
        with pytest.raises(TypeError, match="shown_names: expected a mapping of argument names to the names shown"):
            ToolCall("1", "list_apps", {}, wrong)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="shown_names: expected a mapping"):
            toolbox.call_one_sync("list_apps", {}, shown_names=wrong)  # type: ignore[arg-type]
    assert toolbox.middleware.learner.store.attempts()[-1].success  # only the valid calls ran
    assert len(toolbox.middleware.learner.store.attempts()) == 2
