"""A callback given as an ``async def`` function is refused where it is given: it was called
without being awaited, so each call of it (every attempt of a run, every cue to commit a group)
was lost without a word, and a quality function's score was a coroutine."""

from __future__ import annotations

import asyncio

import pytest

from toolrouter import ToolMiddleware
from toolrouter.attempt_group import AttemptGroup
from toolrouter.executor import PlanExecutor
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph


async def hook(*args):
    return None


def test_the_plan_executor_refuses_an_async_on_attempt_or_clock() -> None:
    for name in ("on_attempt", "clock"):
        with pytest.raises(TypeError, match=rf"{name}: expected a plain function, got the async function"):
            PlanExecutor({"t": lambda request: 1}, **{name: hook})


def test_a_run_refuses_an_async_on_attempt_before_any_tool_runs() -> None:
    calls = []
    plan = assign_tools(build_task_graph([TaskStep(step_id="s", capability="s")]), {"s": [Candidate("t", 0.9)]})
    with PlanExecutor({"t": calls.append}) as ex:
        with pytest.raises(TypeError, match=r"on_attempt: expected a plain function"):
            asyncio.run(ex.arun(plan, on_attempt=hook))
        with pytest.raises(TypeError, match=r"on_attempt: expected a plain function"):
            ex.run(plan, on_attempt=hook)
    assert calls == []


def test_an_attempt_group_refuses_an_async_on_pending() -> None:
    with ToolMiddleware(seed=0) as tools:
        with pytest.raises(TypeError, match=r"on_pending: expected a plain function"):
            AttemptGroup(tools.learner, on_pending=hook)


def test_the_middleware_refuses_an_async_quality_function() -> None:
    # its score was a coroutine, never awaited: every success of the tool was recorded as its failure
    with ToolMiddleware(seed=0) as tools:
        with pytest.raises(TypeError, match=r"quality: expected a plain function, got the async function"):
            tools.register(lambda: 1, "x", tool_id="t", quality=hook)
        assert tools.tool_ids == [] and "t" not in tools.learner.tools
