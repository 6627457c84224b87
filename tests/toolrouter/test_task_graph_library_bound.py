"""``TaskGraphLibrary`` keeps at most ``max_structures`` structures per task type. It kept every
structure ever run, per task type, and a router saved them all in every snapshot: with step ids
made per request that grew without bound. The ones that keep succeeding stay."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolrouter import TaskGraphLibrary, TaskProfile, TaskStep, ToolMetaLearner, ToolProfile

STEADY = [{"step_id": "search", "capability": "search"},
          {"step_id": "answer", "capability": "llm", "depends_on": ["search"]}]


def one_off(i: int) -> list[dict]:
    return [{"step_id": f"search-{i}", "capability": "search"}]


def test_one_off_structures_take_turns_and_the_steady_one_stays() -> None:
    lib = TaskGraphLibrary(max_structures=4)
    for _ in range(2):
        lib.record_run("qa", STEADY, succeeded=True)
    lib.record_run("qa", one_off(-1), succeeded=False)
    for i in range(100):
        lib.record_run("qa", one_off(i), succeeded=True)
    outcomes = lib.outcomes("qa")
    assert len(outcomes) == 4 and len(lib.state_dict()["runs"]["qa"]) == 4
    assert [s.step_id for s in outcomes[0][0]] == ["search", "answer"] and outcomes[0][1:] == (2, 2)
    # the latest one-offs hold the other places; the failed one went first
    assert sorted(s[0].step_id for s, _, _ in outcomes[1:]) == ["search-97", "search-98", "search-99"]
    assert [s.step_id for s in lib.propose("qa")] == ["search", "answer"]
    assert len(lib._structures) == 4  # the forgotten structures' steps are gone too


def test_a_structure_forgotten_by_one_task_type_stays_for_another() -> None:
    lib = TaskGraphLibrary(max_structures=1)
    lib.record_run("a", STEADY, succeeded=True)
    lib.record_run("b", STEADY, succeeded=True)
    lib.record_run("a", one_off(0), succeeded=True)
    assert [s[0].step_id for s, _, _ in lib.outcomes("a")] == ["search-0"]
    ((steps, runs, wins),) = lib.outcomes("b")
    assert [s.step_id for s in steps] == ["search", "answer"] and (runs, wins) == (1, 1)
    with pytest.raises(ValueError, match="max_structures: expected an integer >= 1, got 0"):
        TaskGraphLibrary(max_structures=0)


def test_a_state_saved_without_the_limit_loads_keeping_the_best() -> None:
    old = {"min_support": 2, "templates": {},
           "runs": {"qa": [{"steps": one_off(i), "runs": 1, "successes": 1} for i in range(100)]
                    + [{"steps": STEADY, "runs": 5, "successes": 4}]}}
    lib = TaskGraphLibrary()
    lib.load_state_dict(old)
    outcomes = lib.outcomes("qa")
    assert lib.max_structures == 64 and len(outcomes) == 64
    assert [s.step_id for s in outcomes[0][0]] == ["search", "answer"] and outcomes[0][1:] == (5, 4)
    assert outcomes[-1][0][0].step_id == "search-99"  # the latest saved of the one-offs
    smaller = TaskGraphLibrary()
    smaller.load_state_dict({**lib.state_dict(), "max_structures": 2})
    assert smaller.max_structures == 2 and len(smaller.outcomes("qa")) == 2
    copy = TaskGraphLibrary()
    copy.load_state_dict(smaller.state_dict())
    assert copy.state_dict() == smaller.state_dict()


def test_a_routers_snapshot_holds_the_bounded_library(tmp_path: Path) -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
    router.functions["web"] = lambda request: "pages"
    router.graphs = TaskGraphLibrary(max_structures=3)
    for i in range(10):  # step ids made per request
        steps = [TaskStep(step_id=f"search-{i}", capability="search")]
        assert router.execute(TaskProfile(task_id=f"t{i}", task_type="qa", steps=steps), "q").succeeded
    router.save(tmp_path / "router.safetensors")
    loaded = ToolMetaLearner.load(tmp_path / "router.safetensors")
    assert loaded.graphs.max_structures == 3
    assert [s[0].step_id for s, _, _ in loaded.graphs.outcomes("qa")] == ["search-7", "search-8", "search-9"]
