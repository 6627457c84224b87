"""A traced call named as a step of its own (``route(..., trace_id=..., step=...)``) is ranked by
that step's route, where its attempts are learned: it was ranked by its capability's route, which
learned none of them, so the router never stopped trying a tool that always failed there. A step
the trace refuses is refused before it is ranked, which would make its route for the refused call's
capability."""

from __future__ import annotations

import pytest

from toolrouter import ToolMiddleware


def test_a_named_trace_step_is_ranked_by_what_was_learned_at_it() -> None:
    tools = ToolMiddleware(seed=0)

    def down(query: str) -> str:
        raise ConnectionError("down")

    tools.register(down, "search", tool_id="down")
    tools.register(lambda query: query, "search", tool_id="up")
    firsts = []
    for i in range(40):
        outcome = tools.route("search", task_type="research", trace_id=f"t{i}", step="lookup").run("q")
        firsts.append(outcome.attempts[0].tool_id)
    # explored now and then, not first half the time, as when the route that ranked it learned nothing
    assert firsts.count("down") < 8
    assert set(tools.learner.tool_statistics("research", "lookup")) == {"down", "up"}


def test_a_trace_step_refused_leaves_its_name_free() -> None:
    tools = ToolMiddleware(seed=0)
    tools.register(lambda query: query, "search", tool_id="search")
    tools.register(lambda query: query, "fetch", tool_id="fetch")
    with pytest.raises(ValueError, match="consumes 'nope', which is not a step of this trace"):
        tools.route("search", trace_id="t1", step="lookup", depends_on=["nope"]).run("q")
    assert tools.route("fetch", trace_id="t2", step="lookup").run("q").tool_id == "fetch"
