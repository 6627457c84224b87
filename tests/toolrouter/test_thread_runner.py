"""Tools that hang: a hung sync tool holds only its own worker thread (a call that stopped waiting
before its tool started never runs it, nested calls get workers of their own) and never the
interpreter's exit; an async tool that swallows its cancellation holds no synchronous caller."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
import time

from toolrouter import ExecutorConfig, RetryPolicy, TaskProfile, ToolMetaLearner, ToolMiddleware, ToolProfile
from toolrouter.attempts import ThreadRunner
from toolrouter.executor import PlanExecutor
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph


def test_tools_hung_past_their_timeout_leave_the_workers_to_the_others() -> None:
    release = threading.Event()
    runner = ThreadRunner(max_workers=2)
    try:
        for _ in range(5):  # more hung tools than workers
            assert runner.call(release.wait, (), {}, 0.01).timed_out
        assert runner.call(lambda: "answer", (), {}, 5.0).value == "answer"
        assert runner.hung == 5

        async def awaited() -> str:
            return (await asyncio.wait_for(runner.future(lambda: "async answer", (), {}), 5.0)).value

        assert asyncio.run(awaited()) == "async answer"
    finally:
        release.set()
    deadline = time.monotonic() + 5
    while runner.hung and time.monotonic() < deadline:
        time.sleep(0.01)
    assert runner.hung == 0  # they returned when released: back in the pool or gone


def test_a_tool_whose_caller_stopped_waiting_before_it_started_never_runs() -> None:
    release = threading.Event()
    ran: list[str] = []
    runner = ThreadRunner(max_workers=1)
    try:
        # the only worker is busy for a caller still waiting (in another thread)
        started = threading.Event()
        busy = threading.Thread(target=runner.call, args=(lambda: started.set() or release.wait(), (), {}, 30.0))
        busy.start()
        assert started.wait(5)
        # its timeout counts from when its tool starts; its deadline ends the wait for a worker
        assert runner.call(ran.append, ("sync",), {}, 0.02, deadline=time.monotonic() + 0.02).never_ran

        async def cancelled() -> None:
            future = runner.future(ran.append, ("async",), {})
            await asyncio.sleep(0.01)
            future.cancel()

        asyncio.run(cancelled())
        release.set()
        busy.join(5)
        assert runner.call(ran.append, ("after",), {}, 5.0).value is None
        assert ran == ["after"]  # the calls that gave up did not run their tools later
    finally:
        release.set()


def test_calls_nested_deeper_than_the_workers_do_not_deadlock() -> None:
    mw = ToolMiddleware(store="memory://", seed=0, config=ExecutorConfig(timeout_s=5.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None))

    @mw.tool("depth")
    def depth(n: int) -> int:  # each level routes through the middleware again, from a worker
        return 0 if n == 0 else 1 + mw.call("depth", n - 1)

    t0 = time.monotonic()
    assert mw.call("depth", 70) == 70  # the shared runner has 64 workers
    assert time.monotonic() - t0 < 4


def _plan():
    graph = build_task_graph([TaskStep(step_id="s", capability="s")])
    return assign_tools(graph, {"s": [Candidate("hangs", 0.9), Candidate("answers", 0.5)]})


def test_the_plan_executor_survives_more_hung_tools_than_workers() -> None:
    release = threading.Event()
    config = ExecutorConfig(timeout_s=0.05, retry=RetryPolicy(max_retries=0), circuit_breaker=None,
                            tool_timeouts_s={"answers": 30.0})  # only the hung tool races the 0.05 s
    tools = {"hangs": lambda request: release.wait(), "answers": lambda request: "answer"}
    try:
        with PlanExecutor(tools, config, max_workers=2) as executor:
            for _ in range(4):
                run = executor.run(_plan())
                assert run.succeeded and run.outputs["s"] == "answer"
                assert [a.tool_id for a in run.attempts] == ["hangs", "answers"]
    finally:
        release.set()


def test_a_hung_sync_tool_does_not_hold_the_interpreters_exit() -> None:
    script = textwrap.dedent(
        """
        import threading
        from toolrouter import ExecutorConfig, RetryPolicy, TaskProfile, ToolMetaLearner, ToolProfile

        router = ToolMetaLearner([ToolProfile(tool_id="hangs", capabilities=["s"], reliability=0.99),
                                  ToolProfile(tool_id="answers", capabilities=["s"], reliability=0.1)],
                                 seed=0, store="memory://")
        router.functions.update(hangs=lambda request: threading.Event().wait(), answers=lambda request: "answer")
        config = ExecutorConfig(timeout_s=0.1, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
        print(router.execute(TaskProfile(task_id="t", required_capabilities=["s"]), config=config).run.outputs["s"])
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "answer"


def _swallows_cancellation(release: threading.Event):
    async def stubborn(*args, **kwargs) -> str:
        while not release.is_set():
            try:
                await asyncio.sleep(0.01)
            except asyncio.CancelledError:
                pass  # ignores every cancellation
        return "late"

    return stubborn


def test_an_async_tool_that_swallows_its_cancellation_does_not_hold_a_sync_call() -> None:
    release = threading.Event()
    mw = ToolMiddleware(store="memory://", seed=0)
    mw.register(_swallows_cancellation(release), "x", tool_id="first", reliability=1.0, expected_latency_s=0.0)
    mw.register(lambda: "backup", "x", tool_id="backup", reliability=0.05, expected_latency_s=5.0)
    try:
        started = time.monotonic()
        outcome = mw.route("x", timeout_s=0.1).run()
        assert time.monotonic() - started < 5  # its timeout, then at most the grace for its cleanup
        assert outcome.value == "backup" and outcome.attempts[0].error == "TimeoutError: 'first' took longer than 0.1 s"
    finally:
        release.set()


def test_an_async_tool_that_swallows_its_cancellation_holds_neither_execute_nor_close() -> None:
    release = threading.Event()
    stubborn = _swallows_cancellation(release)

    config = ExecutorConfig(timeout_s=0.1, retry=RetryPolicy(max_retries=0), circuit_breaker=None)
    router = ToolMetaLearner([ToolProfile(tool_id="hangs", capabilities=["s"], reliability=0.99),
                              ToolProfile(tool_id="answers", capabilities=["s"], reliability=0.1)],
                             seed=0, store="memory://")
    router.functions.update(hangs=stubborn, answers=lambda request: "answer")
    try:
        started = time.monotonic()
        execution = router.execute(TaskProfile(task_id="t", required_capabilities=["s"]), config=config)
        assert execution.run.outputs["s"] == "answer" and time.monotonic() - started < 5
        executor = PlanExecutor({"hangs": stubborn, "answers": lambda request: "answer"}, config)
        assert executor.run(_plan()).succeeded  # the stubborn tool is left on the run's loop
        started = time.monotonic()
        executor.close()
        assert time.monotonic() - started < 5
    finally:
        release.set()


def test_past_max_hung_threads_a_hung_tool_keeps_its_worker() -> None:
    release = threading.Event()
    runner = ThreadRunner(max_workers=1, max_hung=2)
    try:
        for _ in range(3):
            assert runner.call(release.wait, (), {}, 0.01).timed_out
        assert runner.hung == 2  # the third hung tool was not given up: it holds the only worker
        assert runner.call(lambda: "answer", (), {}, 0.05).timed_out
    finally:
        release.set()
    assert runner.call(lambda: "answer", (), {}, 5.0).value == "answer"
