"""The outage journal: attempts that wait on this host while a server store is unreachable.

A server store (PostgreSQL) gives every attempt an idempotency key, ``(origin, seq)``: ``origin``
names the store object that wrote it (one per open store, so one per router process), ``seq``
counts its attempts. When the server cannot be reached, attempts go to a journal file instead, in
order, with their keys; on reconnect they are written to the server in that order, and the server's
unique key makes each count exactly once, even one whose first write reached the server but whose
answer was lost (and one pruned from the log since: prune keeps the keys it deletes).

Each open store has its own journal file, ``<folder>/<origin>.journal`` (SQLite, WAL), created at
the first outage and removed once it is empty. The store holds an exclusive lock on it (``flock``)
while it is open, so a second router process on the same host never touches it. A journal whose
process died (``kill -9`` in an outage) is an orphan: the next store opened on the same host and
database adopts it (takes its lock) and writes its attempts under their original keys, unless it
names another store (``Store.store_id``, kept in the journal: two databases may share a folder); the
journals naming the store in the folders of its other spellings (another host name or address for
the same server) are adopted too. One that cannot be read (damaged) is left where it is and logged
(``journal_unreadable``) at each try; one of another user (a ``journal_dir`` two users share), whose
lock this process may not open, is left to that user's routers. A record in a journal that cannot be
read (edited by hand, damaged) would fail every write of the journal, and the store would never go
back online: it is moved to ``<origin>.journal.damaged`` beside the journal (a JSON object a line:
its seq, the error, the record as it was stored) for a person to read, logged once
(``journal_record_set_aside``), and the records after it are written.

A record that the server refuses for its own sake (a trigger's or a constraint's error on that row)
would hold back every record after it for good, and the store would never go back online: it is
moved to ``<origin>.journal.refused`` beside the journal (a JSON object a line: its seq, the
server's error, and the record as ``record_to_json`` wrote it, which ``record_from_json`` reads back
for an append once the server takes it), logged (``journal_record_refused``), and the records after
it are written. The store judges a refusal to be the record's own when the server refuses it twice
while taking a record after it of its kind in between (or, where those after it are of other
kinds, a probe of its kind: see ``PostgresStore``); a refusal of every write (a privilege taken
away, a trigger refusing every row), or of every write to the record's table, sets nothing aside:
the journal waits for it.
One the log holds already under its key (its first write reached the server but the answer was
lost, and a ``BEFORE INSERT`` trigger refuses it before the key's check) is written: it leaves the
journal as written, not set aside to be appended twice.

A journal holds at most ``max_attempts`` attempts (a few hundred bytes each). An append that does
not fit is not kept, nor is any after it until the journal has been written: ``Store.append`` says
what the store then counts and logs.

Trace closes (``TraceClose``) and tool removals (``ToolRemoval``) wait with the attempts, in order,
under keys from the same counter:
what is said here of attempts holds for the log's rows of every kind.

Journals hold request texts, so they are private to the user the router runs as, whatever its
umask: the folders the store makes for them are ``0700`` (its per-server folder is made so even
if it exists), the journal and its SQLite, lock, ``.damaged`` and ``.refused`` files ``0600``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from toolrouter.logging import EventLog
from toolrouter.store.base import AttemptRecord, LogEntry, ToolRemoval, TraceClose

__all__ = ["Journal", "record_from_json", "record_to_json"]

log = EventLog(__name__)

SUFFIX = ".journal"
#: Beside a journal, what of it could not be read (``Journal.head``).
DAMAGED = ".damaged"
#: Beside a journal, what of it the server refuses for its own sake (``Journal.set_aside``).
REFUSED = ".refused"

#: What ``record_from_json`` raises for a record it cannot read (the file damaged or edited by hand).
_UNREADABLE = (ValueError, TypeError, KeyError, AttributeError, RecursionError)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (seq INTEGER PRIMARY KEY, record TEXT NOT NULL);
"""


