"""A tool's metadata is saved with the router's state as JSON: a value JSON cannot hold as it is
(NaN, inf, a set, a datetime) was taken, then read back as null, a list or a string, so the loaded
router held another profile than the one given. Such a value is refused when the profile is made."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest
from pydantic import ValidationError

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile


@pytest.mark.parametrize("value", [math.nan, math.inf, {"a"}, datetime(2026, 1, 1, tzinfo=timezone.utc), [1, {"x": -math.inf}]])
def test_a_value_the_saved_state_would_change_is_refused(value) -> None:
    with pytest.raises(ValidationError, match="metadata\n.*every value must be JSON-able"):
        ToolProfile(tool_id="a", metadata={"k": value})


def test_the_metadata_kept_is_read_back_as_given(tmp_path) -> None:
    profile = ToolProfile(tool_id="a", capabilities=["s"], metadata={"owner": "ops", "limits": [1, 2.5, None], "on": True})
    store = f"sqlite:///{tmp_path / 'r.db'}"
    router = ToolMetaLearner([profile], store=store)
    router.learn_from_execution(TaskProfile(task_id="t", required_capabilities=["s"]), [ExecutionResult(tool_id="a", step="s", success=True)])
    router.save()
    router.close()
    again = ToolMetaLearner(store=store)
    try:
        assert again.tools["a"] == profile
    finally:
        again.close()
