"""An attempt at a declared step, in a trace spread over calls, before the steps it is declared to
consume is refused as the same attempt of a task without declared steps is, naming it, and nothing
is recorded: it was learned with its parents dropped, a step of its own, and the trace taught the
task type two independent steps."""

from __future__ import annotations

import pytest

from test_declared_partial_reports import ANALYSIS, SEARCH, TOOLS
from test_declared_partial_reports import DECLARED as TASK
from toolrouter import ToolMetaLearner
from toolrouter.errors import InvalidOutcomeError


def test_a_step_before_its_declared_parent_in_a_trace_is_refused_and_changes_nothing() -> None:
    router = ToolMetaLearner(TOOLS, seed=0, store="memory://")
    with pytest.raises(InvalidOutcomeError, match=r"^execution_results\[0\]\.depends_on: step 'analysis' consumes 'search', which is not"):
        router.learn_from_execution(TASK, [ANALYSIS.model_copy(update={"success": False}), ANALYSIS], trace_id="run")
    assert router.trace_steps("run") == () and router.store.attempts() == []
    assert router.tool_statistics("research")["calc"].calls == 0
    router.learn_from_execution(TASK, [SEARCH], trace_id="run")
    router.learn_from_execution(TASK, [ANALYSIS], trace_id="run")  # after its parent: learned as declared
    assert [(s.step, s.depends_on) for s in router.trace_steps("run")] == [("search", ()), ("analysis", ("search",))]
    assert list(router.structures.summary("research")["dependencies"]) == ["search -> analysis"]
