"""A snapshot's watermark is what ``prunable`` trusts: every store refuses one the snapshot cannot
hold. A watermark above the store's highest attempt id let ``prune`` delete attempts appended later
that no router had saved; a router's state copied by hand from another store, with its old
watermark, let it delete this store's attempts, which a router loading that state replays from the
start (it counts another store's ids)."""

from __future__ import annotations

import pytest
from two_search_tools import TOOLS

from toolrouter import ExecutionResult, ToolMetaLearner
from toolrouter.store import AttemptRecord, open_store


def attempts(store, n: int) -> list[int]:
    return store.append([AttemptRecord("t", "x", "search", "search", "good", True, 1.0, 0.0, 0.0, 1.0) for _ in range(n)])


def test_a_watermark_above_the_stores_highest_attempt_id_is_refused(store) -> None:
    ids = attempts(store, 3)
    store.put_snapshot("learner", b"state", ids[1])
    with pytest.raises(ValueError, match=rf"^watermark: {ids[-1] + 1} is above the highest attempt id of store .*\({ids[-1]}\)"):
        store.put_snapshot("learner", b"ahead", ids[-1] + 1)
    snap = store.get_snapshot("learner")
    assert (snap.data, snap.watermark, store.prunable()) == (b"state", ids[1], ids[1])  # unchanged
    assert store.put_snapshot("learner", b"all", ids[-1])
    later = attempts(store, 2)
    assert store.prune(store.prunable()) == 3 and [r.id for r in store.attempts()] == later


def test_a_watermark_of_pruned_attempts_is_still_one_the_store_gave_out(store) -> None:
    ids = attempts(store, 4)
    store.put_snapshot("learner", b"state", ids[-1])
    assert store.prune(ids[-1]) == 4 and store.count() == 0
    assert store.put_snapshot("learner", b"again", ids[-1])


def test_a_routers_state_copied_from_another_store_goes_in_with_watermark_zero(store, tmp_path) -> None:
    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    router = ToolMetaLearner(TOOLS, seed=0, store=other)
    for _ in range(5):
        router.record_attempt(ExecutionResult(tool_id="good", step="search", success=True), capability="search")
    router.save()
    copied = other.get_snapshot("learner")
    ids = attempts(store, 5)
    assert copied.watermark <= ids[-1]  # not above this store's ids: only the state's store tells
    with pytest.raises(ValueError, match=rf"^watermark: {copied.watermark} counts the attempt ids of the store the state was saved on \({other.store_id}\)"):
        store.put_snapshot("learner", copied.data, copied.watermark)
    assert store.get_snapshot("learner") is None and store.prunable() == 0
    assert store.put_snapshot("learner", copied.data, 0)  # holds none of this store's attempts
    assert store.prune(store.prunable()) == 0
    loaded = ToolMetaLearner.load(store)
    assert loaded.tool_statistics()["good"].calls == 10  # its own five and this store's five
    router.close()
    other.close()


def test_a_routers_state_goes_in_at_most_with_its_own_watermark(store) -> None:
    router = ToolMetaLearner(TOOLS, seed=0, store=store, sync_every=None)
    router.record_attempt(ExecutionResult(tool_id="good", step="search", success=True), capability="search")
    router.save()
    saved = store.get_snapshot("learner")
    ids = attempts(store, 2)
    with pytest.raises(ValueError, match=rf"^watermark: {ids[-1]} is above the saved state's own watermark {saved.watermark}$"):
        store.put_snapshot("copy", saved.data, ids[-1])
    assert store.put_snapshot("copy", saved.data, saved.watermark)
    assert store.prunable() == saved.watermark
