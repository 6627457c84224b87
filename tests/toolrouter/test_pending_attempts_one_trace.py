"""``record_attempts`` of a batch whose attempts belong to one trace checks the trace as a whole:
each attempt was checked alone, against the trace without the others, and a batch that is no
trace (a step that changes its parents or task type between attempts) was recorded half, its
steps' parents resolved as if none of the others had run."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile, ToolType
from toolrouter.attempt_group import AttemptGroup

WEB = ToolProfile(tool_id="web", tool_type=ToolType.SEARCH, capabilities=["search"])
READ = ToolProfile(tool_id="read", tool_type=ToolType.SEARCH, capabilities=["fetch"])


def router() -> ToolMetaLearner:
    return ToolMetaLearner([WEB, READ], seed=0, store="memory://")


def attempt(r: ToolMetaLearner, tool: str, capability: str, step: str, depends_on=None, task_type="t", trace="T"):
    result = ExecutionResult(tool_id=tool, step=step, success=True, depends_on=depends_on)
    return r.check_attempt(result, capability=capability, task_type=task_type, step=step, trace_id=trace)


def test_a_step_that_changes_its_parents_in_the_batch_records_nothing() -> None:
    r = router()
    r.record_attempts([attempt(r, "web", "search", "find")])
    batch = [attempt(r, "read", "fetch", "open", depends_on=[]), attempt(r, "read", "fetch", "open", depends_on=["find"])]
    with pytest.raises(ValueError, match=r"^pending\[1\]\.depends_on: step 'open' consumed \[\] earlier in this trace"):
        r.record_attempts(batch)
    assert r.store.count() == 1 and [s.step for s in r.trace_steps("T")] == ["find"]  # nothing of the batch
    # a group refuses it when it is queued, after an attempt of its step
    group = AttemptGroup(r)
    group.join().add(batch[0])
    with pytest.raises(ValueError, match=r"^pending\.depends_on: step 'open' consumed \[\] earlier in this trace"):
        group.join().add(batch[1])
    assert group.commit() == 1


def test_a_trace_of_two_task_types_in_the_batch_records_nothing() -> None:
    r = router()
    batch = [attempt(r, "web", "search", "find"), attempt(r, "read", "fetch", "open", task_type="u")]
    with pytest.raises(ValueError, match=r"^pending\[1\]\.trace_id: trace 'T' is a trace of task type 't'"):
        r.record_attempts(batch)
    assert r.store.count() == 0 and r.trace_steps("T") == ()
    # a group fails that call alone at the commit (its steps differ: each was queued), and records the other
    group = AttemptGroup(r)
    group.join().add(batch[0])
    refused = group.join()
    refused.add(batch[1])
    assert group.commit() == 1 and str(refused.error).startswith("pending[1].trace_id: trace 'T'")
    assert [s.step for s in r.trace_steps("T")] == ["find"]


def test_steps_of_the_batch_follow_one_another_as_recorded_one_by_one() -> None:
    batched, alone = router(), router()
    batched.record_attempts([attempt(batched, "web", "search", "find"), attempt(batched, "read", "fetch", "open")])
    for tool, capability, step in (("web", "search", "find"), ("read", "fetch", "open")):
        alone.record_attempts([attempt(alone, tool, capability, step)])
    assert batched.trace_steps("T") == alone.trace_steps("T")
    assert batched.trace_steps("T")[1].depends_on == ("find",)
    assert [e.depends_on for e in batched.store.attempts()] == [(), ("find",)]
