"""A tool's value that cannot be read (its ``__class__`` raises, or claims ``ToolOutput`` without
its fields) is that tool's failure, recorded, and the call falls back: it crashed the attempt loop
as it asked whether the value was awaitable or a ``ToolOutput``, taking the plan run or the
routed call down with it."""

from __future__ import annotations

import asyncio

import pytest

from toolrouter import ToolMiddleware
from toolrouter.attempts import ToolOutput
from toolrouter.executor import ExecutorConfig, PlanExecutor, RetryPolicy
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph

FAST = ExecutorConfig(timeout_s=5.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None)


class NoClass:
    @property  # type: ignore[misc]
    def __class__(self):
        raise RuntimeError("no class")


class FakeReport:
    @property  # type: ignore[misc]
    def __class__(self):
        return ToolOutput


def plan():
    graph = build_task_graph([TaskStep(step_id="s", capability="s")])
    return assign_tools(graph, {"s": [Candidate("odd", 0.9), Candidate("ok", 0.9)]})


async def async_odd(request):
    return NoClass()


@pytest.mark.parametrize("odd", [lambda request: NoClass(), async_odd, lambda request: FakeReport()])
@pytest.mark.parametrize("output_types", [None, {"s": int}])
def test_the_plan_executor_falls_back_from_an_unreadable_value(odd, output_types) -> None:
    with PlanExecutor({"odd": odd, "ok": lambda request: 1}, FAST, output_types=output_types) as ex:
        run = ex.run(plan())
    assert run.outputs == {"s": 1}
    (failed, succeeded) = run.attempts
    assert failed.tool_id == "odd" and not failed.success
    assert failed.error.startswith("TypeError: tool 'odd' returned a value that cannot be read")
    assert succeeded.tool_id == "ok" and succeeded.success


@pytest.mark.parametrize("value", [NoClass, FakeReport])
def test_a_routed_call_falls_back_from_an_unreadable_value(value) -> None:
    with ToolMiddleware(store="memory://", seed=0) as mw:
        mw.register(lambda: value(), "x", tool_id="odd", reliability=1.0)
        mw.register(lambda: "fine", "x", tool_id="ok", reliability=0.01)
        assert mw.call("x") == "fine"
        assert asyncio.run(mw.acall("x")) == "fine"
        attempts = [(a.tool_id, a.success) for a in mw.learner.store.attempts()]
    assert attempts[:2] == [("odd", False), ("ok", True)]
