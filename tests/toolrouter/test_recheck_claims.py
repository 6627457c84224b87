"""Routers sharing a store each started the same due recheck: a recheck in flight is in no log until
its outcome is, so every router that decided before that outcome came put the same tool first, and
n routers made n rechecks for each one due. Now a router claims the recheck through the store
(``Store.claim``, turn by turn); one that lost the claim rechecks the next tool due, or none, and
waits for the winner's outcome or a full ``recheck_after`` before it claims that tool again."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolrouter import ExecutionResult, TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.errors import BudgetInfeasibleError
from toolrouter.store import SQLiteStore, Store, open_store

TOOLS = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("a", "b", "c")]
DRIFT = {"kind": "page_hinkley", "recheck_after": 5, "recheck_grace": 0}


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def handles(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    """One store of each kind, opened twice (as two processes would; ``memory://`` is one object)."""
    if request.param == "memory":
        store = open_store("memory://")
        yield store, store
        store.close()
        return
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else f"sqlite:///{tmp_path / 'r.db'}"
    with open_store(url) as one, open_store(url) as other:
        yield one, other


def test_a_turn_goes_to_one_claimant_and_bad_input_is_refused_naming_it(handles: tuple[Store, Store]) -> None:
    store, other = handles
    assert store.claimed("x") == 0
    assert store.claim("x", 1) and not other.claim("x", 1)
    assert other.claim("x", 3) and not store.claim("x", 2) and not store.claim("x", 3)
    assert store.claimed("x") == other.claimed("x") == 3 and store.claim("y", 1)  # names apart
    for name, turn, error, field in ((1, 1, TypeError, "name"), ("a\x00", 1, ValueError, "name"),
                                     ("x", 0, ValueError, "turn"), ("x", 4.0, ValueError, "turn"),
                                     ("x", True, ValueError, "turn"), ("x" * 501, 1, ValueError, "name")):
        with pytest.raises(error, match=f"^{field}: "):
            store.claim(name, turn)
    assert store.claimed("x") == 3  # left as it was


def router(url: str | Store, seed: int) -> ToolMetaLearner:
    return ToolMetaLearner(TOOLS, seed=seed, store=url, drift_detection=DRIFT, sync_every=None, snapshot_name=f"r{seed}")


def record(r: ToolMetaLearner, tool: str) -> None:
    r.record_attempt(ExecutionResult(tool_id=tool, step="search", success=True, quality=1.0), capability="search", task_type="news")


def first(r: ToolMetaLearner) -> str:
    return r.rank_tool_ids("search", task_type="news")[0]


def recheck(r: ToolMetaLearner, task_type: str = "news") -> str | None:
    """The tool a decision rechecks (scored as one never tried), or None."""
    top = r.rank_tools("search", task_type=task_type).candidates[0]
    return top.tool_id if top.score == float("inf") else None


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_routers_on_one_store_share_a_due_recheck_instead_of_each_running_it(kind: str, tmp_path: Path) -> None:
    store = open_store("memory://") if kind == "memory" else f"sqlite:///{tmp_path / 'r.db'}"
    routers = [router(store, seed) for seed in range(3)]
    for _ in range(30):
        record(routers[0], "b")  # "a" and "c" are due for rechecks
    for r in routers:
        r.sync()
    rechecks = [recheck(r) for r in routers]  # each decides before any recheck's outcome is in the log
    assert rechecks == ["a", "c", None]  # one recheck of each; the third router's choice is its policy's
    chosen = ["a", "c", first(routers[2])]
    for r, tool in zip(routers, chosen):
        record(r, tool)
    log = routers[0].store.attempts()[-3:]
    assert [(a.tool_id, a.recheck) for a in log] == [("a", True), ("c", True), (chosen[2], False)]
    for r in routers:
        r.sync()
        stats = r.tool_statistics("news")
        assert (stats["a"].rechecks, stats["c"].rechecks) == (1, 1)
    for r in routers:
        r.close()


def test_a_recheck_whose_outcome_never_comes_is_taken_over_after_a_full_interval(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    gone, other = router(url, 0), router(url, 1)
    for _ in range(30):
        record(other, "b")
    gone.sync()
    assert recheck(gone) == "a"  # claimed; its call is never reported
    gone.close()
    assert recheck(other) == "c"  # "a" is another's recheck
    record(other, "c")
    for _ in range(DRIFT["recheck_after"] - 1):
        assert recheck(other) is None  # "a" waits for the outcome that never comes
        record(other, "b")
    assert recheck(other) == "a"  # a full interval later: the next turn of "a" is this router's
    record(other, "a")
    assert other.store.attempts()[-1].recheck and other.tool_statistics("news")["a"].rechecks == 1
    other.close()


def test_a_plan_that_failed_after_claiming_a_recheck_leaves_the_recheck_to_its_router() -> None:
    store = open_store("memory://")
    priced = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0, cost_per_use=1.0) for t in "abc"]
    claimant, other = (
        ToolMetaLearner(priced, seed=s, store=store, drift_detection=DRIFT, sync_every=None, snapshot_name=f"r{s}") for s in (0, 1)
    )
    for _ in range(30):
        record(claimant, "b")
    other.sync()
    task = TaskProfile(task_id="t", task_type="news", required_capabilities=["search"], max_cost=0.001)
    with pytest.raises(BudgetInfeasibleError):
        claimant.optimize_task_execution(task)  # decided the recheck of "a", claimed it, then undone
    assert recheck(claimant) == "a" and recheck(other) == "c"  # the claim is still the claimant's


def test_routers_on_postgresql_share_the_rechecks_of_a_route_with_a_long_name(pg_url: str) -> None:
    routers = [router(pg_url, seed) for seed in range(2)]
    # longer, even compressed, than a key PostgreSQL's index takes (a claim of it failed the decision)
    long = "".join(hashlib.sha256(b"%d" % i).hexdigest() for i in range(200))
    for _ in range(30):
        routers[0].record_attempt(
            ExecutionResult(tool_id="b", step="search", success=True, quality=1.0), capability="search", task_type=long
        )
    routers[1].sync()
    assert recheck(routers[0], long) == "a" and recheck(routers[1], long) != "a"
    assert all(r.store.online for r in routers)  # no claim failed
    for r in routers:
        r.close()


def test_a_version_5_sqlite_store_gets_claims(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    SQLiteStore(path).close()
    conn = sqlite3.connect(path)  # undo versions 6 and 7: a store of version 5 kept no claims nor request keys
    conn.execute("DROP TABLE claims")
    conn.execute("ALTER TABLE attempts DROP COLUMN request_key")
    conn.execute("DROP TABLE tool_removals")  # undo versions 8 to 10 too
    conn.execute("ALTER TABLE attempts DROP COLUMN conversation_id")
    conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with SQLiteStore(path) as s:  # opening migrates it
        assert s.claim("x", 1) and not s.claim("x", 1)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "10"
    conn.close()


def test_a_version_7_postgresql_store_gets_claims(pg_url: str, old_pg_store, pg_schema_version) -> None:  # type: ignore[no-untyped-def]
    old_pg_store(7)
    with open_store(pg_url) as s, open_store(pg_url) as t:  # the first migrates it
        assert s.claim("x", 1) and not t.claim("x", 1) and t.claimed("x") == 1
    assert pg_schema_version() == 14
