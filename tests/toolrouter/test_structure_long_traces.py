"""A trace recorded attempt by attempt is checked by what each attempt adds, not as a whole."""

from __future__ import annotations

import pytest

import toolrouter.structure as structure
from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.errors import InvalidOutcomeError


def test_each_attempt_of_a_long_trace_checks_only_the_steps_it_adds(monkeypatch: pytest.MonkeyPatch) -> None:
    # every attempt checked the whole trace for cycles (and copied it twice): n attempts of one
    # trace cost O(n^2), 3,000 of them about 30 s
    checked: list[int] = []
    cycle = structure._cycle

    def counted(steps):  # type: ignore[no-untyped-def]
        checked.append(len(steps))
        return cycle(steps)

    monkeypatch.setattr(structure, "_cycle", counted)
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search", "analysis"])], seed=0)
    task = TaskProfile(task_id="t", task_type="research")
    for i in range(200):
        router.learn_from_execution(task, [ExecutionResult(tool_id="web", step=f"s{i}", capability="search", success=True)],
                                    trace_id="conversation")  # fmt: skip
    assert checked == [1] * 200
    # the checks still see the whole trace: a retry keeps its capability and parents, a parent is a step of it
    with pytest.raises(InvalidOutcomeError, match=r"capability: step 's3' served 'search' earlier in this trace"):
        router.learn_from_execution(task, [ExecutionResult(tool_id="web", step="s3", capability="analysis", success=True)],
                                    trace_id="conversation")  # fmt: skip
    with pytest.raises(InvalidOutcomeError, match=r"depends_on: step 's3' consumed \['s2'\] earlier"):
        router.learn_from_execution(task, [ExecutionResult(tool_id="web", step="s3", depends_on=["s1"], success=True)],
                                    trace_id="conversation")  # fmt: skip
    with pytest.raises(InvalidOutcomeError, match=r"consumes 'x', which is not a step of this trace"):
        router.learn_from_execution(task, [ExecutionResult(tool_id="web", step="new", capability="search", depends_on=["s0", "x"],
                                                           success=True)], trace_id="conversation")  # fmt: skip
    router.learn_from_execution(task, [ExecutionResult(tool_id="web", step="s3", success=False)], trace_id="conversation")
    steps = router.trace_steps("conversation")
    assert len(steps) == 200 and steps[3].depends_on == ("s2",) and steps[3].capability == "search"
