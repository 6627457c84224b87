"""``sqlite:///path``: the embedded default store, one file shared by every process on a host.

WAL mode lets readers run while one process writes; writes take the lock up front
(``BEGIN IMMEDIATE``) and wait up to ``timeout_s`` for it, so concurrent writers queue instead of
failing. Because SQLite has one writer at a time, attempt ids increase in commit order, which the
router relies on to catch up with other processes.

Attempts (and trace closes and tool removals) that cannot be written now (another process holds the lock past
``timeout_s``, the disk is full or became read-only) are not lost: they wait in memory, in order, and
every later ``append``, ``flush`` and ``close`` writes them first. Such an append returns ``[]``, as a
server store's does during an outage. Those of a store whose file was deleted or replaced since it
opened it wait too, but only that file, back at its path, would take them: they are lost when the
store closes (a file made anew there is another store, which a store opened now writes to). While
attempts wait, an ``append`` tries the lock without waiting for it (the first one waited
``timeout_s``), so a lock held for long does not hold every call that long; ``flush`` and
``close`` wait up to ``timeout_s``. Reads and snapshots that fail so raise
``StoreUnavailableError`` naming the store and the reason. At most ``max_pending`` records of the
log wait, attempts, trace closes and tool removals alike (a few hundred bytes each); past that,
appends are dropped as ``Store.append`` says (whole, and every later one with them until what waits
is written), counted in ``dropped`` and logged once a run of drops (``store_pending_full``), while the
router still learns from their records.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path

from toolrouter._checks import check_count, check_real
from toolrouter.errors import CorruptStateError, NoStoreError, StoreOpenError, UnknownSnapshotError
from toolrouter.logging import EventLog
from toolrouter.serialization import short_repr
from toolrouter.store.base import (
    LOG_CLOSE_COLUMNS,
    LOG_REMOVAL_COLUMNS,
    ROW_COLUMNS,
    AttemptRecord,
    LogEntry,
    Snapshot,
    SnapshotInfo,
    Store,
    StoreUnavailableError,
    StoreUnreachableError,
    ToolSummary,
    TraceClose,
    check_attempts_query,
    check_claim,
    check_create,
    check_open,
    check_records,
    check_snapshot,
    check_snapshot_holds,
    check_snapshot_name,
    check_upto_id,
    check_writable,
    context_bytes,
    damaged_snapshot,
    depends_on_text,
    entry_from_row,
    process_lock,
    record_from_row,
    stored_meta_number,
    stored_stamp,
    stored_turn,
    stored_watermark,
)

__all__ = ["SQLiteStore"]

log = EventLog(__name__)

#: Versions: 1. attempts, snapshots, meta; 2. trace columns on attempts (the trace an attempt
#: belongs to, its step's parents, the request text, the task's complexity); 3. trace closes
#: (``trace_closes``: a trace, whether it finished), numbered from the attempts' ids; 4. whether an
#: attempt was a recheck's (``recheck``; older attempts were not, as their routers replayed them);
#: 5. the store's identity (``store_id`` in ``meta``: a random id, made once, kept with the file);
#: 6. claims (``claims``: a name, the highest turn claimed of it; ``Store.claim``); 7. the key a
#: router without a context judged an attempt's request by (``request_key``; older attempts: none);
#: 8. tool removals (``tool_removals``: a tool a router removed), numbered from the attempts' ids;
#: 9. the capabilities a router took from a tool (``capabilities`` on ``tool_removals``, a JSON list;
#: NULL, as every removal before it: the whole tool); 10. the conversation a trace's task is a turn
#: of (``conversation_id`` on attempts; older attempts: none).
SCHEMA_VERSION = 10

# The tables as version 1 made them; later versions are migrations from it, applied in order.
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

#: version -> the statements that bring a store of the version before to it. Never edit a released
#: step: add the next one.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE attempts ADD COLUMN trace_id TEXT",
        "ALTER TABLE attempts ADD COLUMN depends_on TEXT",
        "ALTER TABLE attempts ADD COLUMN request TEXT",
        "ALTER TABLE attempts ADD COLUMN complexity TEXT",
    ),
    3: (
        "CREATE TABLE trace_closes (id INTEGER PRIMARY KEY, writer TEXT NOT NULL, trace_id TEXT NOT NULL, "
        "finished INTEGER NOT NULL, timestamp TEXT NOT NULL)",
    ),
    4: ("ALTER TABLE attempts ADD COLUMN recheck INTEGER NOT NULL DEFAULT 0",),
    5: ("INSERT INTO meta (key, value) VALUES ('store_id', lower(hex(randomblob(16))))",),
    6: ("CREATE TABLE claims (name TEXT PRIMARY KEY, turn INTEGER NOT NULL)",),
    7: ("ALTER TABLE attempts ADD COLUMN request_key TEXT",),
    8: ("CREATE TABLE tool_removals (id INTEGER PRIMARY KEY, writer TEXT NOT NULL, tool_id TEXT NOT NULL, timestamp TEXT NOT NULL)",),
    9: ("ALTER TABLE tool_removals ADD COLUMN capabilities TEXT",),
    10: ("ALTER TABLE attempts ADD COLUMN conversation_id TEXT",),
}

# A trace close or a tool removal takes the next id of the attempts' AUTOINCREMENT counter (SQLite's own
# sqlite_sequence row, created by the first attempt), so that attempts and closes share one order.
_NEXT_ID = (
    "INSERT INTO sqlite_sequence (name, seq) SELECT 'attempts', 0 "
    "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'attempts')",
    "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'attempts'",
    "SELECT seq FROM sqlite_sequence WHERE name = 'attempts'",
)

# Whether an attempt's row holds a value of the summary's columns that no append keeps: not a real
# number (text, a blob), inf (above the largest finite double), a success other than 0 or 1, or a
# name that is not text (a blob)
_DAMAGED_SUMMARY = " OR ".join(
    [f"typeof({c}) != 'real' OR abs({c}) > 1.7976931348623157e308" for c in ("utility", "quality", "cost", "latency_s")]
    + ["typeof(success) != 'integer' OR success NOT IN (0, 1)"]
    + [f"typeof({c}) != 'text'" for c in ("task_type", "step", "tool_id")]
)

# What prune deleted, as the highest id gone (kept in meta, beside schema_version; never lowered)
_MARK_PRUNED = (
    "INSERT INTO meta (key, value) VALUES ('pruned_upto', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value "
    "WHERE CAST(excluded.value AS INTEGER) > CAST(meta.value AS INTEGER)"
)


class SQLiteStore(Store):
    """An SQLite file in WAL mode: one row per attempt, one row per named snapshot.

    ``path`` may be ``":memory:"`` for a private in-memory database; a relative path is taken from
    the current working directory when the store is opened. A ``path`` that is not a ``str`` or
    ``os.PathLike`` (``None``, a number, bytes) raises ``TypeError`` naming it. A path that cannot
    hold a store (an empty one, a directory, a missing directory, a file that is not an SQLite database or is another program's
    database, a location this process cannot read and write) raises ``StoreOpenError`` naming the
    URL and the problem; a file the failed open created is removed again. ``create=False``
    refuses (``StoreOpenError``) a path that holds no store yet (no file, an empty one) instead of
    making one there: for what only reads a store, where a typo would read an empty one.
    ``read_only=True`` (implies ``create=False``) opens the file with SQLite's read-only open: a
    store this process may read but not write (another user's file, a read-only mount) is read,
    nothing is written to it (the -wal and -shm files the open makes go at ``close``, unless
    another connection still has the file open), and every write (``append``, ``put_snapshot``,
    ``prune``, ...) is refused with a ``ValueError`` naming the store. A store of an older schema,
    which only a migration (a write) makes readable, is refused (``StoreOpenError``) saying so.
    Where SQLite cannot make the shared-memory file a WAL reader needs beside the database (a
    read-only directory, and no writer has the file open), the file is read as unchanging.
    ``pending`` and ``dropped`` count records of the log, attempts, trace closes and tool removals
    alike (see the module).

    Example:
        >>> import tempfile, os
        >>> store = SQLiteStore(os.path.join(tempfile.mkdtemp(), "router.db"))
        >>> store.count()
        0
        >>> store.close()
    """

    def __init__(
        self,
        path: str | Path,
        *,
        timeout_s: float = 60.0,
        url: str | None = None,
        max_pending: int = 100_000,
        create: bool = True,
        read_only: bool = False,
    ) -> None:
        # checked before the file is touched; SQLite keeps its busy timeout in 32-bit milliseconds
        timeout_s = check_real("timeout_s", timeout_s, low=0, high=(2**31 - 1) / 1000)
        max_pending = check_count("max_pending", max_pending)
        self._read_only = check_create(read_only, "read_only")
        self._create = check_create(create) and not read_only
        # str() would turn None, a number or bytes into a file of that name
        path = os.fspath(path) if isinstance(path, os.PathLike) else path
        if not isinstance(path, str):
            raise TypeError(f"path: expected a str or a pathlib.Path, got {short_repr(path)}")
        if url is not None and not isinstance(url, str):
            raise TypeError(f"url: expected a str or None, got {short_repr(url)}")
        self.path = path
        self.url = url or f"sqlite:///{path}"
        self._lock = threading.Lock()
        self._pending: list[LogEntry] = []  # not written yet, in order (see the module)
        self._dropping = False  # an append was dropped since the last write: later ones are too
        self._closed = False
        self._pid = os.getpid()  # the process whose connection this is (see check_process)
        self.max_pending = max_pending
        #: Records of the log (attempts, trace closes and tool removals) dropped because
        #: ``max_pending`` were already waiting, or still waiting when the store closed.
        self.dropped = 0
        in_memory = path == ":memory:"
        if in_memory and not self._create:
            asked = "read_only=True" if read_only else "create=False"  # the argument the caller gave
            raise NoStoreError(f"store {self.url!r}: ':memory:' is a new, empty database at every open ({asked})")
        if not in_memory:
            self._check_location()
        # a file this open creates goes again if the open fails: no half-made store is left behind
        new_file = not in_memory and not read_only and not os.path.lexists(path)
        conn = None
        try:
            # one connection shared by this process's threads, serialised by self._lock
            self._busy_ms = int(timeout_s * 1000)
            conn = self._connect(timeout_s)
            if not in_memory and not read_only:
                self._enable_wal(timeout_s)
            # NORMAL is durable across process crashes in WAL mode; only a power cut may lose the
            # last transactions
            conn.execute("PRAGMA synchronous = NORMAL")
            self._create_schema()
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
            if row is None:  # deleted by hand: the store's identity is not made anew (saved state names it)
                raise StoreOpenError(
                    f"store {self.url!r}: {os.path.abspath(path)!r}: meta.store_id is missing (a damaged or "
                    "hand-edited store: restore it from a copy)"
                )
            self._store_id = str(row[0])
            # the file this store writes: an append checks that the path still names it
            self._file = None if in_memory else (os.path.abspath(path), _file_id(path))
        except BaseException as exc:
            if conn is not None:
                conn.close()
            if new_file and not _busy(exc):  # busy: another process is creating it, leave it be
                _remove_database(path)
            if isinstance(exc, sqlite3.Error):
                # locked past the timeout: what an open store says is unavailable now, not a bad URL
                error = StoreUnreachableError if _busy(exc) else StoreOpenError
                raise error(f"store {self.url!r}: {_open_problem(path, exc, read_only)}") from exc
            raise

    def _connect(self, timeout_s: float, immutable: bool = False) -> sqlite3.Connection:
        """The connection (also ``self._conn``), the file checked to hold a store (or none yet)."""
        target, uri = self.path, False
        if self._read_only:  # SQLite's read-only open: no file, journal or migration is made
            if not os.path.exists(self.path):
                raise NoStoreError(
                    f"store {self.url!r}: no SQLite store at {os.path.abspath(self.path)!r} (no file); nothing was created"
                )
            target = f"{Path(os.path.abspath(self.path)).as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")
            uri = True
        conn = self._conn = sqlite3.connect(target, timeout=timeout_s, isolation_level=None, check_same_thread=False, uri=uri)
        try:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
            self._check_not_foreign()
        except BaseException as exc:
            conn.close()  # the caller never holds it
            if not isinstance(exc, sqlite3.OperationalError):
                raise
            # a WAL reader makes a -shm file beside the database; in a directory it may not write
            # to, with no writer holding one open, only an unchanging file can be read, and only
            # without a log to replay (read as unchanging, its attempts would be missed unsaid)
            if self._read_only and not immutable and _readonly_directory(exc):
                wal, _ = _wal_files(self.path)
                if os.path.exists(wal) and os.path.getsize(wal) > 0:
                    raise StoreOpenError(
                        f"store {self.url!r}: {os.path.abspath(wal)!r} holds writes not yet in the database, which only "
                        "a process that may write to its directory can read (open the store once with write access)"
                    ) from None
                return self._connect(timeout_s, immutable=True)
            raise
        return conn

    def _check_location(self) -> None:
        """Refuse, before anything is created, a path that cannot be a database file."""
        path = self.path
        if not path:  # SQLite would open a private temporary database, gone at close
            problem = "the path is empty; name a file, or ':memory:' for a private in-memory database"
        elif "\x00" in path:
            problem = f"the path {path!r} contains a NUL character"
        elif os.path.isdir(path):
            problem = f"{os.path.abspath(path)!r} is a directory, not a database file"
        else:
            parent = os.path.dirname(os.path.abspath(path))
            if not os.path.exists(parent):
                problem = f"directory {parent!r} does not exist"
            elif not os.path.isdir(parent):
                problem = f"{parent!r} is not a directory"
            elif not self._read_only and (unwritable := _unwritable(path)):
                # SQLite opens the store read-only without a word: every append then waited in memory, lost at close
                readable = os.access(unwritable, os.R_OK)
                problem = (
                    f"{os.path.abspath(unwritable)!r} cannot be opened for reading and writing (this process may not "
                    f"{'write' if readable else 'read'} it); the file, SQLite's -wal and -shm files beside it and their "
                    "directory must be readable and writable by this process" + (" (read_only=True reads it)" if readable else "")
                )
            else:
                return
        raise StoreOpenError(f"store {self.url!r}: {problem}")

    def _check_not_foreign(self) -> None:
        """Refuse another program's SQLite database, and (not ``create``) one that holds no store
        yet, by reading only: opening it in WAL mode or adding tables would change the file."""
        tables = {r[0] for r in self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables and not self._holds_store(tables):
            raise StoreOpenError(
                f"store {self.url!r}: {os.path.abspath(self.path)!r} is an SQLite database of something else "
                f"(tables {sorted(tables)!r}), not a toolrouter store"
            )
        if not tables and not self._create:
            raise NoStoreError(
                f"store {self.url!r}: no SQLite store at {os.path.abspath(self.path)!r} (no file, or an empty one); "
                "nothing was created"
            )

    def _holds_store(self, tables: set[str]) -> bool:
        """Whether a file with ``tables`` is a toolrouter store: every one has written its
        ``schema_version`` into ``meta`` with its tables, in one transaction. A table called meta
        alone is no sign (a browser's history file has one, of keys and values)."""
        if "meta" not in tables or not {"key", "value"} <= {r[1] for r in self._conn.execute("PRAGMA table_info(meta)")}:
            return False
        return self._conn.execute("SELECT 1 FROM meta WHERE key = 'schema_version'").fetchone() is not None

    def _create_schema(self) -> None:
        """Create the tables, or migrate those of an older version forward, in one transaction (all
        or none); a newer version than this code knows is refused, naming both. A store that is
        already of this version is only read: opening it (``toolrouter stats``, a router starting)
        does not wait for another process's write lock."""
        if self._current():
            return
        if self._read_only:  # read again: _current() takes a busy read for a store to make
            found = self._version(self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone())
            if found == SCHEMA_VERSION:
                return
            raise StoreOpenError(
                f"store {self.url!r}: {os.path.abspath(self.path)!r} has schema_version {found}, this toolrouter reads "
                f"{SCHEMA_VERSION}; opened read-only, it cannot be migrated: open it once with write access "
                "(a router, or toolrouter prune)"
            )
        with self._lock:
            self._begin()
            try:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        self._conn.execute(statement)
                row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
                found = self._version(row)
                for version in range(found + 1, SCHEMA_VERSION + 1):
                    for statement in _MIGRATIONS[version]:
                        self._conn.execute(statement)
                if row is None or found < SCHEMA_VERSION:
                    self._conn.execute(
                        "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        (str(SCHEMA_VERSION),),
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:  # SQLite may have rolled it back itself (disk full, interrupted)
                    self._conn.execute("ROLLBACK")
                raise

    def _version(self, row: tuple | None) -> int:
        """The schema version of meta's ``row`` (1 without one: a new file, given version 1's
        tables); ``StoreOpenError`` naming the store for a value that is no version (damaged, edited
        by hand), and for a version newer than this code reads, whether or not it may migrate."""
        where = f"store {self.url!r}: {os.path.abspath(self.path)!r}"
        try:
            found = 1 if row is None else stored_meta_number("schema_version", row[0], low=1)
        except ValueError as exc:  # named, not int()'s bare "invalid literal"
            raise StoreOpenError(f"{where}: {exc}") from None
        if found > SCHEMA_VERSION:
            raise StoreOpenError(f"{where} has schema_version {found}, this toolrouter reads up to {SCHEMA_VERSION}: upgrade toolrouter")
        return found

    def _current(self) -> bool:
        """Whether the file holds this version's tables (read without a transaction)."""
        try:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:  # no tables yet (a new file), or busy: the transaction decides
            return False
        return row is not None and row[0] == str(SCHEMA_VERSION)

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
            raise StoreOpenError(
                f"store {self.url!r}: could not switch {self.path!r} to WAL mode (got {mode!r}); "
                "it needs a local file system"
            )

    def _begin(self) -> None:
        # IMMEDIATE takes the write lock now, so a transaction never fails half-way on SQLITE_BUSY
        self._conn.execute("BEGIN IMMEDIATE")

    def append(self, records: Sequence[LogEntry]) -> list[int]:
        """See ``Store.append``; ``[]`` when the attempts cannot be written now and wait in memory
        (see the module's docstring)."""
        rows = check_records(records)
        if not rows:
            return []
        with process_lock(self._lock, self.url, self._pid):
            try:
                ids = self._write(self._pending + rows, wait=not (self._pending or self._dropping))
            except StoreUnavailableError as exc:
                if not (self._pending or self._dropping):  # once when attempts start to wait, not at every append
                    log.warning("store_append_deferred", url=self.url, error=str(exc))
                if not self._dropping and len(self._pending) + len(rows) <= self.max_pending:
                    self._pending.extend(rows)
                else:  # whole, and every later one until what waits is written (see Store.append)
                    self.dropped += len(rows)
                    if not self._dropping:
                        log.warning("store_pending_full", url=self.url, dropped=self.dropped)
                    self._dropping = True
                return []
            if len(ids) > len(rows):
                log.info("store_pending_written", url=self.url, attempts=len(ids) - len(rows))
            self._pending, self._dropping = [], False
        return ids[len(ids) - len(rows) :]

    def _write(self, rows: list[LogEntry], *, wait: bool = True) -> list[int]:
        """Insert ``rows`` in one transaction (caller holds ``self._lock``); ``StoreUnavailableError``
        if the file cannot take them now. ``wait=False``: fail at once if another process holds
        the lock, instead of waiting up to ``timeout_s`` for it."""
        with self._available():
            self._check_file()
            with self._waiting(wait):
                self._begin()
            try:
                ids = []
                for r in rows:
                    if not isinstance(r, AttemptRecord):
                        for statement in _NEXT_ID[:2]:
                            self._conn.execute(statement)
                        (entry_id,) = self._conn.execute(_NEXT_ID[2]).fetchone()
                        if isinstance(r, TraceClose):
                            self._conn.execute(
                                "INSERT INTO trace_closes (id, writer, trace_id, finished, timestamp) VALUES (?, ?, ?, ?, ?)",
                                (entry_id, r.writer, r.trace_id, int(r.finished), r.timestamp.isoformat()),
                            )
                        else:
                            self._conn.execute(
                                "INSERT INTO tool_removals (id, writer, tool_id, timestamp, capabilities) VALUES (?, ?, ?, ?, ?)",
                                (entry_id, r.writer, r.tool_id, r.timestamp.isoformat(), depends_on_text(r.capabilities)),
                            )
                        ids.append(int(entry_id))
                        continue
                    cur = self._conn.execute(
                        "INSERT INTO attempts (writer, task_id, task_type, step, capability, tool_id, "
                        "success, quality, cost, latency_s, utility, error, timestamp, context, trace_id, "
                        "depends_on, request, complexity, recheck, request_key, conversation_id) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        _row(r),
                    )
                    ids.append(int(cur.lastrowid))  # type: ignore[arg-type]
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        return ids

    @contextlib.contextmanager
    def _waiting(self, wait: bool) -> Iterator[None]:
        """Within it, a statement waits up to ``timeout_s`` for another process's lock, or (not
        ``wait``) fails at once (caller holds ``self._lock``)."""
        if wait:
            yield
            return
        self._conn.execute("PRAGMA busy_timeout = 0")
        try:
            yield
        finally:
            self._conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")

    def _check_file(self) -> None:
        """Refuse to write to a store opened read-only (the caller's mistake, not an outage: an
        append does not wait in memory), and into a file that is gone from the path: SQLite would
        write on, and what it wrote would vanish with the last handle."""
        check_writable(self.url, self._read_only)
        if self._file is not None and _file_id(self._file[0]) != self._file[1]:
            raise StoreUnavailableError(
                f"store {self.url!r}: {self._file[0]!r} was deleted or replaced since the store opened it: nothing "
                "more is written to it, and what waits in memory is lost when the store closes (a store opened "
                "now writes to the file at that path)"
            )

    @contextlib.contextmanager
    def _use(self) -> Iterator[None]:
        """The store's lock (``process_lock``), within ``_available``."""
        with process_lock(self._lock, self.url, self._pid), self._available():
            yield

    @contextlib.contextmanager
    def _available(self) -> Iterator[None]:
        """SQLite's "cannot do this now" errors (locked, busy, disk full, read-only, I/O) and a
        damaged file as ``StoreUnavailableError`` naming the store: the router routes on from what
        it knows and keeps its attempts instead of failing calls."""
        check_open(self.url, self._closed, self._pid)  # SQLite's own words would name no store
        try:
            yield
        except sqlite3.OperationalError as exc:
            raise StoreUnavailableError(f"store {self.url!r}: {exc}") from exc
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # a constraint or an interface error is a defect
                raise
            raise StoreUnavailableError(
                f"store {self.url!r}: {exc}: {os.path.abspath(self.path)!r} is damaged; restore it from a copy "
                "or move it aside"
            ) from exc

    @property
    def store_id(self) -> str:
        """See ``Store.store_id``: kept in the file (``meta``), so a copy of the file is the same
        store, and a file made anew at the same path another."""
        return self._store_id

    @property
    def file(self) -> str | None:
        """The absolute path of the database file this store writes, as resolved when it opened
        (``None`` for ``":memory:"``)."""
        return None if self._file is None else self._file[0]

    @property
    def pending(self) -> int:
        """How many records of the log (attempts, trace closes and tool removals) wait in memory to be written
        (see the module's docstring); none once the store is closed (those it could not write then
        are lost, and counted in ``dropped``)."""
        with process_lock(self._lock, self.url, self._pid):
            return len(self._pending)

    def flush(self) -> None:
        """Write the attempts that wait in memory; ``StoreUnavailableError`` if they cannot be
        written now (they keep waiting)."""
        with process_lock(self._lock, self.url, self._pid):
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        try:
            self._write(self._pending)
        except StoreUnavailableError as exc:
            raise StoreUnavailableError(f"{exc} ({len(self._pending)} attempts, trace closes or tool removals wait in memory)") from exc
        self._pending, self._dropping = [], False

    def attempts(self, after_id: int = 0, limit: int | None = None) -> list[AttemptRecord]:
        """See ``Store.attempts``."""
        after_id, limit = check_attempts_query(after_id, limit)
        sql = f"SELECT {ROW_COLUMNS} FROM attempts WHERE id > ? ORDER BY id"
        source = f"store {self.url!r}"  # where a damaged row is, in its error
        return [record_from_row(row, source) for row in self._rows(sql, (after_id,), limit)]

    def log(self, after_id: int = 0, limit: int | None = None) -> list[LogEntry]:
        """See ``Store.log``."""
        after_id, limit = check_attempts_query(after_id, limit)
        sql = (
            f"SELECT {ROW_COLUMNS}, NULL FROM attempts WHERE id > ? "
            f"UNION ALL SELECT {LOG_CLOSE_COLUMNS} FROM trace_closes WHERE id > ? "
            f"UNION ALL SELECT {LOG_REMOVAL_COLUMNS} FROM tool_removals WHERE id > ? ORDER BY id"
        )
        source = f"store {self.url!r}"  # where a damaged row is, in its error
        return [entry_from_row(row, source) for row in self._rows(sql, (after_id,) * 3, limit)]

    def _rows(self, sql: str, params: tuple[int, ...], limit: int | None) -> list[tuple]:
        """The rows of an id-ordered ``sql`` query, at most ``limit`` of them."""
        if limit is not None:
            sql += " LIMIT ?"
            params += (limit,)
        with self._use():
            return self._conn.execute(sql, params).fetchall()

    def count(self) -> int:
        """See ``Store.count``."""
        with self._use():
            return int(self._conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0])

    def prune(self, upto_id: int) -> int:
        """See ``Store.prune``. The file keeps its size (SQLite reuses the freed pages for new
        attempts); ``VACUUM`` with no router writing gives the space back."""
        upto_id = check_upto_id(upto_id)
        with self._use():
            self._check_file()
            self._begin()
            try:
                self._pruned_mark()  # CAST reads a damaged mark as 0, and the mark would be lowered
                top = self._conn.execute(  # of every kind of record: a close read late is as lost as an attempt
                    "SELECT MAX(id) FROM (SELECT id FROM attempts WHERE id <= ? UNION ALL SELECT id FROM trace_closes "
                    "WHERE id <= ? UNION ALL SELECT id FROM tool_removals WHERE id <= ?)",
                    (upto_id,) * 3,
                ).fetchone()[0]
                gone = self._conn.execute("DELETE FROM attempts WHERE id <= ?", (upto_id,)).rowcount
                self._conn.execute("DELETE FROM trace_closes WHERE id <= ?", (upto_id,))
                self._conn.execute("DELETE FROM tool_removals WHERE id <= ?", (upto_id,))
                if top is not None:  # in the same transaction: a reader never misses the mark
                    self._conn.execute(_MARK_PRUNED, (str(top),))
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
        return int(gone)

    def pruned_upto(self) -> int:
        """See ``Store.pruned_upto``."""
        with self._use():
            return self._pruned_mark()

    def _pruned_mark(self) -> int:
        """The prune mark (0 before any prune); ``CorruptStateError`` naming the store and the field
        if it is not a whole number (a damaged or hand-edited store). Caller holds ``self._lock``."""
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'pruned_upto'").fetchone()
        return 0 if row is None else stored_meta_number("pruned_upto", row[0], source=f"store {self.url!r}")

    def put_snapshot(self, name: str, data: bytes, watermark: int) -> bool:
        """See ``Store.put_snapshot``. ``data`` longer than SQLite keeps in one value (its length
        limit, 1,000,000,000 bytes by default) is refused with a ``ValueError`` naming both sizes."""
        name, data, watermark = check_snapshot(name, data, watermark)
        with self._use():
            self._check_file()
            limit = _length_limit(self._conn)
            if len(data) > limit:  # SQLite's own words named no store, no size and no limit
                raise ValueError(
                    f"data: {len(data)} bytes, more than store {self.url!r} keeps in one snapshot ({limit} bytes, "
                    "SQLite's length limit)"
                )
            # the attempts' counter, which trace closes and tool removals take ids from too and prune never lowers
            top = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'attempts'").fetchone()
            check_snapshot_holds(self, data, watermark, 0 if top is None else int(top[0]))
            cur = self._conn.execute(
                "INSERT INTO snapshots (name, watermark, created, data) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET watermark = excluded.watermark, "
                "created = excluded.created, data = excluded.data "
                "WHERE excluded.watermark >= snapshots.watermark",
                (name, int(watermark), datetime.now(timezone.utc).isoformat(), sqlite3.Binary(data)),
            )
            if cur.rowcount == 0:  # a watermark stored as text is above every number: say so, not keep it forever
                stored = self._conn.execute("SELECT watermark, created FROM snapshots WHERE name = ?", (name,)).fetchone()
                self._snapshot_columns(name, *stored)
            return cur.rowcount > 0

    def get_snapshot(self, name: str) -> Snapshot | None:
        """See ``Store.get_snapshot``."""
        name = check_snapshot_name(name)
        with self._use():
            row = self._conn.execute(
                "SELECT name, data, watermark, created FROM snapshots WHERE name = ?", (name,)
            ).fetchone()
        if row is None:
            return None
        if not isinstance(row[1], bytes):  # edited by hand into text: bytes() failed in its bare words
            raise self._damaged_data(row[0], row[1])
        return Snapshot(row[0], row[1], *self._snapshot_columns(row[0], row[2], row[3]))

    def delete_snapshot(self, name: str) -> None:
        """See ``Store.delete_snapshot``."""
        name = check_snapshot_name(name)
        with self._use():
            self._check_file()
            if self._conn.execute("DELETE FROM snapshots WHERE name = ?", (name,)).rowcount == 0:
                raise UnknownSnapshotError(self.url, name, self._snapshot_names())

    def claim(self, name: str, turn: int) -> bool:
        """See ``Store.claim``: one statement, so the turn goes to one process. While attempts
        wait in memory it does not wait for the lock either (see the module's docstring)."""
        name, turn = check_claim(name, turn)
        with self._use():
            self._check_file()
            with self._waiting(not self._pending):
                cur = self._conn.execute(
                    "INSERT INTO claims (name, turn) VALUES (?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET turn = excluded.turn WHERE excluded.turn > claims.turn",
                    (name, turn),
                )
            if cur.rowcount == 0:  # a turn stored as text is above every number: say so, not refuse every turn
                self._claimed_turn(name)
            return cur.rowcount > 0

    def claimed(self, name: str) -> int:
        """See ``Store.claimed``."""
        name, _ = check_claim(name, 1)
        with self._use():
            return self._claimed_turn(name)

    def _claimed_turn(self, name: str) -> int:
        """The turn claimed of ``name`` (0 if none); ``CorruptStateError`` naming the store, the row
        and the column if it is none ``claim`` writes (``stored_turn``). Caller holds ``self._lock``."""
        row = self._conn.execute("SELECT turn FROM claims WHERE name = ?", (name,)).fetchone()
        return 0 if row is None else stored_turn(name, row[0], f"store {self.url!r}")

    def snapshot_names(self) -> list[str]:
        """See ``Store.snapshot_names``."""
        with self._use():
            return self._snapshot_names()

    def _snapshot_names(self) -> list[str]:
        """The snapshots' names (caller holds ``self._lock``), each checked (``_snapshot_name``)."""
        return [self._snapshot_name(r[0]) for r in self._conn.execute("SELECT name FROM snapshots ORDER BY name")]

    def _snapshot_name(self, name: object) -> str:
        """A snapshots row's name; ``CorruptStateError`` naming the store and the row if it is not
        text (edited by hand into a blob): no name could read or delete it, and its watermark held
        ``prune`` back for good."""
        if not isinstance(name, str):
            raise self._damaged_snapshot(name, f"name: expected text, got {short_repr(name)}")
        return name

    def snapshot_infos(self) -> list[SnapshotInfo]:
        """See ``Store.snapshot_infos``: one query, which reads a snapshot's size, not its bytes
        (only data that is not bytes, which ``get_snapshot`` refuses, and whose length is no size)."""
        with self._use():
            rows = self._conn.execute(
                "SELECT name, watermark, created, length(data), typeof(data) FROM snapshots ORDER BY name"
            ).fetchall()
            for r in rows:
                if r[4] != "blob":  # edited by hand into text or a number
                    data = self._conn.execute("SELECT data FROM snapshots WHERE name = ?", (r[0],)).fetchone()
                    raise self._damaged_data(r[0], data[0])
        return [SnapshotInfo(self._snapshot_name(r[0]), *self._snapshot_columns(r[0], r[1], r[2]), int(r[3])) for r in rows]

    def _snapshot_columns(self, name: str, watermark: object, created: object) -> tuple[int, datetime]:
        """A snapshot row's watermark and creation time; ``CorruptStateError`` naming the store,
        the snapshot and the column if one was edited by hand or damaged (it failed in int()'s or
        datetime's bare words, a traceback from ``toolrouter snapshots``)."""
        watermark = stored_watermark(name, watermark, f"store {self.url!r}")
        try:
            return watermark, stored_stamp(created, "created")
        except ValueError as exc:
            raise self._damaged_snapshot(name, str(exc)) from None

    def _damaged_data(self, name: str, data: object) -> CorruptStateError:
        """The error of snapshot ``name``, whose ``data`` is not bytes (edited by hand into text or a number)."""
        return self._damaged_snapshot(name, f"data: expected bytes, got {type(data).__name__} {short_repr(data)}")

    def _damaged_snapshot(self, name: object, problem: str) -> CorruptStateError:
        """The error of snapshot ``name``'s row, damaged or edited by hand: the store, the snapshot and ``problem``."""
        return damaged_snapshot(name, problem, f"store {self.url!r}")

    def summary(self) -> list[ToolSummary]:
        """See ``Store.summary``; aggregated in SQL. A value the row readers refuse (text, inf, a
        success other than 0 or 1, a name that is not text: edited by hand), which SQL would average
        as 0 or inf, or group under a name no router has, sends it to ``Store.summary``, which reads
        the rows and names the first such one (``CorruptStateError``)."""
        with self._use():
            rows = self._conn.execute(
                f"SELECT task_type, step, tool_id, COUNT(*), SUM(success), AVG(utility), AVG(quality), "
                f"AVG(cost), AVG(latency_s), MAX({_DAMAGED_SUMMARY}) FROM attempts "
                "GROUP BY task_type, step, tool_id ORDER BY task_type, step, tool_id"
            ).fetchall()
        if any(r[9] for r in rows):
            return super().summary()
        return [ToolSummary(r[0], r[1], r[2], int(r[3]), int(r[4]), *map(float, r[5:9])) for r in rows]

    def close(self) -> None:
        """Write the attempts that wait in memory, then close the connection. Attempts that still
        cannot be written are lost with the store: ``StoreUnavailableError`` says how many, and that they are
        lost, and ``dropped`` counts them."""
        if os.getpid() != self._pid:  # a forked copy: the connection and what waits are the parent's
            self._closed = True  # (closing it here could checkpoint and remove the parent's WAL)
            return
        with self._lock:
            if self._closed:
                return
            try:
                self._flush()
            except StoreUnavailableError as exc:  # "wait in memory" alone would promise a later write
                self.dropped += len(self._pending)  # lost with the store: no longer said to wait
                self._pending = []
                raise StoreUnavailableError(f"{exc}; the store is closed without them: they are lost") from exc
            finally:
                self._closed = True
                self._conn.close()
                if self._read_only and self._file is not None:
                    _remove_wal_files(self._file[0])


def _row(r: AttemptRecord) -> tuple:
    """An attempt as the values of the ``attempts`` columns that ``append`` inserts."""
    return (
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
        context_bytes(r.context),
        r.trace_id,
        depends_on_text(r.depends_on),
        r.request,
        r.complexity,
        int(r.recheck),
        r.request_key,
        r.conversation_id,
    )


def _length_limit(conn: sqlite3.Connection) -> int:
    """The most bytes SQLite keeps in one value on ``conn`` (``SQLITE_LIMIT_LENGTH``; before Python
    3.11, which cannot ask, SQLite's default)."""
    getlimit = getattr(conn, "getlimit", None)
    return 1_000_000_000 if getlimit is None else getlimit(sqlite3.SQLITE_LIMIT_LENGTH)


def _readonly_directory(exc: sqlite3.Error) -> bool:
    """Whether a read-only open failed because it could not make the WAL's -shm file
    (SQLITE_READONLY_DIRECTORY; Python < 3.11 gives only the message)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code == 1544 if code is not None else "readonly" in str(exc)


def _unwritable(path: str) -> str | None:
    """The first of the database file at ``path`` and SQLite's -wal and -shm files beside it that
    exists and this process may not both read and write (``None`` if none)."""
    return next((f for f in (path, *_wal_files(path)) if os.path.exists(f) and not os.access(f, os.R_OK | os.W_OK)), None)


def _wal_files(path: str) -> tuple[str, str]:
    """SQLite's -wal and -shm files of the database at ``path``: beside the file, where SQLite makes
    them, not beside a symbolic link that names it."""
    real = os.path.realpath(path)
    return real + "-wal", real + "-shm"


def _file_id(path: str) -> tuple[int, int] | None:
    """The device and inode of the file at ``path`` (``None`` if there is none)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _busy(exc: BaseException) -> bool:
    return isinstance(exc, sqlite3.OperationalError) and ("locked" in str(exc) or "busy" in str(exc))


def _open_problem(path: str, exc: sqlite3.Error, read_only: bool = False) -> str:
    """What is wrong with ``path``, in words, from the error SQLite gave while opening it."""
    name = getattr(exc, "sqlite_errorname", "")  # Python >= 3.11; the message text before that
    text = str(exc)
    where = os.path.abspath(path)
    if name == "SQLITE_NOTADB" or "not a database" in text:
        return f"{where!r} exists but is not an SQLite database"
    cannot_open = name in ("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM")
    if read_only and (cannot_open or "unable to open" in text):
        return f"{where!r} cannot be opened for reading ({text}); the file must be readable by this process"
    if cannot_open or "unable to open" in text or "readonly" in text:
        return (
            f"{where!r} cannot be opened for reading and writing ({text}); the file and its directory "
            "must be readable and writable by this process (SQLite writes -wal and -shm files beside it)"
        )
    return f"{where!r} could not be opened: {text}"


def _remove_wal_files(path: str) -> None:
    """Remove the -wal and -shm files a read-only connection made beside ``path`` and, unable to
    write, left at its close: through a connection that may write, whose close removes them as
    SQLite does, only where it is the last on the file. Only an empty log: what another process
    wrote there is not written into the database by a store opened not to write."""
    with contextlib.suppress(OSError, sqlite3.Error):
        if os.path.getsize(_wal_files(path)[0]) > 0:
            return
        conn = sqlite3.connect(f"{Path(path).as_uri()}?mode=rw", uri=True, timeout=0)  # never makes the file
        try:
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()  # opens the log, to close it
        finally:
            conn.close()


def _remove_database(path: str) -> None:
    """Delete a database file and SQLite's files beside it (after an open that created it failed)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(OSError):
            os.remove(path + suffix)