def record_to_json(r: LogEntry) -> str:
    """One attempt as a JSON object (floats and the context exactly as they are), one trace close
    (``"kind": "trace_close"``) or one tool removal (``"kind": "tool_removal"``)."""
    if isinstance(r, ToolRemoval):
        removal = {"kind": "tool_removal", "tool_id": r.tool_id, "timestamp": r.timestamp.isoformat(), "writer": r.writer}
        if r.capabilities is not None:  # a whole tool's reads as before capabilities were kept
            removal["capabilities"] = list(r.capabilities)
        return json.dumps(removal)
    if isinstance(r, TraceClose):
        return json.dumps(
            {
                "kind": "trace_close",
                "trace_id": r.trace_id,
                "finished": r.finished,
                "timestamp": r.timestamp.isoformat(),
                "writer": r.writer,
            }
        )
    return json.dumps(
        {
            "task_id": r.task_id,
            "task_type": r.task_type,
            "step": r.step,
            "capability": r.capability,
            "tool_id": r.tool_id,
            "success": bool(r.success),
            "quality": float(r.quality),
            "cost": float(r.cost),
            "latency_s": float(r.latency_s),
            "utility": float(r.utility),
            "error": r.error,
            "timestamp": r.timestamp.isoformat(),
            "context": None if r.context is None else [float(v) for v in np.asarray(r.context, dtype=float).ravel()],
            "writer": r.writer,
            "trace_id": r.trace_id,
            "depends_on": None if r.depends_on is None else list(r.depends_on),
            "request": r.request,
            "complexity": r.complexity,
            "recheck": r.recheck,
            "request_key": r.request_key,
            # only where there is one: a journal without conversations stays one an older reader reads
            **({} if r.conversation_id is None else {"conversation_id": r.conversation_id}),
        }
    )


def record_from_json(text: str) -> LogEntry:
    """The attempt, trace close or tool removal ``record_to_json`` wrote (an attempt written before traces were
    stored has none, and no ``kind``; one written before rechecks were stored was no recheck's, one
    written before request keys or conversations were stored has none)."""
    d = json.loads(text)
    d["timestamp"] = datetime.fromisoformat(d["timestamp"])
    kind = d.pop("kind", None)
    if kind == "trace_close":
        return TraceClose(**d)
    if kind == "tool_removal":
        return ToolRemoval(**d)
    if d["context"] is not None:
        d["context"] = np.asarray(d["context"], dtype=np.float64)
    return AttemptRecord(**d)


