"""An attempt's context is the log's own: the array it was appended with, or one read back, can
be changed after without changing what the store keeps, in every store."""

from __future__ import annotations

import numpy as np
import pytest

from toolrouter.store import AttemptRecord, Store


def record(context: np.ndarray) -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="default", step="s", capability="s", tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0, context=context)


@pytest.mark.parametrize("store", ["memory", "sqlite"], indirect=True)
def test_a_refilled_or_changed_context_array_leaves_the_log_as_appended(store: Store) -> None:
    buffer = np.zeros(3)
    for value in (1.0, 2.0):  # one array refilled for each call, as a featurizer's buffer is
        buffer[:] = value
        store.append([record(buffer)])
    assert [r.context.tolist() for r in store.attempts()] == [[1.0] * 3, [2.0] * 3]
    read = store.attempts()[0].context
    try:  # a copy of its own (SQLite), or one that cannot be changed (memory)
        read[0] = 42.0
    except ValueError as exc:
        assert "read-only" in str(exc)
    assert store.attempts()[0].context.tolist() == [1.0] * 3
