"""A ``TaskGraphLibrary`` full at ``max_structures`` still learns a new structure: its
``max(1, max_structures // 8)`` most recently run are on probation, never dropped. Sparing only the
one just run, a library whose structures had two successes each dropped a new one (one success, the
fewest) as soon as another new one was run, so a new plan run between one-offs never got proposed."""

from __future__ import annotations

from toolrouter import TaskGraphLibrary


def chain(*capabilities: str) -> list[dict]:
    return [{"step_id": f"s{i}", "capability": c, "depends_on": [f"s{i - 1}"] if i else []}
            for i, c in enumerate(capabilities)]


def test_a_new_structure_run_between_one_offs_is_kept_and_proposed() -> None:
    lib = TaskGraphLibrary(max_structures=16)  # probation: 16 // 8 = 2
    for _ in range(2):
        for i in range(16):
            lib.record_run("qa", chain(f"old{i}"), succeeded=True)
    for i in range(3):
        lib.record_run("qa", chain("search", "answer"), succeeded=True)
        lib.record_run("qa", chain(f"once{i}"), succeeded=True)
    outcomes = {tuple(s.capability for s in steps): (n, wins) for steps, n, wins in lib.outcomes("qa")}
    assert len(outcomes) == 16 and outcomes[("search", "answer")] == (3, 3)
    assert [s.capability for s in lib.propose("qa")] == ["search", "answer"]
    # the least useful older ones went: the earliest run among equals, and the one-offs but the newest
    assert ("old0",) not in outcomes and ("once0",) not in outcomes and ("once2",) in outcomes
    copy = TaskGraphLibrary()
    copy.load_state_dict(lib.state_dict())
    assert copy.state_dict() == lib.state_dict()
    copy.record_run("qa", chain("later"), succeeded=False)
    lib.record_run("qa", chain("later"), succeeded=False)
    assert copy.state_dict() == lib.state_dict()  # the loaded order keeps the same ones on probation
