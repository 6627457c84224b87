"""A due drift recheck is decided only for a tool the middleware can call: one the router knows
but the middleware has no function for (detached, or resumed from a store before ``attach``) was
put first, skipped by the middleware, its recheck never run, and, claimed, it waited a full
``recheck_after`` once its function was back."""

from __future__ import annotations

from toolrouter import ToolMiddleware


def good(query: str) -> str:
    return query


def bad(query: str) -> str:
    raise ConnectionError("down")


def gone(query: str) -> str:
    raise ConnectionError("down")


def test_a_tool_without_a_function_keeps_its_due_recheck_for_when_it_is_back() -> None:
    tools = ToolMiddleware(seed=0, drift_detection={"recheck_after": 10})
    for fn in (good, bad, gone):
        tools.register(fn, "search")

    def first_tries(calls: int) -> list[str]:
        return [tools.route("search").run("q").attempts[0].tool_id for _ in range(calls)]

    assert "gone" in first_tries(40)  # rechecked while it could be called
    tools.detach("gone")
    assert "gone" not in first_tries(15)  # its recheck fell due meanwhile: it could not run
    tools.attach(gone, "gone")
    assert first_tries(1) == ["gone"]  # overdue: rechecked at once
