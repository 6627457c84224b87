"""``sqlite:///path``: the embedded default store, one file shared by every process on a host.

WAL mode lets readers run while one process writes; writes take the lock up front
(``BEGIN IMMEDIATE``) and wait up to ``timeout_s`` for it, so concurrent writers queue instead of
failing. Because SQLite has one writer at a time, attempt ids increase in commit order, which the
router relies on to catch up with other processes.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from toolrouter.store.base import AttemptRecord, Snapshot, Store, ToolSummary

__all__ = ["SQLiteStore"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    writer TEXT NOT NULL,
    task_id TEXT NOT NULL,
    task_type TEXT NOT NULL,
    step TEXT NOT NULL,
    capability TEXT,
    tool_id TEXT NOT NULL,
    success INTEGER NOT NULL,
    quality REAL NOT NULL,
    cost REAL NOT NULL,
    latency_s REAL NOT NULL,
    utility REAL NOT NULL,
    error TEXT,
    timestamp TEXT NOT NULL,
    context BLOB
);
CREATE TABLE IF NOT EXISTS snapshots (
    name TEXT PRIMARY KEY,
    watermark INTEGER NOT NULL,
    created TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_COLUMNS = (
    "id, writer, task_id, task_type, step, capability, tool_id, success, quality, cost, latency_s, "
    "utility, error, timestamp, context"
)


class SQLiteStore(Store):
    """An SQLite file in WAL mode: one row per attempt, one row per named snapshot.

    ``path`` may be ``":memory:"`` for a private in-memory database.

    Example:
        >>> import tempfile, os
        >>> store = SQLiteStore(os.path.join(tempfile.mkdtemp(), "router.db"))
        >>> store.count()
        0
        >>> store.close()
    """

    def __init__(self, path: str | Path, *, timeout_s: float = 60.0, url: str | None = None) -> None:
        path = str(path)
        if path != ":memory:" and not Path(path).parent.exists():
            raise ValueError(f"store: directory of {path!r} does not exist")
        self.path = path
        self.url = url or f"sqlite:///{path}"
        self._lock = threading.Lock()
        # one connection shared by this process's threads, serialised by self._lock
        self._conn = sqlite3.connect(
            path, timeout=timeout_s, isolation_level=None, check_same_thread=False
        )
        self._conn.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        if path != ":memory:":
            self._enable_wal(timeout_s)
        # NORMAL is durable across process crashes in WAL mode; only a power cut may lose the
        # last transactions
        self._conn.execute("PRAGMA synchronous = NORMAL")
        with self._lock:
            self._begin()
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                if row is None:
                    self._conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                    )
                elif int(row[0]) != SCHEMA_VERSION:
                    raise ValueError(
                        f"store: {path!r} has schema_version {row[0]}, this toolrouter reads {SCHEMA_VERSION}"
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                self._conn.close()
                raise

    def _enable_wal(self, timeout_s: float) -> None:
        """Switch the file to WAL mode. SQLite answers "database is locked" at once, without its
        busy handler, when another process is creating or switching the same file, so retry."""
        deadline = time.monotonic() + timeout_s
        delay_s = 0.005
        while True:
            try:
                mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() + delay_s > deadline:
                    raise
                time.sleep(delay_s)
                delay_s = min(2 * delay_s, 0.2)
        if str(mode).lower() != "wal":
            raise RuntimeError(f"store: could not switch {self.path!r} to WAL mode (got {mode!r})")

    def _begin(self) -> None:
        # IMMEDIATE takes the write lock now, so a transaction never fails half-way on SQLITE_BUSY
        self._conn.execute("BEGIN IMMEDIATE")

    def append(self, records: Sequence[AttemptRecord]) -> list[int]:
        """See ``Store.append``."""
        if not records:
            return []
        rows = [
            (
                r.writer,
                r.task_id,
                r.task_type,
                r.step,
                r.capability,
                r.tool_id,
                int(bool(r.success)),
                float(r.quality),
                float(r.cost),
                float(r.latency_s),
                float(r.utility),
                r.error,
                r.timestamp.isoformat(),
                None if r.context is None else np.ascontiguousarray(r.context, dtype="<f8").tobytes(),
            )
            for r in records
        ]
        with self._lock:
            self._begin()
            try:
                ids = []
                for row in rows:
                    cur = self._conn.execute(
                        "INSERT INTO attempts (writer, task_id, task_type, step, capability, tool_id, "
                        "success, quality, cost, latency_s, utility, error, timestamp, context) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        row,
                    )
                    ids.append(int(cur.lastrowid))  # type: ignore[arg-type]
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return ids

    def attempts(self, after_id: int = 0, limit: int | None = None) -> list[AttemptRecord]:
        """See ``Store.attempts``."""
        sql = f"SELECT {_COLUMNS} FROM attempts WHERE id > ? ORDER BY id"
        params: tuple[int, ...] = (int(after_id),)
        if limit is not None:
            sql += " LIMIT ?"
            params += (int(limit),)
        with self._lock:
            rows = self._conn.execute(sql, params).fetchall()
        return [_record(row) for row in rows]

    def count(self) -> int:
        """See ``Store.count``."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0])

    def put_snapshot(self, name: str, data: bytes, watermark: int) -> bool:
        """See ``Store.put_snapshot``."""
        with self._lock:
            cur = self._conn.execute(
                "INSERT INTO snapshots (name, watermark, created, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET watermark = excluded.watermark, "
                "created = excluded.created, data = excluded.data "
                "WHERE excluded.watermark >= snapshots.watermark",
                (name, int(watermark), datetime.now(timezone.utc).isoformat(), sqlite3.Binary(data)),
            )
            return cur.rowcount > 0

    def get_snapshot(self, name: str) -> Snapshot | None:
        """See ``Store.get_snapshot``."""
        with self._lock:
            row = self._conn.execute(
                "SELECT name, data, watermark, created FROM snapshots WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            return None
        return Snapshot(row[0], bytes(row[1]), int(row[2]), datetime.fromisoformat(row[3]))

    def snapshot_names(self) -> list[str]:
        """See ``Store.snapshot_names``."""
        with self._lock:
            return [r[0] for r in self._conn.execute("SELECT name FROM snapshots ORDER BY name")]

    def summary(self) -> list[ToolSummary]:
        """See ``Store.summary``; aggregated in SQL."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT task_type, step, tool_id, COUNT(*), SUM(success), AVG(utility), AVG(quality), "
                "AVG(cost), AVG(latency_s) FROM attempts GROUP BY task_type, step, tool_id "
                "ORDER BY task_type, step, tool_id"
            ).fetchall()
        return [ToolSummary(r[0], r[1], r[2], int(r[3]), int(r[4]), *map(float, r[5:])) for r in rows]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def _record(row: tuple) -> AttemptRecord:
    return AttemptRecord(
        id=int(row[0]),
        writer=row[1],
        task_id=row[2],
        task_type=row[3],
        step=row[4],
        capability=row[5],
        tool_id=row[6],
        success=bool(row[7]),
        quality=float(row[8]),
        cost=float(row[9]),
        latency_s=float(row[10]),
        utility=float(row[11]),
        error=row[12],
        timestamp=datetime.fromisoformat(row[13]),
        context=None if row[14] is None else np.frombuffer(row[14], dtype="<f8").copy(),
    )
