"""``ExecutionResult._of_attempt``, the attempt loop's constructor that skips validation, builds
the same object as the validating constructor: a pydantic upgrade that changed what a model
instance holds would fail here, not in a user's hands."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from toolrouter.models import MAX_ERROR_CHARS, ExecutionResult


@pytest.mark.parametrize(
    "fields",
    [
        {"tool_id": "web", "step": "search", "success": True, "quality": None, "cost": 0.0, "latency_s": 0.25, "error": None},
        {"tool_id": "web", "step": "search", "success": True, "quality": 0.4, "cost": 2, "latency_s": 1, "error": None},
        {"tool_id": "db", "step": "main", "success": False, "quality": 0.0, "cost": 0.5, "latency_s": 3.0, "error": "TimeoutError: slow"},
        {"tool_id": "db", "step": "main", "success": False, "quality": 0.0, "cost": 0.0, "latency_s": 0.0, "error": "x" * (MAX_ERROR_CHARS + 10)},
    ],
)
def test_the_unvalidated_constructor_builds_what_validation_builds(fields: dict) -> None:
    fast = ExecutionResult._of_attempt(**fields)
    checked = ExecutionResult(**fields).model_copy(update={"timestamp": fast.timestamp})
    assert fast == checked
    assert fast.model_dump() == checked.model_dump()
    assert fast.model_dump_json() == checked.model_dump_json()
    assert fast.model_fields_set == ExecutionResult(**fields).model_fields_set
    assert repr(fast) == repr(checked) and hash(fast) == hash(checked)
    assert type(fast.cost) is float and type(fast.latency_s) is float
    assert len(fast.error or "") <= MAX_ERROR_CHARS
    assert fast.model_copy(update={"step": "other"}).step == "other"
    with pytest.raises(ValidationError):
        fast.success = False  # frozen, as a validated instance is
    assert ExecutionResult.model_validate(fast.model_dump()) == fast
