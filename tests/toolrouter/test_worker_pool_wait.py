"""More sync tool calls than worker threads: the wait for a free worker is the process's, not the
tool's. A try's timeout counts from when a worker starts its tool, its latency is the tool's own
time, and a try that never got a worker (its call's deadline came first, or its caller was
cancelled or interrupted) is not recorded as an attempt of the tool, which never ran."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from toolrouter import ExecutorConfig, RetryPolicy, ToolMiddleware
from toolrouter.attempts import Binding, CallSpec, ThreadRunner, attempt_loop, run_async, run_sync
from toolrouter.executor import PlanExecutor
from toolrouter.models import ExecutionResult, TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

CONFIG = ExecutorConfig(timeout_s=0.05, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
#: for a try that must succeed once a worker is free: its instant tool far inside the timeout,
#: and the wait for the worker (``WAIT_S``) far past it, even on a loaded machine
LONGER = CONFIG.model_copy(update={"timeout_s": 0.2})
WAIT_S = 0.5


def _spec(tool, recorded: list[ExecutionResult], deadline: float | None = None, config: ExecutorConfig = CONFIG) -> CallSpec:
    return CallSpec(
        step="s", candidates=["t"], bind=lambda tool_id, attempt: Binding(tool), record=recorded.append,
        config=config, deadline=deadline,
    )


def _occupy(pool) -> threading.Event:
    """Hold the pool's only worker with a tool whose caller waits, until the event is set."""
    started, release = threading.Event(), threading.Event()

    def busy() -> None:
        started.set()
        release.wait(30)

    if isinstance(pool, ThreadRunner):
        threading.Thread(target=pool.call, args=(busy, (), {}, 60.0), daemon=True).start()
    else:
        pool.submit(busy)
    assert started.wait(5)
    return release


@pytest.mark.parametrize("driver", ["sync", "async"])
def test_a_try_waiting_for_a_worker_longer_than_its_timeout_runs_and_succeeds(driver: str) -> None:
    runner = ThreadRunner(max_workers=1)
    release = _occupy(runner)
    threading.Timer(WAIT_S, release.set).start()  # the worker is free only after the try's timeout
    recorded: list[ExecutionResult] = []
    loop = attempt_loop(_spec(lambda: "answer", recorded, config=LONGER))
    report = run_sync(loop, runner) if driver == "sync" else asyncio.run(run_async(loop, runner))
    assert report.value == "answer"
    assert [(a.success, a.error) for a in recorded] == [(True, None)]  # no timeout blamed on the tool
    assert recorded[0].latency_s < WAIT_S  # its own time, not the wait for the worker


def test_an_executor_pool_counts_the_timeout_from_the_start_too() -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        release = _occupy(pool)
        recorded: list[ExecutionResult] = []

        async def main():
            asyncio.get_running_loop().call_later(WAIT_S, release.set)
            return await run_async(attempt_loop(_spec(lambda: "answer", recorded, config=LONGER)), pool)

        assert asyncio.run(main()).value == "answer"
        assert [(a.success, a.error) for a in recorded] == [(True, None)]


@pytest.mark.parametrize("driver", ["sync", "async", "executor"])
def test_a_try_whose_deadline_passes_before_a_worker_is_free_never_runs_and_is_not_recorded(driver: str) -> None:
    ran: list[str] = []
    recorded: list[ExecutionResult] = []
    pool = ThreadPoolExecutor(max_workers=1) if driver == "executor" else ThreadRunner(max_workers=1)
    release = _occupy(pool)
    try:
        loop = attempt_loop(_spec(lambda: ran.append("ran"), recorded, deadline=time.monotonic() + 0.05))
        report = run_sync(loop, pool) if driver == "sync" else asyncio.run(run_async(loop, pool))
    finally:
        release.set()
    assert not report.succeeded and recorded == []
    assert report.skipped == [("t", "deadline passed before a worker thread was free")]
    assert "no tool could be tried" in report.failure_summary()
    if isinstance(pool, ThreadRunner):
        assert pool.call(lambda: "after", (), {}, 5.0).value == "after"
    else:
        pool.shutdown(wait=True)
    assert ran == []  # taken back: it did not run later either


