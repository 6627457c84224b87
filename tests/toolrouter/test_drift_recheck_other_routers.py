"""Routers that share a store each decide their own rechecks: one that decided a recheck took
another router's recheck outcome of the same tool, replayed before its own came, for the answer
to its own. Its own outcome was then learned and stored as an ordinary one (no run of successes
taken for a rise, no restart of a dropped tool found better) and the rechecks were undercounted
everywhere. Now a replayed recheck is counted as another router's, and this router's own outcome
stays its recheck's. (Routers claim a recheck through the store so that one of them runs it,
test_recheck_claims; here the store keeps no claims, as one the routers could not reach when they
decided, so both recheck.)"""

from __future__ import annotations

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.store import MemoryStore, Store

TOOLS = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("a", "b", "c")]
DRIFT = {"kind": "page_hinkley", "recheck_after": 5}


class NoClaims(MemoryStore):
    """A store that keeps no claims: every router gets every recheck."""

    claim = Store.claim
    claimed = Store.claimed


def router(store: MemoryStore, seed: int, name: str = "learner") -> ToolMetaLearner:
    return ToolMetaLearner(TOOLS, seed=seed, store=store, drift_detection=DRIFT, sync_every=None, snapshot_name=name)


def record(r: ToolMetaLearner, tool: str) -> None:
    r.record_attempt(ExecutionResult(tool_id=tool, step="search", success=True, quality=1.0), capability="search", task_type="news")


def rechecks(r: ToolMetaLearner) -> int:
    return r.tool_statistics("news")["a"].rechecks


def test_another_routers_recheck_replayed_first_leaves_this_ones_recheck_a_recheck() -> None:
    store = NoClaims()
    first, second = router(store, 0), router(store, 1, "second")
    for _ in range(30):
        record(first, "b")  # "a" and "c" are due for rechecks
    second.sync()
    assert first.rank_tool_ids("search", task_type="news")[0] == "a"  # both recheck "a"
    assert second.rank_tool_ids("search", task_type="news")[0] == "a"
    record(first, "a")
    second.sync()  # the first router's recheck outcome comes before the second's own
    record(second, "a")
    assert [(a.tool_id, a.recheck) for a in store.attempts()[-2:]] == [("a", True), ("a", True)]
    first.sync()
    assert rechecks(first) == rechecks(second) == rechecks(router(store, 2, "third")) == 2
    assert not second._routes[("news", "search")].drift["a"].pending  # answered: no later outcome is taken for it
