"""A saved task graph library's run history is read under its task types as the library keys them
(stripped, as ``TaskProfile.task_type`` holds them), as its templates are: a type saved with spaces
loaded as a history no task ever reads, and the structure learned for it was lost without a word;
an empty one loaded too."""

from __future__ import annotations

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.models import TaskProfile
from toolrouter.planner import TaskGraphLibrary

STEPS = [{"step_id": "search", "capability": "search"}, {"step_id": "answer", "capability": "llm", "depends_on": ["search"]}]


def saved_under(task_type: str) -> dict:
    library = TaskGraphLibrary(min_support=1)
    library.record_success("qa", STEPS)
    state = library.state_dict()
    state["runs"] = {task_type: state["runs"]["qa"]}
    return state


def test_a_history_saved_under_a_spaced_type_is_read_under_the_type() -> None:
    library = TaskGraphLibrary(min_support=1)
    library.load_state_dict(saved_under(" qa "))
    steps, source = library.steps_for(TaskProfile(task_id="t", task_type="qa"))
    assert source == "history" and [s.step_id for s in steps] == ["search", "answer"]
    assert library.outcomes("qa")[0][1:] == (1, 1)


def test_a_history_saved_under_an_empty_type_is_refused_and_nothing_changes() -> None:
    library = TaskGraphLibrary(min_support=1)
    library.record_success("other", STEPS)
    before = library.state_dict()
    with pytest.raises(CorruptStateError, match=r"^state.runs: task type must be a non-empty string, got ' '$"):
        library.load_state_dict(saved_under(" "))
    assert library.state_dict() == before
