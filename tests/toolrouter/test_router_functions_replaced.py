"""``router.functions`` assigned anew: the executor ``execute`` keeps from call to call calls the
functions assigned, not those of the mapping it held when it was made."""

from __future__ import annotations

import pytest

from toolrouter.learner import ToolMetaLearner
from toolrouter.models import TaskProfile, ToolProfile

TASK = TaskProfile(task_id="t", required_capabilities=["search"])


def test_functions_assigned_anew_are_the_ones_called() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
    router.functions["web"] = lambda request: "old"
    assert router.execute(TASK).outputs == {"search": "old"}
    router.functions = {"web": lambda request: "new"}
    assert router.execute(TASK).outputs == {"search": "new"}
    router.functions = {}  # as a router that never had any: refused before any tool runs
    with pytest.raises(ValueError, match=r"^tools: give the tool functions, or register them in learner.functions \(got \{\}\)$"):
        router.execute(TASK)
    assert router.tool_statistics()["web"].calls == 2