def test_a_caller_cancelled_before_a_worker_is_free_records_nothing() -> None:
    runner = ThreadRunner(max_workers=1)
    release = _occupy(runner)
    recorded: list[ExecutionResult] = []
    ran: list[str] = []

    async def main() -> None:
        task = asyncio.ensure_future(run_async(attempt_loop(_spec(lambda: ran.append("ran"), recorded)), runner))
        await asyncio.sleep(0.1)  # past its timeout, still waiting for the worker
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(main())
    finally:
        release.set()
    assert runner.call(lambda: "after", (), {}, 5.0).value == "after"
    assert recorded == [] and ran == []


def _plan(tool_id: str):
    return assign_tools(build_task_graph([TaskStep(step_id="s", capability="s")]), {"s": [Candidate(tool_id, 0.9)]})


def test_a_plan_step_cut_by_the_run_deadline_while_waiting_for_a_worker_is_not_blamed() -> None:
    started, release = threading.Event(), threading.Event()
    ran: list[str] = []
    tools = {"holds": lambda request: started.set() or release.wait(30), "waits": lambda request: ran.append("waits")}
    config = ExecutorConfig(timeout_s=30.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
    with PlanExecutor(tools, config, max_workers=1) as executor:
        holder = threading.Thread(target=executor.run, args=(_plan("holds"),))  # another run holds the worker
        holder.start()
        try:
            assert started.wait(5)
            run = executor.run(_plan("waits"), deadline_s=0.1)
        finally:
            release.set()
            holder.join(5)
    # not "TimeoutError: 'waits' took longer than the run's deadline allowed": it never ran
    assert run.attempts == [] and not run.succeeded
    assert ran == []


def test_more_concurrent_calls_than_workers_all_succeed_through_the_middleware() -> None:
    tools = ToolMiddleware(seed=0, max_workers=1, config=CONFIG.model_copy(update={"timeout_s": 0.2}))

    @tools.tool("slow")
    def slow(i: int) -> int:
        time.sleep(0.05)
        return i

    async def main():
        return await asyncio.gather(*(tools.route("slow").arun(i) for i in range(8)))

    outcomes = asyncio.run(main())  # 8 tries in a row on one worker: the later ones wait 0.35 s
    assert [o.value for o in outcomes] == list(range(8))
    assert all(len(o.attempts) == 1 and o.attempts[0].success for o in outcomes)
    with pytest.raises(ValueError, match="max_workers"):
        ToolMiddleware(seed=0, max_workers=0)


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_before_a_worker_is_free_records_nothing() -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    runner = ThreadRunner(max_workers=1)
    release = _occupy(runner)
    recorded: list[ExecutionResult] = []
    ran: list[str] = []
    waiting, lock = [True], threading.Lock()

    def ctrl_c() -> None:  # past its timeout, while the call still waits (never after it returned)
        with lock:
            if waiting[0]:
                os.kill(os.getpid(), signal.SIGINT)

    threading.Timer(0.1, ctrl_c).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            try:
                run_sync(attempt_loop(_spec(lambda: ran.append("ran"), recorded)), runner)
            finally:
                with lock:
                    waiting[0] = False
    finally:
        release.set()
    assert runner.call(lambda: "after", (), {}, 5.0).value == "after"
    assert recorded == [] and ran == []


@pytest.mark.usefixtures("ctrl_c_raises")
def test_ctrl_c_while_a_sync_tool_runs_records_its_time_without_the_wait_for_a_worker() -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    runner = ThreadRunner(max_workers=1)
    release = _occupy(runner)
    threading.Timer(WAIT_S, release.set).start()  # the worker is free only after WAIT_S
    running, done = threading.Event(), threading.Event()
    recorded: list[ExecutionResult] = []

    def tool() -> None:
        running.set()
        done.wait(30)

    def ctrl_c() -> None:  # once the tool runs, while its caller waits for it
        if running.wait(30):
            os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=ctrl_c, daemon=True).start()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_sync(attempt_loop(_spec(tool, recorded, config=CONFIG.model_copy(update={"timeout_s": 30.0}))), runner)
    finally:
        done.set()
    assert [a.success for a in recorded] == [False]
    assert recorded[0].latency_s < WAIT_S  # its own time, not the wait for the worker
