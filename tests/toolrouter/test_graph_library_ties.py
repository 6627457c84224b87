"""A ``TaskGraphLibrary`` loaded from its state proposes what the saved one did when structures
tie on successes: the tie went to the structure first seen, an order the saved state does not keep,
so a loaded library proposed the other one."""

from __future__ import annotations

from toolrouter.models import TaskProfile
from toolrouter.planner import TaskGraphLibrary

A = [{"step_id": "a", "capability": "search"}]
B = [{"step_id": "b", "capability": "llm"}]
TASK = TaskProfile(task_id="t", task_type="research")


def _reloaded(lib: TaskGraphLibrary) -> TaskGraphLibrary:
    again = TaskGraphLibrary()
    again.load_state_dict(lib.state_dict())
    return again


def test_a_tie_goes_to_the_better_success_rate_before_and_after_a_load() -> None:
    lib = TaskGraphLibrary(min_support=1)
    lib.record_success("research", A)
    lib.record_success("research", B)
    lib.record_run("research", A, succeeded=False)  # A: 1 of 2, B: 1 of 1
    for library in (lib, _reloaded(lib)):
        steps, source = library.steps_for(TASK)
        assert ([s.step_id for s in steps], source) == (["b"], "history")


def test_a_tie_of_successes_and_runs_goes_to_the_latest_run_before_and_after_a_load() -> None:
    lib = TaskGraphLibrary(min_support=1)
    lib.record_success("research", A)
    lib.record_success("research", B)
    lib.record_success("research", A)
    lib.record_success("research", B)
    lib.record_run("research", A, succeeded=False)
    lib.record_run("research", B, succeeded=False)  # 2 of 3 each, B run last
    assert [s.step_id for s in lib.propose("research")] == ["b"]
    assert [s.step_id for s in _reloaded(lib).propose("research")] == ["b"]
