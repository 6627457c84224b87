"""Attempt records compare and hash by their values, a context by its numbers: the generated
comparison raised on two records with contexts (an array's == has no truth value)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np

from toolrouter.store import AttemptRecord, open_store

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def record(context, **kw) -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="default", step="s", capability="s", tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0, context=context, timestamp=WHEN, **kw)


def test_records_with_contexts_compare_and_hash_by_their_values() -> None:
    same, other = record([0.5, 1.0]), record(np.array([0.5, 1.0]))
    assert same == other and hash(same) == hash(other)
    assert record([0.5, 1.0]) != record([0.5, 2.0])
    assert record([0.5, 1.0]) != record(None)
    assert record([0.5, 1.0]) != record([0.5, 1.0], id=3)
    assert len({same, other, record([0.5, 2.0])}) == 2
    assert record([0.5]) in [record(None), record([0.5])]


def test_the_same_attempts_read_from_two_stores_are_equal(tmp_path) -> None:
    logs = []
    for url in ("memory://", f"sqlite:///{tmp_path / 'r.db'}"):
        with open_store(url) as store:
            store.append([record([0.25, -1.0]), record(None)])
            logs.append(store.attempts())
    assert logs[0] == logs[1]
