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


def _quick_in_thread() -> str:
    time.sleep(0.005)
    return "quick"


def test_a_worker_thread_tool_beside_one_that_blocks_the_loop_is_judged_by_its_own_time() -> None:
    """The worker's value comes in at once, but the caller hears of it only once the blocker frees
    the event loop, past the timeout: the try is judged by the time measured in the worker."""
    blocked = _middleware(_blocks_loop, timeout_s=0.04)
    quick = _middleware(_quick_in_thread, timeout_s=0.04)

    async def both():
        return await asyncio.gather(blocked.route("x").arun(), quick.route("x").arun())

    late, on_time = asyncio.run(both())
    assert late.tool_id == "backup" and late.attempts[0].error == "TimeoutError: 'first' took longer than 0.04 s"
    assert (on_time.tool_id, on_time.value, len(on_time.attempts)) == ("first", "quick", 1)
    assert 0.005 <= on_time.attempts[0].latency_s < 0.04  # its own time, not the 0.12 s the loop was held
    assert quick.learner.tool_statistics()["first"].successes == 1


def test_a_tool_in_an_executors_thread_is_judged_by_its_own_time_too() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from toolrouter.attempts import Binding, CallSpec, ExecutorConfig, attempt_loop, run_async

    spec = CallSpec(
        step="s", candidates=["quick"], bind=lambda tool, attempt: Binding(_quick_in_thread),
        record=lambda result: None, config=ExecutorConfig(timeout_s=0.04),
    )

    async def both(pool):  # the tool starts in its thread, then the loop is held
        return await asyncio.gather(run_async(attempt_loop(spec), pool), _blocks_loop())

    with ThreadPoolExecutor(1) as pool:
        report, _ = asyncio.run(both(pool))
    assert (report.succeeded, report.value) == (True, "quick")
    assert 0.005 <= report.attempts[0].latency_s < 0.04


async def _awaits_briefly() -> str:
    await asyncio.sleep(0.005)
    return "brief"


async def _returns_at_once() -> str:
    return "at once"


@pytest.mark.parametrize("other", [_awaits_briefly, _returns_at_once])
@pytest.mark.parametrize("blocker_first", [True, False])  # the other starts after the loop is free, or before
def test_an_async_tool_beside_one_that_blocks_the_loop_is_not_late(other, blocker_first: bool) -> None:
    blocked = _middleware(_blocks_loop, timeout_s=0.04)
    beside = _middleware(other, timeout_s=0.04)

    async def both():
        calls = [blocked.route("x").arun(), beside.route("x").arun()]
        done = await asyncio.gather(*(calls if blocker_first else calls[::-1]))
        return done if blocker_first else done[::-1]

    late, on_time = asyncio.run(both())
    assert late.attempts[0].error == "TimeoutError: 'first' took longer than 0.04 s"
    assert (on_time.tool_id, len(on_time.attempts), on_time.attempts[0].success) == ("first", 1, True)
    assert beside.learner.tool_statistics()["first"].successes == 1


async def _awaited_part() -> str:
    await asyncio.sleep(0.01)
    return "wrapped"


def _sync_wrapper():
    time.sleep(0.01)
    return _awaited_part()  # a sync wrapper around an async tool: its value is awaited


@pytest.mark.parametrize("inline", [False, True])
@pytest.mark.parametrize("how", ["sync", "async"])
def test_a_sync_wrappers_latency_counts_both_its_parts(inline: bool, how: str) -> None:
    mw = _middleware(_sync_wrapper, timeout_s=5.0, inline=inline)
    route = mw.route("x")
    outcome = asyncio.run(route.arun()) if how == "async" else route.run()
    assert (outcome.value, outcome.attempts[0].success) == ("wrapped", True)
    assert outcome.attempts[0].latency_s >= 0.02
