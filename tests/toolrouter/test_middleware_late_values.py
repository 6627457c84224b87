"""A try whose tool returns only after its limit (its timeout, its call's deadline) is a timeout
failure whatever ran it: an async tool that blocks the event loop, an inline tool, a worker thread.
The caller gets the fallback's value, and the router learns a failure with the measured latency."""

from __future__ import annotations

import asyncio
import time

import pytest

from toolrouter import AllToolsFailedError, ToolMiddleware


async def _blocks_loop() -> str:
    time.sleep(0.12)  # holds the event loop: no timer can fire meanwhile
    return "late"


def _blocks_thread() -> str:
    time.sleep(0.12)
    return "late"


def _middleware(first, **options) -> ToolMiddleware:
    mw = ToolMiddleware(store="memory://", seed=0)
    mw.register(first, "x", tool_id="first", reliability=1.0, expected_latency_s=0.0, **options)
    mw.register(lambda: "backup", "x", tool_id="backup", reliability=0.05, cost_per_use=5.0, expected_latency_s=5.0)
    return mw


@pytest.mark.parametrize(
    ("first", "inline", "how"),
    [
        (_blocks_loop, False, "async"),  # awaited in a task of its own
        (_blocks_loop, True, "async"),  # awaited in the calling task
        (_blocks_loop, False, "sync"),  # on a new event loop
        (_blocks_thread, True, "sync"),  # in the calling thread
        (_blocks_thread, True, "async"),  # on the event loop's thread
        (_blocks_thread, False, "sync"),  # in a worker thread: the wait gives up at the timeout
    ],
)
def test_a_value_returned_past_the_timeout_is_a_timeout_and_falls_back(first, inline: bool, how: str) -> None:
    mw = _middleware(first, timeout_s=0.04, inline=inline)
    route = mw.route("x")
    outcome = asyncio.run(route.arun()) if how == "async" else route.run()
    assert outcome.value == "backup" and outcome.tool_id == "backup"
    late = outcome.attempts[0]
    assert (late.tool_id, late.success) == ("first", False)
    assert late.error == "TimeoutError: 'first' took longer than 0.04 s"
    assert late.latency_s >= 0.04  # the measured time, past the limit
    stats = mw.learner.tool_statistics()["first"]
    assert (stats.calls, stats.successes) == (1, 0)


def test_a_value_returned_past_the_deadline_is_a_timeout() -> None:
    mw = _middleware(_blocks_loop)
    with pytest.raises(AllToolsFailedError, match="first: TimeoutError: 'first' took longer than the call's deadline allowed"):
        asyncio.run(mw.route("x", deadline_s=0.04, max_attempts=1).acall())


def test_a_value_returned_in_time_is_still_a_success() -> None:
    async def quick() -> str:
        time.sleep(0.01)
        return "quick"

    mw = _middleware(quick, timeout_s=5.0)
    assert asyncio.run(mw.acall("x")) == "quick" and mw.call("x") == "quick"
