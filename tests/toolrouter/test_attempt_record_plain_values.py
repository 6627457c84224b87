"""An attempt's success and numbers come back from every store as a bool and floats: the memory
store kept a numpy bool, a numpy float or an int as given (``json.dumps`` of its record failed
where the SQLite store's passed), and a number too large for a double failed in ``math.isfinite``'s
bare words instead of naming its field."""

from __future__ import annotations

import json
from dataclasses import asdict

import numpy as np
import pytest

from toolrouter.store import MemoryStore, SQLiteStore
from toolrouter.store.base import AttemptRecord


def _record(**fields: object) -> AttemptRecord:
    values = dict(task_id="t", task_type="tt", step="s", capability=None, tool_id="x", success=np.bool_(True),
                  quality=1, cost=np.float32(0.5), latency_s=np.int64(2), utility=np.float64(0.25))
    return AttemptRecord(**{**values, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [MemoryStore, lambda: SQLiteStore(":memory:")])
def test_every_store_gives_back_a_bool_and_floats(make) -> None:  # type: ignore[no-untyped-def]
    with make() as store:
        store.append([_record()])
        (back,) = store.attempts()
    assert back.success is True
    assert [(type(v), v) for v in (back.quality, back.cost, back.latency_s, back.utility)] == [
        (float, 1.0), (float, 0.5), (float, 2.0), (float, 0.25)
    ]
    json.dumps({k: v for k, v in asdict(back).items() if k != "timestamp"})


def test_a_number_beyond_any_double_is_refused_naming_its_field() -> None:
    with pytest.raises(ValueError, match=r"^cost must be finite, got 1000"):
        _record(cost=10**400)
