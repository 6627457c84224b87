"""A generator function (sync or async, or a partial of one) cannot be a tool: its call runs none
of its body. ``ToolMiddleware.register`` refused it; ``PlanExecutor`` took it, and its step
"succeeded" with a generator that never ran."""

from __future__ import annotations

import functools

import pytest

from toolrouter.executor import PlanExecutor


def pages(request):
    yield "a page"


async def async_pages(request):
    yield "a page"


@pytest.mark.parametrize("tool", [pages, async_pages, functools.partial(pages)])
def test_the_plan_executor_refuses_a_generator_function(tool) -> None:
    with pytest.raises(TypeError, match=r"tools\['web'\]: .* is a generator function.*return its items"):
        PlanExecutor({"web": tool, "ok": lambda request: 1})

