"""A recheck counts when its outcome is learned: a live router, one reopened on its store and one
syncing from it count the same rechecks, whatever calls were cancelled or never reported."""

from __future__ import annotations

import numpy as np

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.models import CANCELLED_BY_CALLER
from toolrouter.store import MemoryStore

TOOLS = [ToolProfile(tool_id=t, capabilities=("search",), expected_latency_s=0.0) for t in ("a", "b", "c")]
DRIFT = {"recheck_after": 5}


def router(store: MemoryStore, seed: int, name: str = "learner") -> ToolMetaLearner:
    return ToolMetaLearner(TOOLS, seed=seed, store=store, drift_detection=DRIFT, sync_every=None, snapshot_name=name)


def rechecks(r: ToolMetaLearner) -> dict[str, int]:
    return {t: s.rechecks for t, s in r.tool_statistics().items()}


def test_rechecks_whose_call_was_cancelled_or_never_reported_are_not_counted() -> None:
    store = MemoryStore()
    live, syncing = router(store, 0), router(store, 1, "syncing")
    rng = np.random.default_rng(0)
    decided = 0
    for i in range(200):
        ranking = live.rank_tool_ids("search", task_type="news")
        tool = ranking[0]
        decided += ranking.recheck is not None
        if ranking.recheck is not None and i % 3 == 0:
            continue  # the call never reports (its process died, or the caller dropped it)
        ok = bool(rng.random() < {"a": 0.9, "b": 0.5, "c": 0.2}[tool])
        cancelled = ranking.recheck is not None and i % 3 == 1
        result = ExecutionResult(
            tool_id=tool, step="search", success=ok and not cancelled, quality=float(ok), error=CANCELLED_BY_CALLER if cancelled else None
        )
        live.record_attempt(result, capability="search", task_type="news")
    stored = sum(a.recheck for a in store.attempts())
    # every decision was counted, 2 in 3 of them tried nothing, and a router relearning the log
    # (reopened, or another one syncing from it) counted fewer than the live one
    assert sum(rechecks(live).values()) == stored < decided
    assert rechecks(router(store, 2, "reopened")) == rechecks(live)
    syncing.sync()
    assert rechecks(syncing) == rechecks(live)
