"""Group commit (``AttemptGroup``): the attempts of concurrent calls are checked as they end and
recorded together, in one store transaction, when the group commits; a commit the store refuses
records none of them and tells each of their calls."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from pathlib import Path

import pytest

from toolrouter import ExecutionResult, ToolMiddleware
from toolrouter.attempt_group import AttemptGroup
from toolrouter.store.base import AttemptRecord
from toolrouter.store.sqlite import SQLiteStore


class CountingStore(SQLiteStore):
    """An SQLite store that counts its appends and refuses the next ``fail`` of them."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.appends: list[int] = []  # records per append that went through
        self.fail = 0

    def append(self, records: Sequence[AttemptRecord]) -> list[int]:
        if self.fail:
            self.fail -= 1
            raise sqlite3.OperationalError("disk I/O error")
        ids = super().append(records)
        self.appends.append(len(records))
        return ids


def middleware(store: CountingStore) -> ToolMiddleware:
    tools = ToolMiddleware(seed=0, store=store)

    async def good(query: str) -> str:
        await asyncio.sleep(0)
        return query

    async def bad(query: str) -> str:
        await asyncio.sleep(0)
        raise RuntimeError("down")

    tools.register(good, "search", tool_id="good")
    tools.register(bad, "search", tool_id="bad")
    return tools


def counts(tools: ToolMiddleware) -> dict[str, tuple[int, int]]:
    return {t: (s.calls, s.successes) for t, s in tools.learner.tool_statistics().items()}


async def calls(tools: ToolMiddleware, n: int, group: AttemptGroup | None) -> list:
    routed = [tools.route("search", group=None if group is None else group.join()) for _ in range(n)]
    return await asyncio.gather(*(r.arun(f"q{i}") for i, r in enumerate(routed)))


def test_the_attempts_of_concurrent_calls_are_recorded_in_one_transaction(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "grouped.db")
    tools = middleware(store)
    group = AttemptGroup(tools.learner)
    outcomes = asyncio.run(calls(tools, 8, group))
    attempts = sum(len(o.attempts) for o in outcomes)
    assert attempts > 8  # some calls tried "bad" first and fell back
    # checked, not recorded: nothing in the store, nothing learned
    assert len(group) == attempts and store.count() == 0 and counts(tools) == {"good": (0, 0), "bad": (0, 0)}
    assert group.commit() == attempts
    assert store.appends == [attempts] and len(group) == 0 and group.commit() == 0
    # the same as recording each attempt on its own, as a call without a group does
    alone = middleware(CountingStore(tmp_path / "alone.db"))
    asyncio.run(calls(alone, 8, None))
    assert alone.learner.store.appends == [1] * attempts
    assert counts(tools) == counts(alone) == {"good": (8, 8), "bad": (attempts - 8, 0)}
    assert [(r.tool_id, r.success, r.error) for r in store.attempts()] == [
        (r.tool_id, r.success, r.error) for r in alone.learner.store.attempts()
    ]


def test_a_commit_the_store_refuses_records_nothing_and_tells_its_calls(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "g.db")
    tools = middleware(store)
    pending_calls: list[int] = []
    group = AttemptGroup(tools.learner, on_pending=lambda: pending_calls.append(len(pending_calls)))
    first = group.join()
    asyncio.run(tools.route("search", group=first).arun("a"))
    assert pending_calls == [0]  # the cue to commit, once for an empty group
    state = tools.learner.state_bytes()
    store.fail = 1
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        group.commit()
    assert isinstance(first.error, sqlite3.OperationalError)
    assert store.count() == 0 and tools.learner.state_bytes() == state and len(group) == 0
    # the next commit records the calls since, which know of no failure
    second = group.join()
    outcome = asyncio.run(tools.route("search", group=second).arun("b"))
    assert pending_calls == [0, 1]
    assert group.commit() == len(outcome.attempts) == store.count() and second.error is None
    assert sum(c for c, _ in counts(tools).values()) == len(outcome.attempts)


