"""ToolMiddleware: sync and async tools, fallbacks, every attempt recorded, clear errors."""

from __future__ import annotations

import asyncio
import functools

import pytest

from toolrouter import (
    AllToolsFailedError,
    DuplicateToolError,
    NoToolForCapabilityError,
    ToolFailure,
    ToolMetaLearner,
    ToolMiddleware,
    ToolOutput,
    ToolProfile,
    UnknownToolError,
)
from toolrouter.simulation import SyntheticEnvironment


def test_decorator_and_function_forms_register_tools() -> None:
    mw = ToolMiddleware(seed=0)

    @mw.tool("search", cost_per_use=0.2, reliability=0.6)
    def web(query: str) -> str:
        """Search the web."""
        return f"web:{query}"

    assert web("x") == "web:x"  # the decorator returns the function unchanged
    profile = mw.register(lambda q: f"wiki:{q}", "search", tool_id="wiki")
    assert profile.capabilities == ("search",)
    assert mw.tool_ids == ["web", "wiki"]
    web_profile = mw.learner.tools["web"]
    assert (web_profile.cost_per_use, web_profile.reliability, web_profile.description) == (0.2, 0.6, "Search the web.")
    assert mw.call("search", "q") in ("web:q", "wiki:q")


def test_a_partial_is_described_by_its_functions_docstring() -> None:
    # it was described by functools.partial's own docstring, the same for every such tool
    def search(query: str, engine: str) -> str:
        """Search the web."""
        return f"{engine}:{query}"

    mw = ToolMiddleware(seed=0)
    profile = mw.register(functools.partial(search, engine="bing"), "search", tool_id="bing")
    assert profile.description == "Search the web."


def test_a_callable_object_is_described_by_its_calls_docstring() -> None:
    # it was described by nothing (its class has no docstring), where a toolbox schema takes __call__'s
    class Search:
        def __call__(self, query: str) -> str:
            """Search the web."""
            return query

    mw = ToolMiddleware(seed=0)
    assert mw.register(Search(), "search", tool_id="web").description == "Search the web."


