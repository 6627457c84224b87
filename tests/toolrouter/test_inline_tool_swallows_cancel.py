"""An inline async tool, awaited in its caller's task, gets the caller's cancellation itself: one
that swallows it and ends (a value, an error of its own) is recorded as it ended, then the
cancellation is raised, as for a tool in a task of its own that ended before its caller's turn."""

from __future__ import annotations

import asyncio

import pytest

from toolrouter import ExecutorConfig, ToolMiddleware
from toolrouter.attempts import RetryPolicy


@pytest.mark.parametrize("fails", [False, True])
def test_an_inline_tool_that_swallows_its_callers_cancellation_does_not_undo_it(fails: bool) -> None:
    mw = ToolMiddleware(store="memory://", seed=0, config=ExecutorConfig(retry=RetryPolicy(max_retries=0)))

    async def stubborn() -> str:
        asyncio.current_task().cancel()  # the caller's task: the tool is awaited in it
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            if fails:
                raise ConnectionError("down") from None
            return "partial"
        return "never cancelled"

    mw.register(stubborn, "x", tool_id="stubborn", inline=True)

    async def main() -> None:
        with pytest.raises(asyncio.CancelledError):
            await asyncio.ensure_future(mw.acall("x"))

    asyncio.run(main())
    expected = ("stubborn", False, "ConnectionError: down") if fails else ("stubborn", True, None)
    assert [(a.tool_id, a.success, a.error) for a in mw.learner.store.attempts()] == [expected]
    mw.close()
