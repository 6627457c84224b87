"""``arun`` cancelled again while its steps wind down (anyio's cancel scopes cancel the task at
every await until it ends) still finishes the run's record: its status was left ``failed`` with
no latency, and, under anyio, a ``move_on_after`` scope around the run did not see its own
cancellation in what the run raised."""

from __future__ import annotations

import asyncio
import time

import pytest

from toolrouter.executor import ExecutorConfig, PlanExecutor, PlanRun, RetryPolicy, RunStatus, StepStatus
from toolrouter.models import CANCELLED_BY_CALLER, TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

FAST = ExecutorConfig(timeout_s=5.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None)


STARTED: set[str] = set()  # the tools whose call began: the cancellation comes once both did


async def slow(request):
    STARTED.add("slow")
    await asyncio.sleep(10)


def sync_slow(request):
    STARTED.add("sync_slow")
    time.sleep(0.2)
    return "late"


def plan():
    graph = build_task_graph([
        TaskStep(step_id="a", capability="a"),
        TaskStep(step_id="b", capability="b"),
        TaskStep(step_id="c", capability="c", depends_on=["a"]),
    ])
    return assign_tools(graph, {"a": [Candidate("slow", 0.9)], "b": [Candidate("sync_slow", 0.9)],
                                "c": [Candidate("slow", 0.9)]})


def check(record: PlanRun) -> None:
    assert record.status is RunStatus.CANCELLED and record.latency_s > 0
    assert record.statuses() == {"a": StepStatus.CANCELLED, "b": StepStatus.CANCELLED, "c": StepStatus.CANCELLED}
    assert sorted((a.tool_id, a.error) for a in record.attempts) == [
        ("slow", CANCELLED_BY_CALLER), ("sync_slow", CANCELLED_BY_CALLER)
    ]


def test_a_run_cancelled_at_every_await_finishes_its_record() -> None:
    async def main() -> PlanRun:
        record = PlanRun()
        STARTED.clear()
        with PlanExecutor({"slow": slow, "sync_slow": sync_slow}, FAST) as ex:
            task = asyncio.ensure_future(ex.arun(plan(), run=record))
            while STARTED != {"slow", "sync_slow"}:
                await asyncio.sleep(0.005)
            while not task.done():
                task.cancel("stop")
                await asyncio.sleep(0)
            with pytest.raises(asyncio.CancelledError):
                await task
        return record

    check(asyncio.run(main()))


def test_an_anyio_timeout_around_a_run_ends_it_and_its_record() -> None:
    anyio = pytest.importorskip("anyio")

    async def main() -> tuple[PlanRun, bool]:
        record = PlanRun()
        STARTED.clear()
        with PlanExecutor({"slow": slow, "sync_slow": sync_slow}, FAST) as ex:
            # a scope's deadline, as move_on_after sets one, passed once both tools run (a fixed delay
            # came before the worker thread started the sync tool on a busy machine)
            with anyio.CancelScope() as scope:
                async def deadline() -> None:
                    while STARTED != {"slow", "sync_slow"}:
                        await anyio.sleep(0.005)
                    scope.deadline = anyio.current_time()

                async with anyio.create_task_group() as tasks:
                    tasks.start_soon(deadline)
                    await ex.arun(plan(), run=record)
        return record, scope.cancelled_caught

    record, caught = anyio.run(main)
    assert caught
    check(record)
