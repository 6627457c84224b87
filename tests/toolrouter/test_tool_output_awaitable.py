"""A tool that reported ``ToolOutput(coroutine)`` (a wrapper around an async function that forgot
to await it) succeeded with the coroutine as its output: none of its body ran, the steps after it
got a coroutine object, and the router learned a success. A bare awaitable a sync tool returns is
awaited; one in a report is now the tool's failure, not retried, its coroutine closed."""

from __future__ import annotations

import pytest

from toolrouter import ToolMiddleware
from toolrouter.errors import AllToolsFailedError
from toolrouter.executor import PlanExecutor, ToolOutput
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph


async def answer(request):  # type: ignore[no-untyped-def]
    return 42


def reports(made: list):  # type: ignore[no-untyped-def]
    def sync_report(request):  # type: ignore[no-untyped-def]
        made.append(answer(request))
        return ToolOutput(made[-1], cost=0.1)

    async def async_report(request):  # type: ignore[no-untyped-def]
        return sync_report(request)

    return sync_report, async_report


@pytest.mark.parametrize("kind", [0, 1], ids=["sync", "async"])
def test_a_step_whose_report_holds_a_coroutine_fails(kind: int) -> None:
    made: list = []
    plan = assign_tools(build_task_graph([TaskStep(step_id="a", capability="c")]), {"a": [Candidate("t", 0.9)]})
    with PlanExecutor({"t": reports(made)[kind]}) as executor:
        run = executor.run(plan)
    assert not run.succeeded and run.outputs == {}
    [attempt] = run.attempts  # not retried: it would fail again
    assert "reported a ToolOutput whose value is an awaitable (coroutine)" in attempt.error
    assert made[0].cr_frame is None  # closed: no "coroutine was never awaited" when it is collected


def test_a_routed_call_whose_report_holds_a_coroutine_fails() -> None:
    made: list = []
    with ToolMiddleware(seed=0) as tools:
        tools.register(reports(made)[0], "c", tool_id="w")
        with pytest.raises(AllToolsFailedError, match="w: TypeError: tool 'w' reported a ToolOutput"):
            tools.route("c")("q")
    assert made[0].cr_frame is None
