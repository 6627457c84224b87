"""A failed call names every tool it did not try, with why: those past its ``max_attempts`` and
all those its deadline left out, not only the first (a model reading "every backend failed"
would take the untried ones for down)."""

from __future__ import annotations

import time

import pytest

from integrations import Toolbox
from toolrouter import AllToolsFailedError, ToolMiddleware


def three_failing(tools: ToolMiddleware | Toolbox) -> None:
    def failing(name: str):  # noqa: ANN202
        def tool(query: str) -> str:
            time.sleep(0.1)
            raise ConnectionError("down")

        tool.__name__ = name
        return tool

    for name, reliability in (("first", 0.99), ("second", 0.5), ("third", 0.01)):
        tools.register(failing(name), "search", reliability=reliability)


def test_the_tools_past_max_attempts_are_listed_as_skipped() -> None:
    tools = ToolMiddleware(seed=0)
    three_failing(tools)
    with pytest.raises(AllToolsFailedError) as info:
        tools.route("search", max_attempts=1)("q")
    tried = [a.tool_id for a in info.value.attempts]
    assert len(tried) == 1
    assert sorted([tried[0], *(t for t, _ in info.value.skipped)]) == ["first", "second", "third"]
    assert {why for _, why in info.value.skipped} == {"max attempts reached"}


def test_every_tool_the_deadline_left_out_is_listed() -> None:
    tools = ToolMiddleware(seed=0)
    three_failing(tools)
    with pytest.raises(AllToolsFailedError) as info:
        tools.route("search", deadline_s=0.02, max_attempts=2)("q")
    (cut,) = info.value.attempts  # the first tried, cut at the deadline
    assert [why for _, why in info.value.skipped] == ["deadline passed", "max attempts reached"]
    assert sorted([cut.tool_id, *(t for t, _ in info.value.skipped)]) == ["first", "second", "third"]


def test_the_model_reads_the_backends_not_tried() -> None:
    toolbox = Toolbox(seed=0)
    three_failing(toolbox)

    def other(query: str) -> str:
        return "never"

    toolbox.register(other, "other")  # another capability's: not listed
    content = toolbox.call_one_sync("search", {"query": "q"}, max_attempts=1).content
    assert content.count("(max attempts reached)") == 2 and "other" not in content