class Journal:
    """One journal file, locked by this process while open (see the module's docstring).

    ``origin`` is the idempotency origin of the attempts in it. Not thread-safe: the store calls it
    under its own lock.
    """

    def __init__(
        self, path: Path, origin: str, max_attempts: int, *, lock_fd: int | None = None, store_id: str | None = None
    ) -> None:
        self.path = Path(path)
        self.origin = origin
        self.max_attempts = int(max_attempts)
        self._lock_fd = lock_fd if lock_fd is not None else _lock(self.path, blocking=True)
        conn = None
        try:
            _private_files(self.path)
            conn = self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")  # durable across a crash of the process
            self._conn.executescript(_SCHEMA)
            self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('origin', ?)", (origin,))
            if store_id is not None:  # whose log its attempts belong to (see orphans)
                self._conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('store_id', ?)", (store_id,))
            self._size = int(self._conn.execute("SELECT COUNT(*) FROM attempts").fetchone()[0])
        except BaseException:
            if conn is not None:  # not left for the collector: the failed open's error holds it
                conn.close()
            os.close(self._lock_fd)
            raise

    @classmethod
    def for_origin(cls, folder: Path, origin: str, max_attempts: int, store_id: str | None = None) -> "Journal":
        """This store's own journal in ``folder`` (created with the folder if missing), naming the
        store (``Store.store_id``) its attempts are for."""
        _private_folder(folder)
        return cls(folder / f"{origin}{SUFFIX}", origin, max_attempts, store_id=store_id)

    @classmethod
    def orphans(
        cls, folder: Path, exclude: str, store_id: str | None = None, *, named_only: bool = False
    ) -> Iterator["Journal"]:
        """Journals in ``folder`` whose process is gone (their lock is free), each locked for the
        caller; ``exclude`` is the caller's own origin. Given ``store_id``, a journal that names
        another store is left where it is: the folder is named after the server and database as
        the URL spells them (or libpq's environment fills them in), which another database may
        share. One that names none (written before journals named their store) is taken, unless
        ``named_only`` (the folder of another spelling, which may be another database's)."""
        if not folder.is_dir():
            return
        for path in sorted(folder.glob(f"*{SUFFIX}")):
            if path.stem == exclude:
                continue
            try:
                fd = _lock(path, blocking=False)
            except OSError as exc:  # its lock cannot be taken (a folder in its place, ENOLCK): said, and the search goes on
                log.error("journal_unreadable", journal=str(path), error=str(exc))
                continue
            if fd is None:  # a live process holds it
                continue
            if not path.exists():  # removed by its owner between the listing and the lock
                os.close(fd)
                continue
            try:
                with contextlib.closing(sqlite3.connect(path)) as conn:  # closed when a read fails too
                    row = conn.execute("SELECT value FROM meta WHERE key = 'origin'").fetchone()
                    owner = conn.execute("SELECT value FROM meta WHERE key = 'store_id'").fetchone()
                problem = "it names no origin" if row is None else None
            except sqlite3.Error as exc:
                row, problem = None, str(exc)
            if row is None:  # kept for whoever can mend it, but said: its attempts reach no server
                log.error("journal_unreadable", journal=str(path), error=problem)
                os.close(fd)
                continue
            if store_id is not None and (owner is None and named_only or owner is not None and owner[0] != store_id):
                if not named_only:  # in the store's own folder: said (another folder holds others' anyway)
                    log.info("journal_of_another_store", journal=str(path), store_id=None if owner is None else owner[0])
                os.close(fd)
                continue
            try:  # its meta read, the rest may still be damaged: said, and the search goes on
                journal = cls(path, row[0], max_attempts=2**62, lock_fd=fd)  # which closes fd if it fails
            except (OSError, sqlite3.Error) as exc:
                log.error("journal_unreadable", journal=str(path), error=str(exc))
                continue
            yield journal

    def __len__(self) -> int:
        return self._size

    def add(self, seqs: Sequence[int], records: Sequence[LogEntry]) -> int:
        """Keep ``records`` under their ``seqs`` if they all fit; returns how many were kept (all or
        none: never a trace's attempts without its close). One transaction: an add that fails (the
        disk full) keeps none of them."""
        kept = list(zip(seqs, records)) if self._size + len(records) <= self.max_attempts else []
        if kept:
            with self._conn:  # one transaction (the connection autocommits each statement): all or none
                self._conn.execute("BEGIN")
                added = self._conn.executemany(
                    "INSERT OR IGNORE INTO attempts (seq, record) VALUES (?, ?)",
                    [(int(s), record_to_json(r)) for s, r in kept],
                ).rowcount
            self._size += added
        return len(kept)

    def head(self, limit: int) -> list[tuple[int, LogEntry]]:
        """The oldest ``limit`` attempts, in order, with their seqs (``[]`` only when none is left).
        One that cannot be read is set aside (``_set_aside``) on the way."""
        while True:
            # as bytes: text that is not UTF-8 failed the whole read, not its record alone
            rows = self._conn.execute(
                "SELECT seq, CAST(record AS BLOB) FROM attempts ORDER BY seq LIMIT ?", (int(limit),)
            ).fetchall()
            entries = []
            for seq, data in rows:
                try:
                    entries.append((int(seq), record_from_json(data)))
                except _UNREADABLE as exc:
                    self._set_aside(int(seq), data, exc, DAMAGED, "journal_record_set_aside")
            if entries or not rows:
                return entries

    def newest(self) -> tuple[int, LogEntry] | None:
        """The newest record with its seq; ``None`` if there is none, or it cannot be read (``head``
        sets it aside when it comes to it)."""
        row = self._conn.execute("SELECT seq, CAST(record AS BLOB) FROM attempts ORDER BY seq DESC LIMIT 1").fetchone()
        try:
            return None if row is None else (int(row[0]), record_from_json(row[1]))
        except _UNREADABLE:
            return None

    def set_aside(self, seq: int, exc: Exception) -> None:
        """Move the record under ``seq``, which the server refuses for its own sake, to
        ``<journal>.refused`` (see the module's docstring): left first in the journal, it held back
        every record after it, and the store never went back online."""
        row = self._conn.execute("SELECT CAST(record AS BLOB) FROM attempts WHERE seq = ?", (int(seq),)).fetchone()
        if row is not None:
            self._set_aside(int(seq), row[0], exc, REFUSED, "journal_record_refused")

    def _set_aside(self, seq: int, data: bytes | None, exc: Exception, suffix: str, event: str) -> None:
        """Move the record under ``seq`` to ``<journal><suffix>`` (a JSON object a line: its seq, the
        error, the record as stored), for a person to read, and log ``event``: left in the journal,
        it failed every write of it (one that cannot be read, the file damaged or edited by hand:
        ``DAMAGED``; one the server refuses: ``REFUSED``), and the store never went back online."""
        aside = f"{self.path}{suffix}"
        error = f"{type(exc).__name__}: {exc}"
        text = data.decode("utf-8", "backslashreplace") if isinstance(data, bytes) else repr(data)
        line = json.dumps({"seq": seq, "error": error, "record": text}) + "\n"
        with open(os.open(aside, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), "a", encoding="utf-8") as out:
            out.write(line)
        with self._conn:
            self._conn.execute("DELETE FROM attempts WHERE seq = ?", (seq,))
        self._size -= 1
        log.error(event, journal=str(self.path), seq=seq, error=error, kept_in=aside)

    def remove_upto(self, seq: int) -> None:
        """Forget the attempts with a seq up to ``seq`` (written to the server)."""
        with self._conn:  # counted as deleted: a count of the rest scanned the journal, at each record of a pass
            self._size -= self._conn.execute("DELETE FROM attempts WHERE seq <= ?", (int(seq),)).rowcount

    def close(self) -> None:
        """Close the file, delete it if empty, release the lock."""
        empty = self._size == 0
        self._conn.close()
        if empty:
            for suffix in ("", "-wal", "-shm", ".lock"):
                with contextlib.suppress(OSError):
                    os.remove(f"{self.path}{suffix}")
        os.close(self._lock_fd)


