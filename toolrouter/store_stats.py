"""What a store has learned, per (task type, step, tool): the attempts it keeps, and what its
router's snapshot learned. ``toolrouter stats`` and ``toolrouter mcp stats`` print it.

After ``toolrouter prune`` the store keeps few attempts, or none: every tool of the snapshot's
routes still gets a row, with no attempts kept and what was learned of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from toolrouter.errors import CorruptStateError
from toolrouter.learner import ResetRecord, ToolMetaLearner
from toolrouter.serialization import short_repr
from toolrouter.store.base import Snapshot, Store, ToolSummary

__all__ = ["StoreStats", "ToolRow", "store_stats"]


def contextual_note(policy: str | None) -> str:
    """Why every learned utility of a contextual ``policy`` is '-' (``ToolRow.learned`` is None)."""
    return f"'-' under a contextual policy, {policy}: what it learned depends on the request"


@dataclass(frozen=True)
class ToolRow:
    """One tool at one step of one task type.

    ``kept`` sums the store's attempts of it (``None`` without any: pruned, or not tried yet);
    ``learned`` is the route's posterior mean utility of it (``None`` for a contextual policy, or
    without a router); ``resets`` and ``last_reset``: what the drift detector found; ``rechecks``:
    how often drift detection tried the tool because it had not been for a while."""

    task_type: str
    step: str
    tool_id: str
    kept: ToolSummary | None
    learned: float | None
    resets: int = 0
    last_reset: ResetRecord | None = None
    rechecks: int = 0


@dataclass(frozen=True)
class StoreStats:
    """``rows`` in (task type, step, tool) order; ``attempts``: how many the store keeps (the
    calls of the rows, read with them: routers writing meanwhile do not make them disagree);
    ``snapshot``: the router's, if any; ``router``: rebuilt from it, unless this cannot be done
    without the caller's own policy factory (``not_rebuilt`` then says why). The router is open:
    use the result as a ``with`` block (or ``close()`` it) to close it, before its store."""

    rows: list[ToolRow]
    attempts: int
    snapshot: Snapshot | None
    router: ToolMetaLearner | None
    not_rebuilt: str | None

    def close(self) -> None:
        """Close the router rebuilt, if any (``ToolMetaLearner.close``; the store stays open)."""
        if self.router is not None:
            self.router.close()

    def __enter__(self) -> "StoreStats":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def store_stats(store: Store, snapshot_name: str = "learner") -> StoreStats:
    """What ``store`` has learned (see the module), its router rebuilt from snapshot
    ``snapshot_name``. Damaged saved state raises ``CorruptStateError`` naming it, and a ``store``
    that is not a ``Store`` (a URL: open it with ``toolrouter.store.open_store``) ``TypeError``."""
    if not isinstance(store, Store):  # it failed as "'str' object has no attribute 'summary'"
        raise TypeError(f"store: expected a Store (toolrouter.store.open_store(url) opens one), got {short_repr(store)}")
    kept = {(r.task_type, r.step, r.tool_id): r for r in store.summary()}
    snapshot = store.get_snapshot(snapshot_name)
    router, not_rebuilt = None, None
    if snapshot is not None:
        try:
            router = ToolMetaLearner.load(store, snapshot_name=snapshot_name, sync_every=None)
        except CorruptStateError:
            raise
        except ValueError as exc:  # a router that cannot be rebuilt alone (a custom policy factory)
            not_rebuilt = str(exc)
    learned: dict[tuple[str, str, str], float | None] = {}
    drift: dict[tuple[str, str, str], tuple[int, ResetRecord | None, int]] = {}
    if router is not None:
        for task_type, step, _ in router.routes:
            policy = router.policy_for(task_type, step)
            # a route's tools without kept attempts too: what was learned of them
            means = [None] * len(policy.arm_ids) if policy.contextual else policy.expected(policy.arm_ids)
            for tool_id, mean in zip(policy.arm_ids, means):
                learned[(task_type, step, tool_id)] = None if mean is None else float(mean)
            for tool_id, ts in router.tool_statistics(task_type, step).items():
                drift[(task_type, step, tool_id)] = (ts.resets, ts.last_reset, ts.rechecks)
    rows = [
        ToolRow(*key, kept.get(key), learned.get(key), *drift.get(key, (0, None, 0)))
        for key in sorted(kept.keys() | learned.keys())
    ]
    return StoreStats(rows, sum(r.calls for r in kept.values()), snapshot, router, not_rebuilt)
