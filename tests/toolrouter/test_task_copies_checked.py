"""``TaskProfile.model_copy(update=...)`` set the update unchecked, as pydantic's copy does:
``required_capabilities="search"`` became the six one-letter steps ``('s', 'e', 'a', 'r', 'c', 'h')``,
and a negative ``max_cost`` or a misspelt field was kept. The update is now checked as
``TaskProfile(...)`` checks it, naming the field, the task left as it was."""

from __future__ import annotations

import pytest

from toolrouter import TaskProfile, TaskStep

TASK = TaskProfile(task_id="t", metadata={"owner": "dev"})


def test_a_bare_capability_is_one_step() -> None:
    assert TASK.model_copy(update={"required_capabilities": "search"}).required_capabilities == ("search",)


@pytest.mark.parametrize(
    "update, name",
    [
        ({"max_cost": -1.0}, "max_cost"),
        ({"required_capabilities": ["search", 3]}, "required_capabilities"),
        ({"steps": (TaskStep(step_id="a", capability="c"),) * 2}, "steps"),
        ({"max_costs": 1.0}, "max_costs"),
    ],
)
def test_a_bad_update_is_refused_naming_its_field(update: dict, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        TASK.model_copy(update=update)
    assert TASK == TaskProfile(task_id="t", metadata={"owner": "dev"})


def test_a_copy_keeps_what_was_set_and_a_deep_one_its_own_metadata() -> None:
    copied = TASK.model_copy(update={"max_cost": 2.0}, deep=True)
    made = TaskProfile(task_id="t", max_cost=2.0, metadata={"owner": "dev"})
    assert copied == TASK.model_copy(update={"max_cost": 2.0}) == made
    assert copied.model_fields_set == {"task_id", "metadata", "max_cost"}
    assert copied.metadata is not TASK.metadata
