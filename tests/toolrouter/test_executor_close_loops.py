"""``PlanExecutor.close`` releases every event loop of ``run``: a run after ``close`` made a loop
that only another ``close`` released (each one three file descriptors, for as long as the
executor lived), and the loop of a thread still running a plan during ``close`` was dropped from
the executor's loops, never to be closed."""

from __future__ import annotations

import asyncio
import threading

from toolrouter import attempts
from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice

CONFIG = ExecutorConfig(timeout_s=5.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
PLAN = ExecutionPlan.from_steps("t", "qa", [PlanStep("s", "s", (ToolChoice("t", 0.5, 0.5, 0.9, 0.1, 0.1),))])


def test_a_run_after_close_closes_its_loop_as_it_ends() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def tool(request):
        loops.append(asyncio.get_running_loop())

    executor = PlanExecutor({"t": tool}, CONFIG)
    executor.run(PLAN)
    executor.close()
    assert executor.run(PLAN).succeeded and executor.run(PLAN).succeeded
    assert len(loops) == 3 and all(loop.is_closed() for loop in loops)


def test_the_loop_of_a_run_in_flight_during_close_is_closed_as_the_run_ends() -> None:
    loops: list[asyncio.AbstractEventLoop] = []
    started, release = threading.Event(), threading.Event()

    async def tool(request):
        loops.append(asyncio.get_running_loop())
        started.set()
        while not release.is_set():
            await asyncio.sleep(0.001)
        return "done"

    executor = PlanExecutor({"t": tool}, CONFIG)
    runs = []
    thread = threading.Thread(target=lambda: runs.append(executor.run(PLAN)))
    thread.start()
    assert started.wait(5)
    executor.close()
    assert not loops[0].is_closed()  # the run goes on
    release.set()
    thread.join(5)
    assert runs[0].outputs == {"s": "done"} and loops[0].is_closed()


def test_a_run_after_close_does_not_reuse_the_loop_close_is_still_winding_down(monkeypatch) -> None:
    # close() had taken the thread's loop but not yet closed it (a task left on it swallows its
    # cancellation, so the loop winds down in the background): the next run saw a loop not closed
    # and ran on it, failing with "This event loop is already running"
    monkeypatch.setattr(attempts, "CANCEL_GRACE_S", 0.01)
    release = threading.Event()
    left: list[asyncio.Task] = []

    async def stubborn():
        while not release.is_set():
            try:
                await asyncio.sleep(0.001)
            except asyncio.CancelledError:
                pass

    async def tool(request):
        left.append(asyncio.get_running_loop().create_task(stubborn()))
        return "ok"

    executor = PlanExecutor({"t": tool}, CONFIG)
    try:
        executor.run(PLAN)
        executor.close()
        assert executor.run(PLAN).outputs == {"s": "ok"}
    finally:
        release.set()
