"""An error that cannot be printed (its ``__str__`` raises), from a run's ``on_attempt`` or from
the store under a group commit, is reported as what it is: writing its message raised instead,
which ended the plan run (a callback error is only reported) or replaced the store's error."""

from __future__ import annotations

import pytest

from toolrouter import ToolMiddleware
from toolrouter.attempt_group import AttemptGroup
from toolrouter.executor import PlanExecutor
from toolrouter.models import TaskStep
from toolrouter.planner import Candidate, assign_tools, build_task_graph


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message")


def hook(result):
    raise Unprintable


def test_an_unprintable_on_attempt_error_is_reported_and_the_run_goes_on() -> None:
    plan = assign_tools(build_task_graph([TaskStep(step_id="s", capability="s")]), {"s": [Candidate("t", 0.9)]})
    with PlanExecutor({"t": lambda request: 1}, on_attempt=hook) as ex:
        run = ex.run(plan)
        assert run.outputs == {"s": 1} and len(run.attempts) == 1
        assert run.callback_errors == ["on_attempt raised Unprintable: <unprintable message: str() raised RuntimeError>"]
        assert ex.run(plan, on_attempt=hook).callback_errors == run.callback_errors * 2


def test_an_unprintable_store_error_reaches_the_group_and_its_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    with ToolMiddleware(seed=0) as tools:
        tools.register(lambda text: text, "echo", tool_id="echo")
        group = AttemptGroup(tools.learner)
        member = group.join()
        assert tools.route("echo", group=member).run("hi").value == "hi"

        def refuse(pending):
            raise Unprintable

        monkeypatch.setattr(tools.learner, "record_attempts", refuse)
        with pytest.raises(Unprintable):
            group.commit()
        assert isinstance(member.error, Unprintable)
