"""A set given where a profile takes a list: its order is the process's hash order. A task's
``required_capabilities`` (its steps, in order) and ``features`` (a vector) were taken from a set in
that order, so the steps ran in another order than meant and a repeated feature value vanished; a
tool's ``capabilities`` or a step's ``depends_on`` (whose order means nothing) differed between
processes, so equal profiles made in two processes compared unequal."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from toolrouter import ExecutionResult, TaskProfile, ToolProfile
from toolrouter.models import TaskStep

NAMES = {"search", "llm", "code", "data", "api", "web"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("required_capabilities", {"search", "llm"}), ("required_capabilities", frozenset({"search"})), ("features", {0.0, 1.0})],
)
def test_an_ordered_field_refuses_a_set_naming_it(field, value) -> None:
    with pytest.raises(ValidationError, match=rf"{field}: expected a list, in order \(a set has none\)"):
        TaskProfile(task_id="t", **{field: value})


def test_names_whose_order_means_nothing_are_taken_from_a_set_sorted() -> None:
    assert ToolProfile(tool_id="a", capabilities=NAMES).capabilities == tuple(sorted(NAMES))
    assert TaskStep(step_id="s", capability="c", depends_on=frozenset(NAMES)).depends_on == tuple(sorted(NAMES))
    assert ExecutionResult(tool_id="a", success=True, depends_on=NAMES).depends_on == tuple(sorted(NAMES))
    # lists keep their order
    assert TaskProfile(task_id="t", required_capabilities=["web", "api"]).required_capabilities == ("web", "api")
    assert ToolProfile(tool_id="a", capabilities=["web", "api"]).capabilities == ("web", "api")
