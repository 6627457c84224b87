"""What a conversation ran before a turn is fixed where the turn's trace starts, whenever the
counts are read: a live router counts a trace as it plans, a replay of the store once it ended.
A conversation pushed out of the ``max_conversations`` followed, then started again under its id,
is a new one: the traces of the forgotten one neither add to it nor take from it, also after a
saved state is loaded."""

from __future__ import annotations

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.structure import StructureConfig, StructureModel, TraceStep


def attempt(model: StructureModel, trace_id: str, conversation: str, step: str, ok: bool = True) -> None:
    model.observe(trace_id, "chat", TraceStep(step, step), conversation=conversation, succeeded=ok)


def learned(attempts, read_between: bool, **config) -> StructureModel:
    model = StructureModel(config=StructureConfig(**config))
    for trace_id, conversation, step, ok in attempts:
        attempt(model, trace_id, conversation, step, ok)
        if read_between:  # a router that plans between the attempts counts each trace as it runs
            model.traces()
    return model


def conversations(model: StructureModel) -> tuple[list[int], list]:
    state = model.state()[0]
    return state["conversation"], state["conversations"]


@pytest.mark.parametrize(
    "attempts",
    [
        [  # c1 forgotten between its turns: t3 is the first turn of another conversation
            ("t1", "c1", "login", True),
            ("t2", "c2", "read", False),
            ("t3", "c1", "login", True),
        ],
        [  # t2 counted mid-way by a live router, then not, until it ends after c1 was forgotten
            ("t1", "c1", "login", True),
            ("t2", "c1", "post", True),
            ("t2", "c1", "read", False),
            ("t3", "c2", "login", True),
            ("t2", "c1", "read", True),
        ],
        [  # turns side by side: t2 started after t1 had run login, not post
            ("t1", "c1", "login", True),
            ("t2", "c1", "login", True),
            ("t1", "c1", "post", True),
            ("t2", "c1", "read", True),
        ],
    ],
)
def test_counting_as_the_traces_run_or_once_at_the_end_learns_the_same(attempts) -> None:
    live = learned(attempts, True, max_conversations=1)
    assert conversations(learned(attempts, False, max_conversations=1)) == conversations(live)


def test_a_turn_sees_what_its_conversation_ran_when_it_started() -> None:
    attempts = [("t1", "c1", "login", True), ("t2", "c1", "login", True), ("t1", "c1", "post", True)]
    for read_between in (True, False):
        # t2 ran login again of the login t1 had run: post came after t2 started
        assert conversations(learned(attempts, read_between)) == ([1, 1], [["c1", [["login", 2], ["post", 1]]]])


def forgotten_then_again() -> StructureModel:
    """t1 of c1 still open as c1 is forgotten and a conversation of the same id starts."""
    return learned([("t1", "c1", "login", True), ("t2", "c2", "read", True), ("t3", "c1", "login", True)], True,
                   max_conversations=1)


def test_a_turn_of_a_forgotten_conversation_takes_nothing_back_from_its_new_one() -> None:
    model = forgotten_then_again()
    model.close("t1", finished=False)  # t1 teaches nothing now: its part goes from the c1 it ran in
    assert conversations(model) == ([0, 0], [["c1", [["login", 1]]]])  # t3's part stays


def test_a_saved_state_keeps_a_trace_of_a_forgotten_conversation_apart_from_its_new_one() -> None:
    model = forgotten_then_again()
    state, arrays = model.state()
    restored = StructureModel(config=model.config)
    restored.load_state(state, arrays)
    assert restored.state()[0] == state
    for m in (model, restored):
        m.close("t1", finished=False)
    assert restored.state()[0] == model.state()[0]
    assert conversations(restored) == ([0, 0], [["c1", [["login", 1]]]])  # t3's part stays


def test_a_trace_of_no_conversation_saved_as_forgetting_one_is_refused_naming_the_field() -> None:
    model = forgotten_then_again()
    state, arrays = model.state()
    state["open"][1].update(conversation=None, ran_before=None, forgotten=True)
    restored = StructureModel(config=model.config)
    with pytest.raises(CorruptStateError, match=r"state\.open\[1\]\.forgotten"):
        restored.load_state(state, arrays)
    assert restored.traces() == 0
