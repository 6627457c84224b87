"""Closing a router commits the attempts waiting in its ``AttemptGroup``s: they were lost (the
next commit met a closed store, and every call in the group was told of it), and the group took
attempts that no commit could record any more."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from toolrouter import ExecutionResult, ToolMiddleware
from toolrouter.attempt_group import AttemptGroup
from toolrouter.store.sqlite import SQLiteStore


def middleware(path: Path) -> ToolMiddleware:
    tools = ToolMiddleware(seed=0, store=f"sqlite:///{path}")
    tools.register(lambda text: text, "echo", tool_id="echo")
    return tools


def test_closing_the_router_commits_what_waits_in_its_groups(tmp_path: Path) -> None:
    tools = middleware(tmp_path / "g.db")
    group = AttemptGroup(tools.learner)
    member = group.join()
    assert tools.route("echo", group=member).run("hi").value == "hi"
    late = tools.learner.check_attempt(ExecutionResult(tool_id="echo", step="echo", success=True), capability="echo")
    tools.close()
    assert len(group) == 0 and member.error is None and group.commit() == 0
    with pytest.raises(ValueError, match="closed by ToolMetaLearner.close"):
        group.join().add(late)  # no commit could record it now
    with SQLiteStore(tmp_path / "g.db") as store:
        assert [r.tool_id for r in store.attempts()] == ["echo"]


def test_a_router_closed_from_the_thread_of_its_event_loop_commits_when_its_last_call_ends(tmp_path: Path) -> None:
    tools = middleware(tmp_path / "g.db")
    group = AttemptGroup(tools.learner)

    async def main() -> None:
        started = asyncio.Event()

        async def slow(text: str) -> str:
            started.set()
            await asyncio.sleep(0.01)
            return text

        tools.register(slow, "slow", tool_id="slow")
        call = asyncio.ensure_future(tools.route("slow", group=group.join()).arun("x"))
        await started.wait()
        tools.close()  # returns at once: the call in flight closes the router when it ends
        assert (await call).value == "x"

    asyncio.run(main())
    assert tools.learner.closed and len(group) == 0
    with SQLiteStore(tmp_path / "g.db") as store:
        assert [r.tool_id for r in store.attempts()] == ["slow"]


def test_a_commit_that_fails_at_close_is_raised_and_told_to_its_calls(tmp_path: Path) -> None:
    tools = middleware(tmp_path / "g.db")
    group = AttemptGroup(tools.learner)
    member = group.join()
    tools.route("echo", group=member).run("hi")
    store = tools.learner.store

    def refuse(records):  # type: ignore[no-untyped-def]
        raise sqlite3.OperationalError("disk I/O error")

    store.append = refuse  # type: ignore[method-assign]
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        tools.close()
    assert isinstance(member.error, sqlite3.OperationalError) and tools.learner.closed
