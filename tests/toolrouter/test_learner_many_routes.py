"""A router fed a new task type per request (an id, a user's text) warns that its routes keep
growing: at ``MANY_ROUTES`` and at each doubling after, never on every new route."""

from __future__ import annotations

from structlog.testing import capture_logs

import toolrouter.learner as learner_module
from toolrouter import ToolMetaLearner, ToolProfile, ToolType


def test_many_task_types_are_warned_of_once_per_doubling(monkeypatch) -> None:
    monkeypatch.setattr(learner_module, "MANY_ROUTES", 4, raising=False)
    router = ToolMetaLearner({"web": ToolProfile(tool_id="web", tool_type=ToolType.SEARCH)}, seed=0)
    with capture_logs() as events:
        for i in range(17):
            router.rank_tool_ids("search", task_type=f"request-{i}")
        router.rank_tool_ids("search", task_type="request-3")  # an existing route: nothing new
    warned = [(e["routes"], e["task_type"], e["step"], e["log_level"]) for e in events if e["event"] == "many_routes"]
    assert warned == [
        (4, "request-3", "search", "warning"),
        (8, "request-7", "search", "warning"),
        (16, "request-15", "search", "warning"),
    ]
    assert len(router.routes) == 17  # learned state is kept, not dropped
