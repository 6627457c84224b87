"""An async tool's KeyboardInterrupt or SystemExit is raised by the call that awaits it, in the
caller's task: a caller that handles it keeps its event loop, and its other calls end normally."""

from __future__ import annotations

import asyncio

import pytest

from toolrouter import ToolMiddleware
from toolrouter.errors import AllToolsFailedError
from toolrouter.executor import ExecutorConfig, RetryPolicy
from toolrouter.models import CANCELLED_BY_CALLER


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, SystemExit])
def test_an_async_tools_interrupt_is_the_awaiting_callers_to_handle(interrupt: type[BaseException]) -> None:
    async def stop(query):
        await asyncio.sleep(0)
        raise interrupt

    async def slow(query):
        await asyncio.sleep(0.02)
        return "ok"

    config = ExecutorConfig(timeout_s=1.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
    with ToolMiddleware(store="memory://", seed=0, config=config) as tools:
        tools.register(stop, "a")
        tools.register(slow, "b")

        async def guarded():
            try:
                return await tools.route("a").acall("x")
            except interrupt:
                return "stopped"

        async def main():
            return await asyncio.gather(guarded(), tools.route("b").acall("y"))

        assert asyncio.run(main()) == ["stopped", "ok"]
        # the interrupted try is recorded once, as its caller's cancellation; the other call is learned
        attempts = sorted((a.tool_id, a.success, a.error) for a in tools.learner.store.attempts())
        assert attempts == [("slow", True, None), ("stop", False, CANCELLED_BY_CALLER)]
        stats = tools.learner.tool_statistics()
        assert (stats["slow"].calls, stats["stop"].calls) == (1, 0)
        # a synchronous call of the async tool raises it too, with its try recorded the same way
        with pytest.raises(interrupt):
            tools.route("a")("z")
        assert [a.error for a in tools.learner.store.attempts() if a.tool_id == "stop"] == [CANCELLED_BY_CALLER] * 2


def test_an_interrupt_from_a_tool_nobody_awaits_any_more_still_interrupts() -> None:
    async def stubborn(query):
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:  # ignores its timeout's cancellation, then interrupts
            await asyncio.sleep(0.01)
            raise KeyboardInterrupt from None

    config = ExecutorConfig(timeout_s=0.02, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
    with ToolMiddleware(seed=0, config=config) as tools:
        tools.register(stubborn, "a")

        async def main():
            with pytest.raises(AllToolsFailedError, match="TimeoutError"):
                await tools.route("a").acall("x")
            await asyncio.sleep(0.2)  # the loop goes on, where the tool's interrupt lands
            return "not interrupted"

        with pytest.raises(KeyboardInterrupt):
            asyncio.run(main())
