"""``memory://``: a store that lives in this process only (tests, short scripts)."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone

import numpy as np

from toolrouter.errors import UnknownSnapshotError
from toolrouter.store.base import (
    AttemptRecord, LogEntry, Snapshot, Store, check_attempts_query, check_claim, check_open, check_records, check_snapshot,
    check_snapshot_holds, check_snapshot_name, check_upto_id, process_lock,
)

__all__ = ["MemoryStore"]


def _kept(context: np.ndarray | None) -> np.ndarray | None:
    """The log's own, read-only copy of an attempt's context: the other stores keep its bytes, so
    a writer that refills its array for the next call, or a reader that changes the array it read,
    must not change what the log holds (the readers of the other stores get a copy each)."""
    if context is None:
        return None
    kept = context.copy()
    kept.flags.writeable = False
    return kept


class MemoryStore(Store):
    """Attempts and snapshots in lists and dicts; gone when the process ends.

    After ``close()`` every operation raises ``ValueError`` naming the store, as the SQLite and
    PostgreSQL stores do, so that code tried on ``memory://`` behaves the same on them; and so
    does every operation of a forked child on the copy of its parent's store (``check_process``).

    Example:
        >>> store = MemoryStore()
        >>> store.count()
        0
    """

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self._lock = threading.Lock()
        self._rows: list[LogEntry] = []  # the log: attempts, trace closes and tool removals
        self._closes = 0  # how many of the rows are not attempts
        self._pruned = 0  # ids 1..pruned are gone: the row with id k sits at index k - pruned - 1
        self._snapshots: dict[str, Snapshot] = {}
        self._claims: dict[str, int] = {}  # name -> the highest turn claimed
        self._closed = False
        self._pid = os.getpid()  # a forked child's copy is refused, as the other stores refuse theirs
        self._store_id = uuid.uuid4().hex  # this instance is the store: another one is another store

    @property
    def store_id(self) -> str:
        """See ``Store.store_id``: one per ``MemoryStore``."""
        return self._store_id

    @contextlib.contextmanager
    def _open(self) -> Iterator[None]:
        """The store's lock (``process_lock``), once the store is known to be open (else the
        caller's mistake, said as the other stores say it)."""
        with process_lock(self._lock, self.url, self._pid):
            check_open(self.url, self._closed)
            yield

    def close(self) -> None:
        """Refuse every later operation; what the store held is dropped."""
        if os.getpid() != self._pid:  # a forked copy: its lock may be held by a thread of the parent
            self._closed = True
            return
        with self._lock:
            self._closed = True
            self._rows, self._snapshots, self._closes, self._claims = [], {}, 0, {}

    def append(self, records: Sequence[LogEntry]) -> list[int]:
        """See ``Store.append``."""
        records = check_records(records)
        with self._open():
            start = self._pruned + len(self._rows) + 1
            rows = [
                dataclasses.replace(r, id=start + i, **({"context": _kept(r.context)} if isinstance(r, AttemptRecord) else {}))
                for i, r in enumerate(records)
            ]
            self._rows.extend(rows)
            self._closes += sum(not isinstance(r, AttemptRecord) for r in rows)
            return [r.id for r in rows]  # type: ignore[misc]

    def attempts(self, after_id: int = 0, limit: int | None = None) -> list[AttemptRecord]:
        """See ``Store.attempts``."""
        after_id, limit = check_attempts_query(after_id, limit)
        with self._open():
            start = max(0, after_id - self._pruned)
            rows = self._rows[start:] if self._closes else self._rows[start : None if limit is None else start + limit]
            return list(itertools.islice((r for r in rows if isinstance(r, AttemptRecord)), limit))

    def log(self, after_id: int = 0, limit: int | None = None) -> list[LogEntry]:
        """See ``Store.log``."""
        after_id, limit = check_attempts_query(after_id, limit)
        with self._open():
            start = max(0, after_id - self._pruned)
            return self._rows[start : None if limit is None else start + limit]

    def count(self) -> int:
        """See ``Store.count``."""
        with self._open():
            return len(self._rows) - self._closes

    def prune(self, upto_id: int) -> int:
        """See ``Store.prune``."""
        upto_id = check_upto_id(upto_id)
        with self._open():
            gone = min(max(upto_id - self._pruned, 0), len(self._rows))
            closes = sum(not isinstance(r, AttemptRecord) for r in self._rows[:gone])
            del self._rows[:gone]
            self._pruned += gone
            self._closes -= closes
            return gone - closes

    def pruned_upto(self) -> int:
        """See ``Store.pruned_upto``."""
        with self._open():
            return self._pruned

    def put_snapshot(self, name: str, data: bytes, watermark: int) -> bool:
        """See ``Store.put_snapshot``."""
        name, data, watermark = check_snapshot(name, data, watermark)
        with self._open():
            check_snapshot_holds(self, data, watermark, self._pruned + len(self._rows))
            old = self._snapshots.get(name)
            if old is not None and old.watermark > watermark:
                return False
            self._snapshots[name] = Snapshot(name, bytes(data), int(watermark), datetime.now(timezone.utc))
            return True

    def get_snapshot(self, name: str) -> Snapshot | None:
        """See ``Store.get_snapshot``."""
        name = check_snapshot_name(name)
        with self._open():
            return self._snapshots.get(name)

    def delete_snapshot(self, name: str) -> None:
        """See ``Store.delete_snapshot``."""
        name = check_snapshot_name(name)
        with self._open():
            if self._snapshots.pop(name, None) is None:
                raise UnknownSnapshotError(self.url, name, sorted(self._snapshots))

    def claim(self, name: str, turn: int) -> bool:
        """See ``Store.claim``."""
        name, turn = check_claim(name, turn)
        with self._open():
            if self._claims.get(name, 0) >= turn:
                return False
            self._claims[name] = turn
            return True

    def claimed(self, name: str) -> int:
        """See ``Store.claimed``."""
        name, _ = check_claim(name, 1)
        with self._open():
            return self._claims.get(name, 0)

    def snapshot_names(self) -> list[str]:
        """See ``Store.snapshot_names``."""
        with self._open():
            return sorted(self._snapshots)

