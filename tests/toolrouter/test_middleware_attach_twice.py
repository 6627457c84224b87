"""``ToolMiddleware.attach`` on a tool that already has a function refuses, as ``register`` does,
unless ``replace=True``: then the new function runs, and what was learned of the tool stays."""

from __future__ import annotations

import asyncio

import pytest

from toolrouter import DuplicateToolError, ToolMetaLearner, ToolMiddleware, ToolProfile, UnknownToolError


def _middleware() -> ToolMiddleware:
    return ToolMiddleware(ToolMetaLearner([ToolProfile(tool_id="known", capabilities=["x"])], seed=0))


def test_a_second_function_for_a_tool_is_refused_and_the_first_kept() -> None:
    mw = _middleware()
    mw.attach(lambda: "first", "known")
    with pytest.raises(DuplicateToolError, match=r"^tool_id: 'known' already has a function; pass replace=True"):
        mw.attach(lambda: "second", "known")
    with pytest.raises(DuplicateToolError, match="'known'"):
        mw.register(lambda: "third", "x", tool_id="known")
    assert mw.call("x") == "first"
    with pytest.raises(TypeError, match=r"^replace: expected True or False, got 'yes'"):
        mw.attach(lambda: "second", "known", replace="yes")  # type: ignore[arg-type]
    assert mw.call("x") == "first"


def test_replace_binds_the_new_function_and_keeps_what_was_learned() -> None:
    mw = _middleware()
    mw.attach(lambda: "first", "known")
    mw.call("x")
    assert mw.learner.tool_statistics()["known"].calls == 1

    async def second() -> str:
        return "second"

    assert mw.attach(second, "known", replace=True) == mw.learner.tools["known"]
    assert asyncio.run(mw.acall("x")) == "second"
    assert mw.learner.tool_statistics()["known"].calls == 2


def test_detach_unbinds_the_function_and_keeps_what_was_learned() -> None:
    mw = _middleware()
    mw.attach(lambda: "first", "known")
    mw.call("x")
    mw.detach("known")
    assert mw.tool_ids == [] and mw.learner.tool_statistics()["known"].calls == 1
    with pytest.raises(UnknownToolError, match="known"):
        mw.detach("known")
    mw.attach(lambda: "again", "known")  # bound again, as a tool resumed from a store is
    assert mw.call("x") == "again" and mw.learner.tool_statistics()["known"].calls == 2