def test_sync_and_async_tools_in_both_call_forms() -> None:
    mw = ToolMiddleware(seed=0)

    @mw.tool("add")
    async def add_async(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    @mw.tool("mul")
    def mul(a: int, b: int) -> int:
        return a * b

    assert mw.call("add", 2, 3) == 5  # async tool, sync call
    assert mw.call("mul", 2, 3) == 6
    assert asyncio.run(mw.acall("add", 2, b=5)) == 7  # async call awaits it
    assert asyncio.run(mw.acall("mul", 4, 5)) == 20  # sync tool runs in a worker thread

    async def inside_a_loop() -> None:
        with pytest.raises(RuntimeError, match="use acall"):
            mw.call("add", 1, 1)

    before = mw.learner.tool_statistics()["add_async"].calls
    asyncio.run(inside_a_loop())
    assert mw.learner.tool_statistics()["add_async"].calls == before  # a misuse is not an attempt


def test_failure_falls_back_and_every_attempt_is_recorded() -> None:
    mw = ToolMiddleware(store="memory://", seed=0)
    calls: list[str] = []

    def broken(q: str) -> str:
        calls.append("broken")
        raise ConnectionError("down")

    def working(q: str) -> str:
        calls.append("working")
        return "ok"

    # the broken tool looks far better a priori, so it is tried first
    mw.register(broken, "search", reliability=1.0, cost_per_use=0.0, expected_latency_s=0.0)
    mw.register(working, "search", reliability=0.1, cost_per_use=5.0, expected_latency_s=5.0)
    outcome = mw.route("search").run("q")
    assert calls == ["broken", "working"]
    assert outcome.value == "ok" and outcome.tool_id == "working"
    assert [(a.tool_id, a.success) for a in outcome.attempts] == [("broken", False), ("working", True)]
    assert outcome.attempts[0].error == "ConnectionError: down"
    assert outcome.attempts[1].latency_s >= 0 and outcome.attempts[1].cost == 5.0
    rows = mw.learner.store.attempts()
    assert [(r.tool_id, r.success, r.step) for r in rows] == [("broken", False, "search"), ("working", True, "search")]
    stats = mw.learner.tool_statistics()
    assert stats["broken"].calls == 1 and stats["working"].successes == 1


def test_all_tools_failing_raises_with_every_attempt() -> None:
    mw = ToolMiddleware(store="memory://", seed=0)
    for name in ("a", "b", "c"):

        def fail(*args, _name=name):
            raise TimeoutError(f"{_name} timed out")

        mw.register(fail, "search", tool_id=name)
    with pytest.raises(AllToolsFailedError, match="all 3 tools failed") as info:
        mw.call("search", "q")
    assert sorted(a.tool_id for a in info.value.attempts) == ["a", "b", "c"]
    assert all(not a.success and "timed out" in a.error for a in info.value.attempts)
    assert mw.learner.store.count() == 3

    async def run() -> None:
        with pytest.raises(AllToolsFailedError):
            await mw.acall("search", "q")

    asyncio.run(run())
    assert mw.learner.store.count() == 6
    with pytest.raises(AllToolsFailedError) as info:
        mw.route("search", max_attempts=2)("q")
    assert len(info.value.attempts) == 2


def test_tools_report_quality_cost_and_latency() -> None:
    mw = ToolMiddleware(store="memory://", seed=0)
    mw.register(lambda: ToolOutput("v", quality=0.25, cost=3.0, latency_s=7.0), "x", tool_id="reports")
    assert mw.call("x") == "v"
    mw.unregister("reports")

    def failing():
        raise ToolFailure("quota", cost=0.5, latency_s=2.0)

    mw.register(failing, "x", tool_id="failing")
    mw.register(lambda: {"score": 0.6}, "x", tool_id="scored", quality=lambda r: r["score"], reliability=0.01)
    mw.call("x")
    rows = mw.learner.store.attempts()
    assert (rows[0].quality, rows[0].cost, rows[0].latency_s) == (0.25, 3.0, 7.0)
    by_tool = {r.tool_id: r for r in rows[1:]}
    assert (by_tool["failing"].cost, by_tool["failing"].latency_s, by_tool["failing"].success) == (0.5, 2.0, False)
    assert by_tool["scored"].quality == 0.6


def test_registration_errors_leave_the_registry_unchanged() -> None:
    mw = ToolMiddleware(seed=0)
    mw.register(lambda: 1, "x", tool_id="one")
    with pytest.raises(DuplicateToolError, match="'one'"):
        mw.register(lambda: 2, "x", tool_id="one")
    assert mw.call("x") == 1
    with pytest.raises(ValueError, match="cost_per_use"):
        mw.register(lambda: 3, "x", tool_id="neg", cost_per_use=-1)
    with pytest.raises(TypeError, match="fn: expected a callable"):
        mw.register("nope", "x")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"capability: give at least one capability for tool 'none', got \[\]"):
        mw.register(lambda: 4, [], tool_id="none")  # not the tool type's capability ('other') in its place
    with pytest.raises(ValueError, match="max_attempts"):
        ToolMiddleware(max_attempts=0)
    with pytest.raises(UnknownToolError):
        mw.unregister("nope")
    assert mw.tool_ids == ["one"] and list(mw.learner.tools) == ["one"]
    with pytest.raises(NoToolForCapabilityError, match="'y'"):
        mw.call("y")


def test_attach_binds_a_function_to_a_known_tool() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="known", capabilities=["x"])], seed=0)
    mw = ToolMiddleware(router)
    with pytest.raises(NoToolForCapabilityError, match="no registered function"):
        mw.call("x")
    mw.attach(lambda: "hi", "known")
    assert mw.call("x") == "hi"
    with pytest.raises(UnknownToolError):
        mw.attach(lambda: "hi", "unknown")


def test_cancellation_is_recorded_and_propagates() -> None:
    mw = ToolMiddleware(store="memory://", seed=0)

    started = asyncio.Event()

    @mw.tool("slow")
    async def slow() -> str:
        started.set()
        await asyncio.sleep(10)
        return "late"

    async def run() -> None:
        task = asyncio.create_task(mw.acall("slow"))
        await asyncio.wait_for(started.wait(), 5)  # cancelled while the tool runs, not before it starts
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    (row,) = mw.learner.store.attempts()
    assert row.tool_id == "slow" and not row.success and row.error.startswith("CancelledError")


def test_the_router_learns_through_the_middleware() -> None:
    env = SyntheticEnvironment.make(n_tools=4, capabilities=("search",), seed=5)
    mw = ToolMiddleware(seed=2)
    for tool in env.tools:
        mw.register(env.as_function(tool.profile.tool_id), "search", tool_id=tool.profile.tool_id)
    best = max(env.tools, key=lambda t: t.success_prob).profile.tool_id
    first = []
    for _ in range(300):
        try:
            first.append(mw.route("search").run().attempts[0].tool_id)
        except AllToolsFailedError as exc:
            first.append(exc.attempts[0].tool_id)
    # utility here is success + quality, latency measured (tiny) and no cost: the most reliable wins
    assert first[-100:].count(best) >= 70
