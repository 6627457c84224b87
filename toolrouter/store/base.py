"""The store interface: an append-only log of attempts plus named snapshots of learned state.

A store is deliberately small, so that a server database can be added without touching the router:

- ``append(records)`` writes attempts atomically and returns their ids. Ids increase in commit
  order, so "every attempt with an id above N" is a well-defined set to catch up on.
- ``attempts(after_id)`` reads them back in id order (for catching up with other processes and for
  rebuilding state).
- ``put_snapshot`` / ``get_snapshot`` keep the latest learned state under a name, with the id of the
  last attempt it includes (its *watermark*). A snapshot never replaces a newer one.

The router's state is always "snapshot + every attempt after its watermark", which is what lets a
second process resume, and two processes write to one store without losing anything.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from types import TracebackType

import numpy as np

from toolrouter.models import truncate_error

__all__ = ["AttemptRecord", "Snapshot", "Store", "ToolSummary"]


@dataclass(frozen=True)
class AttemptRecord:
    """One row of the attempt log: one call of one tool for one step of one task.

    ``utility`` is the outcome's utility under the weights that applied to its task; ``context`` is
    the numeric context the decision was made with (contextual policies need it to learn), or
    ``None``. ``id`` is assigned by the store; ``writer`` names the process that wrote it.
    ``error`` is cut to ``MAX_ERROR_CHARS`` characters like ``ExecutionResult.error``, so no store
    keeps more of a message than that, whoever built the record.
    """

    task_id: str
    task_type: str
    step: str
    capability: str | None
    tool_id: str
    success: bool
    quality: float
    cost: float
    latency_s: float
    utility: float
    error: str | None = None
    timestamp: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    context: np.ndarray | None = None
    writer: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        for name in ("quality", "cost", "latency_s", "utility"):
            value = getattr(self, name)
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        object.__setattr__(self, "error", truncate_error(self.error))  # frozen: set once, here


@dataclass(frozen=True)
class Snapshot:
    """Learned state saved under ``name``: opaque bytes that include every attempt up to
    ``watermark`` (an attempt id)."""

    name: str
    data: bytes
    watermark: int
    created: datetime


@dataclass(frozen=True)
class ToolSummary:
    """What the log says about one tool at one step of one task type."""

    task_type: str
    step: str
    tool_id: str
    calls: int
    successes: int
    mean_utility: float
    mean_quality: float
    mean_cost: float
    mean_latency_s: float

    @property
    def success_rate(self) -> float:
        """Share of the calls that succeeded (0 without calls)."""
        return self.successes / self.calls if self.calls else 0.0


class Store(ABC):
    """Where attempts and learned state live. Open one with ``toolrouter.store.open_store(url)``.

    Implementations are thread-safe: one store may be shared by the threads of a process.
    """

    url: str

    @abstractmethod
    def append(self, records: Sequence[AttemptRecord]) -> list[int]:
        """Write ``records`` in one transaction (all or none) and return their ids, in order."""

    @abstractmethod
    def attempts(self, after_id: int = 0, limit: int | None = None) -> list[AttemptRecord]:
        """Attempts with an id above ``after_id``, in id order, at most ``limit`` of them."""

    @abstractmethod
    def count(self) -> int:
        """How many attempts the store holds."""

    @abstractmethod
    def put_snapshot(self, name: str, data: bytes, watermark: int) -> bool:
        """Save ``data`` as snapshot ``name`` unless the stored one has a higher watermark.
        Returns whether it was written."""

    @abstractmethod
    def get_snapshot(self, name: str) -> Snapshot | None:
        """The snapshot called ``name``, or ``None``."""

    @abstractmethod
    def snapshot_names(self) -> list[str]:
        """Names of the saved snapshots."""

    def close(self) -> None:
        """Release connections; the default has none."""

    def iter_attempts(self, after_id: int = 0, batch: int = 10_000) -> Iterator[AttemptRecord]:
        """All attempts with an id above ``after_id``, read in batches."""
        while True:
            rows = self.attempts(after_id, limit=batch)
            if not rows:
                return
            yield from rows
            after_id = rows[-1].id or after_id
            if len(rows) < batch:
                return

    def summary(self) -> list[ToolSummary]:
        """Per (task type, step, tool): calls, successes and mean outcomes, from the log."""
        acc: dict[tuple[str, str, str], list[float]] = {}
        for r in self.iter_attempts():
            a = acc.setdefault((r.task_type, r.step, r.tool_id), [0, 0, 0.0, 0.0, 0.0, 0.0])
            a[0] += 1
            a[1] += int(r.success)
            a[2] += r.utility
            a[3] += r.quality
            a[4] += r.cost
            a[5] += r.latency_s
        return [
            ToolSummary(t, s, tool, int(a[0]), int(a[1]), a[2] / a[0], a[3] / a[0], a[4] / a[0], a[5] / a[0])
            for (t, s, tool), a in sorted(acc.items())
        ]

    def __enter__(self) -> "Store":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"