def test_record_attempts_takes_only_checked_attempts_and_changes_nothing_when_refused(tmp_path: Path) -> None:
    tools = middleware(CountingStore(tmp_path / "g.db"))
    learner = tools.learner
    good = learner.check_attempt(ExecutionResult(tool_id="good", step="search", success=True), capability="search")
    assert learner.store.count() == 0 and counts(tools)["good"] == (0, 0)  # checking changes nothing
    with pytest.raises(TypeError, match=r"pending\[1\]: expected a PendingAttempt"):
        learner.record_attempts([good, "good"])  # type: ignore[list-item]
    assert learner.store.count() == 0
    with pytest.raises(ValueError, match=r"pending\[1\]: this attempt is already recorded"):
        learner.record_attempts([good, good])  # one attempt, stored and learned twice: a double count
    assert learner.store.count() == 0 and counts(tools)["good"] == (0, 0)
    learner.record_attempts([good])
    with pytest.raises(ValueError, match=r"pending\[0\]: this attempt is already recorded"):
        learner.record_attempts([good])
    assert learner.store.count() == 1 and counts(tools)["good"] == (1, 1)


def test_route_refuses_a_group_it_cannot_use(tmp_path: Path) -> None:
    tools = middleware(CountingStore(tmp_path / "a.db"))
    other = middleware(CountingStore(tmp_path / "b.db"))
    with pytest.raises(TypeError, match="group: expected a GroupMember"):
        tools.route("search", group=AttemptGroup(tools.learner))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="group: .* another router"):
        tools.route("search", group=AttemptGroup(other.learner).join())
    with pytest.raises(ValueError, match="group: a traced call"):
        tools.route("search", trace_id="t1", group=AttemptGroup(tools.learner).join())


def test_an_attempt_one_call_cannot_add_is_refused_there_not_at_every_calls_commit(tmp_path: Path) -> None:
    # an attempt queued twice, one already recorded, or something else was taken, and the commit
    # then failed for the whole group: the other calls' attempts were lost and each was told of
    # a mistake not its own
    tools = middleware(CountingStore(tmp_path / "g.db"))
    group = AttemptGroup(tools.learner)
    other = group.join()
    outcome = asyncio.run(tools.route("search", group=other).arun("a"))
    mistaken = group.join()
    attempt = tools.learner.check_attempt(ExecutionResult(tool_id="good", step="search", success=True), capability="search")
    mistaken.add(attempt)
    with pytest.raises(ValueError, match="pending: this attempt is already recorded or queued"):
        mistaken.add(attempt)
    with pytest.raises(TypeError, match="pending: expected a PendingAttempt from check_attempt, got 'good'"):
        mistaken.add("good")  # type: ignore[arg-type]
    assert group.commit() == len(outcome.attempts) + 1 == tools.learner.store.count()
    assert other.error is None and mistaken.error is None
    with pytest.raises(ValueError, match="already recorded"):
        mistaken.add(attempt)
    assert len(group) == 0


def test_an_on_pending_that_raises_leaves_its_call_failed_and_its_attempt_unrecorded(tmp_path: Path) -> None:
    # the call raised the cue's error, yet its attempt waited in the group and the next commit
    # recorded it: the router learned from a call its caller saw fail, and no commit was cued
    store = CountingStore(tmp_path / "g.db")
    tools = middleware(store)
    cues: list[int] = []

    def on_pending() -> None:
        cues.append(len(cues))
        if len(cues) == 1:
            raise RuntimeError("no event loop to schedule the commit on")

    group = AttemptGroup(tools.learner, on_pending=on_pending)
    with pytest.raises(RuntimeError, match="no event loop"):
        asyncio.run(tools.route("search", group=group.join()).arun("a"))
    assert len(group) == 0 and group.commit() == 0 and store.count() == 0
    # the next attempt cues again, and only its call is recorded
    outcome = asyncio.run(tools.route("search", group=group.join()).arun("b"))
    assert cues == [0, 1] and group.commit() == len(outcome.attempts) == store.count()


def test_an_on_pending_that_commits_then_raises_leaves_its_call_its_outcome(tmp_path: Path) -> None:
    # the cue's commit stored and learned the attempt, yet the call raised the cue's error: its
    # caller lost a result the router had recorded, and a failed tool was not fallen back from
    store = CountingStore(tmp_path / "g.db")
    tools = middleware(store)
    group: AttemptGroup

    def on_pending() -> None:
        group.commit()
        raise RuntimeError("scheduled twice")

    group = AttemptGroup(tools.learner, on_pending=on_pending)
    member = group.join()
    for query in ("a", "b", "c"):
        outcome = asyncio.run(tools.route("search", group=member).arun(query))
        assert outcome.value == query and outcome.tool_id == "good"
    assert member.error is None and len(group) == 0
    assert sum(calls for calls, _ in counts(tools).values()) == store.count() == len(store.appends) >= 3