def _private_folder(folder: Path) -> None:
    """Make ``folder`` and its missing parents ``0700``, and ``folder`` itself so if it exists and
    is this user's (set after ``mkdir``, whose mode the umask narrows)."""
    if not folder.parent.is_dir():
        _private_folder(folder.parent)
    try:
        folder.mkdir(0o700)
    except FileExistsError:
        if not folder.is_dir() or folder.stat().st_uid != os.getuid():  # a file, another user's folder:
            return  # not ours to change (a journal then cannot be made there, and the store says so)
    os.chmod(folder, 0o700)


def _private_files(path: Path) -> None:
    """Make the journal at ``path`` ``0600`` before SQLite opens it (SQLite gives its ``-wal``
    and ``-shm`` files the journal's mode), and any of its files an older version left readable."""
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for suffix in ("", "-wal", "-shm", ".lock"):
        with contextlib.suppress(FileNotFoundError, PermissionError):  # another user's: left as it is
            os.chmod(f"{path}{suffix}", 0o600)


def _lock(path: Path, *, blocking: bool) -> int | None:
    """An exclusive ``flock`` on ``<path>.lock`` (a file beside the journal, so that SQLite's own
    locks on the journal are left alone); ``None`` if another process holds it, or (not
    ``blocking``) it is another user's."""
    try:  # only the owner creates it: an orphan's lock file exists since its journal does
        fd = os.open(f"{path}.lock", os.O_RDWR | (os.O_CREAT if blocking else 0), 0o600)
    except FileNotFoundError:
        return None
    except PermissionError:
        if blocking:
            raise
        return None  # another user's orphan (a shared journal_dir): for that user's routers to write
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd
