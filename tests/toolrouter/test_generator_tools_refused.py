"""A generator function (sync or async, or a partial of one) cannot be a tool: its call runs none
of its body. ``ToolMiddleware.register`` refused it; ``PlanExecutor`` took it, and its step
"succeeded" with a generator that never ran."""

from __future__ import annotations

import functools

import pytest

from toolrouter.errors import AllToolsFailedError
from toolrouter.executor import PlanExecutor
from toolrouter.middleware import ToolMiddleware


def pages(request):
    yield "a page"


async def async_pages(request):
    yield "a page"


@pytest.mark.parametrize("tool", [pages, async_pages, functools.partial(pages)])
def test_the_plan_executor_refuses_a_generator_function(tool) -> None:
    with pytest.raises(TypeError, match=r"tools\['web'\]: .* is a generator function.*return its items"):
        PlanExecutor({"web": tool, "ok": lambda request: 1})



def traced(fn):
    """A decorator as tracing libraries write them: a plain function, whose call returns fn's."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


@pytest.mark.parametrize("tool", [traced(pages), traced(async_pages)])
def test_a_generator_returned_fails_its_attempt_and_the_call_falls_back(tool) -> None:
    # registration cannot tell this wrapper from any function; its call "succeeded" with a
    # generator that never ran, whose repr reached the caller as the value
    with ToolMiddleware(store="memory://", seed=0) as mw:
        mw.register(tool, "web", tool_id="gen")
        with pytest.raises(AllToolsFailedError) as caught:
            mw.route("web").run("q")
        (attempt,) = caught.value.attempts
        assert not attempt.success and "tool 'gen' returned a generator, which runs none of its body" in attempt.error
        mw.register(lambda request: ["a page"], "web", tool_id="list")
        assert {mw.route("web").run("q").value[0] for _ in range(3)} == {"a page"}
        assert mw.learner.tool_statistics()["gen"].successes == 0
