"""The store interface: an append-only log of attempts plus named snapshots of learned state.

A store is deliberately small, so that a server database can be added without touching the router:

- ``append(records)`` writes attempts atomically and returns their ids. Ids increase, and a
  reader never sees an attempt whose id is below one it has already read (the embedded stores
  number attempts in commit order; the PostgreSQL one shows an id only once no running transaction
  can commit below it), so "every attempt with an id above N" is a well-defined set to catch up
  on. Ids need not be consecutive.
- ``attempts(after_id)`` reads them back in id order (for catching up with other processes and for
  rebuilding state).
- The log also holds *trace closes* (``TraceClose``: a trace, and whether it finished), appended
  like attempts and numbered from the same ids: a trace closed unfinished (a step of it never ran)
  teaches no structure, and a router replaying the log must know that at the same place as the
  router that closed it. So does a *tool removal* (``ToolRemoval``): a router removed the tool (or
  took capabilities from it), and its attempts before (on those capabilities' routes) are no longer
  the record of a tool registered again under its id (or given them back).
  ``log(after_id)`` reads attempts, trace closes and tool removals together, in id order;
  ``attempts``, ``count`` and ``summary`` speak of attempts only.
- ``put_snapshot`` / ``get_snapshot`` keep the latest learned state under a name, with the id of the
  last attempt it includes (its *watermark*). A snapshot never replaces a newer one;
  ``delete_snapshot`` removes one (a router no longer used, whose snapshot holds ``prune`` back);
  ``snapshot_infos`` lists them without their bytes.
- ``store_id`` names the store: a random id made with it and kept in it, so that a watermark,
  which counts one store's attempt ids, is never taken for a position in another store's log.

The router's state is always "snapshot + every attempt after its watermark", which is what lets a
second process resume, and two processes write to one store without losing anything.

Routers sharing a store also agree there which of them runs a due recheck (``claim``, turn by
turn; the default gives every caller every turn), since a recheck in flight is in no log yet.

A server store adds two things the embedded ones do not need: it tells the routers that share it
when others have appended (``on_new_attempts``), and while its server is unreachable it keeps
attempts in a local journal (``append`` then returns no ids; ``flush`` writes them once it can).
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from types import TracebackType
from typing import Any, TypeVar

import numpy as np

from toolrouter._checks import check_count, real_array
from toolrouter.errors import CorruptStateError, StoreOpenError, ToolRouterError
from toolrouter.models import MAX_CONVERSATION_ID_CHARS, kept_text, storable_text, truncate_error, utc_time
from toolrouter.serialization import short_repr

__all__ = [
    "AttemptRecord",
    "MAX_REQUEST_CHARS",
    "MAX_SNAPSHOT_NAME",
    "ROW_COLUMNS",
    "Snapshot",
    "SnapshotInfo",
    "Store",
    "StoreUnavailableError",
    "ToolRemoval",
    "ToolSummary",
    "TraceClose",
    "check_attempts_query",
    "check_callback",
    "check_claim",
    "check_open",
    "check_process",
    "process_lock",
    "check_records",
    "ROUTER_STATE_KEY",
    "check_snapshot",
    "check_snapshot_holds",
    "check_snapshot_name",
    "check_storable",
    "check_upto_id",
    "check_writable",
    "context_bytes",
    "damaged_snapshot",
    "depends_on_text",
    "LOG_CLOSE_COLUMNS",
    "LOG_REMOVAL_COLUMNS",
    "LogEntry",
    "entry_from_row",
    "record_from_row",
    "stored_meta_number",
    "stored_stamp",
    "stored_turn",
    "stored_watermark",
]


class StoreUnavailableError(ToolRouterError, ConnectionError):
    """A store cannot be used right now: a server store's server is down, restarting, too slow to
    answer within the store's timeout, or refusing writes (a standby) or an operation (a role without
    the privilege for it); an SQLite file is locked by another process past the store's
    timeout, on a full or read-only disk, or was deleted. The message names the store and the
    reason. Attempts are not lost: they wait in the store's journal (a server store's on disk, an
    SQLite store's in memory, lost at its close if its file was deleted); reads and snapshots raise
    this instead."""


class StoreUnreachableError(StoreOpenError, StoreUnavailableError):
    """A store that cannot be opened because it cannot be reached now: its server is down,
    restarting, refusing the connection or not answering in time, or its SQLite file is locked by
    another process past the store's timeout. A ``StoreOpenError`` (the open failed) that is also
    a ``StoreUnavailableError`` (the URL may be right, and work later), so that what reports it
    (``toolrouter stats``: exit status 1) does not take it for a malformed URL."""


#: Most characters of a trace's request text that an attempt keeps (the structure model reads only
#: these, live and on replay alike, so every process learns the same from a trace).
MAX_REQUEST_CHARS = 2000
#: What ``toolrouter.drift.request_key`` makes of a request: 16 lowercase hex digits.
_REQUEST_KEY = re.compile(r"[0-9a-f]{16}")


@dataclass(frozen=True)
class AttemptRecord:
    """One row of the attempt log: one call of one tool for one step of one task.

    ``utility`` is the outcome's utility under the weights that applied to its task; ``context`` is
    the numeric context the decision was made with (contextual policies need it to learn), or
    ``None``: a 1-D array of real numbers (a list is taken as one, kept as float64; a string, a
    complex number or a 2-D array is refused naming ``context``). ``id`` is assigned by the store;
    ``writer`` names the process that wrote it. Names (ids, steps, the capability, the writer) are
    refused if a store could not keep them as they are (a NUL, a lone surrogate). ``error`` is cut
    to ``MAX_ERROR_CHARS`` characters like ``ExecutionResult.error``, so no store keeps more of a
    message than that, whoever built the record; it and the request keep a NUL or a lone
    surrogate as U+FFFD (``kept_text``), as every store gives them back.

    An attempt that belongs to a *trace* (what ran for one task, from which the router learns task
    structure: ``toolrouter.structure``) carries ``trace_id``, the steps its step consumed
    (``depends_on``), the task's request text (``request``, at most ``MAX_REQUEST_CHARS``) and its
    complexity; attempts outside traces leave them ``None``.

    ``recheck`` says that the router learned the attempt as the outcome of a *recheck* (drift
    detection put the tool first to see whether it changed): a router replaying the log learns it
    so too, so that its detectors, recheck counts and backed-off waits are the writer's.
    ``request_key``: for a router without a context, the key its drift detectors judged the
    attempt's request by (``toolrouter.drift.request_key``: a hash, 16 hex digits; the request
    itself is not kept), so that a router replaying the log judges it by its request too.
    ``conversation_id``: the conversation the trace's task is a turn of
    (``TaskProfile.conversation_id``, at most ``MAX_CONVERSATION_ID_CHARS`` characters; ``None``:
    none, and every attempt stored before conversations were), so that a router replaying the log
    learns what the conversation ran as its writer did.
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
    trace_id: str | None = None
    depends_on: tuple[str, ...] | None = None
    request: str | None = None
    complexity: str | None = None
    recheck: bool = False
    request_key: str | None = None
    conversation_id: str | None = None

    def __post_init__(self) -> None:
        # what no store can keep, or keeps differently (SQLite as text, memory as it is), is refused
        for name in ("task_id", "task_type", "step", "tool_id", "writer"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name}: expected a string, got {short_repr(getattr(self, name))}")
        for name in ("capability", "error", "trace_id", "request", "complexity", "conversation_id"):
            if not isinstance(getattr(self, name), (str, type(None))):
                raise TypeError(f"{name}: expected a string or None, got {short_repr(getattr(self, name))}")
        # names are kept as they are (error and request texts are mended): SQLite cannot encode a
        # lone surrogate, PostgreSQL keeps a NUL as U+FFFD, so its routers would learn another name
        for name in ("task_id", "task_type", "step", "capability", "tool_id", "writer", "trace_id", "complexity", "conversation_id"):
            if getattr(self, name) is not None:
                check_storable(name, getattr(self, name))
        for name in ("success", "recheck"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise TypeError(f"{name}: expected a bool, got {short_repr(getattr(self, name))}")
        # as every store gives them back (the memory store kept a numpy bool as it was)
        object.__setattr__(self, "success", bool(self.success))
        object.__setattr__(self, "recheck", bool(self.recheck))
        if self.conversation_id is not None and len(self.conversation_id) > MAX_CONVERSATION_ID_CHARS:
            # refused, not cut as a request is: two ids cut alike would be one conversation
            raise ValueError(
                f"conversation_id: expected at most {MAX_CONVERSATION_ID_CHARS} characters, got {short_repr(self.conversation_id)}"
            )
        if self.request_key is not None and not (isinstance(self.request_key, str) and _REQUEST_KEY.fullmatch(self.request_key)):
            raise ValueError(f"request_key: expected 16 lowercase hex digits or None, got {short_repr(self.request_key)}")
        for name in ("quality", "cost", "latency_s", "utility"):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise TypeError(f"{name}: expected a number, got {short_repr(value)}")
            try:
                number = float(value)
            except OverflowError:  # an int beyond any double: isfinite failed in its bare words
                number = math.inf
            if not math.isfinite(number):
                raise ValueError(f"{name} must be finite, got {short_repr(value)}")
            object.__setattr__(self, name, number)  # a float, as every store gives it back
        if self.error is not None:  # frozen: set once, here
            object.__setattr__(self, "error", kept_text(truncate_error(self.error)))
        if not isinstance(self.timestamp, datetime):
            raise TypeError(f"timestamp: expected a datetime, got {short_repr(self.timestamp)}")
        object.__setattr__(self, "timestamp", utc_time(self.timestamp))
        context = self.context
        if context is not None and not (isinstance(context, np.ndarray) and context.dtype == np.float64 and context.ndim == 1):
            # as every store gives it back: a 1-D float64 array (SQLite flattened a 2-D one and cast
            # away an imaginary part; memory kept a string or a list as it was)
            context = real_array("context", context, error=TypeError)
            if context.ndim != 1:
                raise ValueError(f"context: expected a 1-D array of numbers, got shape {context.shape}")
            object.__setattr__(self, "context", context)
        if self.request is not None:
            object.__setattr__(self, "request", kept_text(self.request[:MAX_REQUEST_CHARS]))
        if self.depends_on is not None:
            # step names, or SQLite keeps what no read of the log can take back (every later read fails)
            steps = self.depends_on
            if isinstance(steps, (str, bytes)) or not isinstance(steps, Iterable):
                raise TypeError(f"depends_on: expected a sequence of step names or None, got {short_repr(steps)}")
            steps = tuple(steps)
            for i, step in enumerate(steps):
                if not isinstance(step, str):
                    raise TypeError(f"depends_on[{i}]: expected a step name (a string), got {short_repr(step)}")
            object.__setattr__(self, "depends_on", steps)

    # the generated comparison and hash took the context, an array, as a value: comparing two
    # records with contexts raised (an array's == has no truth value), and hashing one failed
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AttemptRecord):
            return NotImplemented
        return self._compared() == other._compared()

    def __hash__(self) -> int:
        return hash(self._compared())

    def _compared(self) -> tuple[Any, ...]:
        """The fields as ``==`` and ``hash`` read them: the context by its values, as the stores keep them."""
        context = None if self.context is None else self.context.tobytes()
        return tuple(context if f.name == "context" else getattr(self, f.name) for f in fields(self))


def _check_log_entry(entry: TraceClose | ToolRemoval, name: str) -> None:
    """The checks every row of the log that is not an attempt passes: what it names (``name``) and
    its ``writer`` are strings a store keeps, as an attempt's are; its ``timestamp`` is a datetime,
    kept in UTC."""
    for field_name in (name, "writer"):
        if not isinstance(getattr(entry, field_name), str):
            raise TypeError(f"{field_name}: expected a string, got {short_repr(getattr(entry, field_name))}")
        check_storable(field_name, getattr(entry, field_name))
    if not isinstance(entry.timestamp, datetime):
        raise TypeError(f"timestamp: expected a datetime, got {short_repr(entry.timestamp)}")
    object.__setattr__(entry, "timestamp", utc_time(entry.timestamp))


@dataclass(frozen=True)
class TraceClose:
    """One row of the log that is not an attempt: trace ``trace_id`` was closed (its run ended),
    ``finished`` or not (``StructureModel.close``). ``id`` is assigned by the store from the same
    ids as attempts, so that a replay closes the trace where the writer did; ``writer`` names the
    process that wrote it."""

    trace_id: str
    finished: bool
    timestamp: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    writer: str = ""
    id: int | None = None

    def __post_init__(self) -> None:
        _check_log_entry(self, "trace_id")
        if not isinstance(self.finished, (bool, np.bool_)):
            raise TypeError(f"finished: expected a bool, got {short_repr(self.finished)}")
        object.__setattr__(self, "finished", bool(self.finished))


@dataclass(frozen=True)
class ToolRemoval:
    """One row of the log that is not an attempt: a router removed tool ``tool_id``
    (``ToolMetaLearner.remove_tool``), or, with ``capabilities``, took those capabilities from it
    or gave them to it (``ToolMetaLearner.update_tool``). A router replaying
    the log forgets there what the tool's attempts before taught it (on the routes of those
    capabilities only, where given), as the router that removed it did, so that one registering
    the tool again, or giving it the capabilities back, starts it there from its prior, opened on
    the store or not. ``id`` is assigned by the store from the same ids as attempts; ``writer``
    names the process that wrote it."""

    tool_id: str
    timestamp: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    writer: str = ""
    id: int | None = None
    capabilities: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        _check_log_entry(self, "tool_id")
        if self.capabilities is not None:
            names = self.capabilities
            if isinstance(names, (str, bytes)) or not isinstance(names, Iterable):
                raise TypeError(f"capabilities: expected a sequence of capability names or None, got {short_repr(names)}")
            names = tuple(names)
            if not names:  # would read as the whole tool's removal in no store, and forget nothing here
                raise ValueError("capabilities: expected at least one capability, or None for the whole tool")
            for i, name in enumerate(names):
                if not isinstance(name, str):
                    raise TypeError(f"capabilities[{i}]: expected a capability name (a string), got {short_repr(name)}")
                check_storable(f"capabilities[{i}]", name)
            object.__setattr__(self, "capabilities", names)


#: An entry of the log: an attempt, a trace close or a tool removal.
LogEntry = AttemptRecord | TraceClose | ToolRemoval


#: An attempt's columns in the SQL stores, in the order ``record_from_row`` reads them.
ROW_COLUMNS = (
    "id, writer, task_id, task_type, step, capability, tool_id, success, quality, cost, latency_s, "
    "utility, error, timestamp, context, trace_id, depends_on, request, complexity, recheck, request_key, "
    "conversation_id"
)


#: A trace close's row in the shape of ``ROW_COLUMNS`` plus a last column that tells it from an
#: attempt (NULL for one): the SQL stores read the log as one ``UNION ALL`` of both tables, in id
#: order, and ``entry_from_row`` rebuilds each row. ``finished`` sits in the place of ``success``.
LOG_CLOSE_COLUMNS = (
    "id, writer, NULL, NULL, NULL, NULL, NULL, finished, NULL, NULL, NULL, NULL, NULL, timestamp, NULL, "
    "trace_id, NULL, NULL, NULL, NULL, NULL, NULL, 1"
)
#: A tool removal's row in the same shape (see ``LOG_CLOSE_COLUMNS``), its last column 2.
#: Its ``capabilities`` (a JSON list, NULL for the whole tool) sit in the place of ``depends_on``.
LOG_REMOVAL_COLUMNS = (
    "id, writer, NULL, NULL, NULL, NULL, tool_id, NULL, NULL, NULL, NULL, NULL, NULL, timestamp, NULL, "
    "NULL, capabilities, NULL, NULL, NULL, NULL, NULL, 2"
)


def context_bytes(context: np.ndarray | None) -> bytes | None:
    """How the SQL stores keep a context: little-endian float64 bytes (``None`` stays ``None``)."""
    return None if context is None else np.ascontiguousarray(context, dtype="<f8").tobytes()


def depends_on_text(depends_on: Sequence[str] | None) -> str | None:
    """How the SQL stores keep a trace step's parents, and a tool removal's capabilities: a JSON
    list (``None`` stays ``None``)."""
    return None if depends_on is None else json.dumps(list(depends_on))


def _names_from_text(text: str | None, field: str = "depends_on") -> tuple[str, ...] | None:
    """The names ``depends_on_text`` kept (a step's parents, a removal's capabilities)."""
    if text is None:
        return None
    if not isinstance(text, str):  # json.loads takes bytes too, SQLite keeps them where text was edited to a blob
        raise ValueError(f"{field}: expected a JSON list of names, got {short_repr(text)}")
    try:
        value = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{field}: expected a JSON list of names, got {text!r}")
    return tuple(value)


#: The numeric columns of an attempt's row, by position in ``ROW_COLUMNS``.
_NUMBER_COLUMNS = ((8, "quality"), (9, "cost"), (10, "latency_s"), (11, "utility"))
#: A yes-or-no column's value, as SQLite (0, 1) and PostgreSQL (a boolean) keep it: text, which
#: SQLite keeps in an INTEGER column edited by hand, is none (bool("false") is True).
_FLAG = {0: False, 1: True}
#: The yes-or-no columns of each table's rows, by position in ``ROW_COLUMNS``.
_FLAG_COLUMNS = {"attempts": ((7, "success"), (19, "recheck")), "trace_closes": ((7, "finished"),), "tool_removals": ()}
#: The text columns of each table's rows, by position in ``ROW_COLUMNS``, and whether they may be
#: NULL: SQLite keeps a blob in one edited by hand, which a row would hold as a name none appended
#: (``b'a'`` for the tool ``'a'``).
_TEXT_COLUMNS = {
    "attempts": (
        (1, "writer", False), (2, "task_id", False), (3, "task_type", False), (4, "step", False), (5, "capability", True),
        (6, "tool_id", False), (12, "error", True), (15, "trace_id", True), (17, "request", True),
        (18, "complexity", True), (20, "request_key", True), (21, "conversation_id", True),
    ),
    "trace_closes": ((1, "writer", False), (15, "trace_id", False)),
    "tool_removals": ((1, "writer", False), (6, "tool_id", False)),
}
_TEXT_OR_NULL = frozenset((str, type(None)))


def _text(value: Any) -> str:
    """A text column's value, else a ``TypeError`` (see ``_TEXT_COLUMNS``)."""
    if type(value) is not str:
        raise TypeError("not text")
    return value


def _text_or_null(value: Any) -> str | None:
    return None if value is None else _text(value)


def _finite(value: Any) -> float:
    """A number column's value as a float, else a ``ValueError``: an append refuses inf and NaN,
    but a row edited by hand keeps them (``1e999`` or the text ``'nan'`` in SQLite, ``'Infinity'``
    in PostgreSQL), and a replay would learn them."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not finite: {number!r}")
    return number


def record_from_row(row: Sequence, source: str | None = None) -> AttemptRecord:
    """The attempt in a row of ``ROW_COLUMNS`` (its timestamp an ISO string or a datetime).

    A row was an ``AttemptRecord`` when it was appended, checked then; it is rebuilt without
    checking again, since routers on a shared store read every other router's attempts. A row
    that cannot be read (edited by hand, damaged), or whose numbers are not finite (which no
    append keeps), raises ``CorruptStateError`` naming ``source`` (the store), the table, the
    row's id and the column."""
    try:
        return _record(row)
    except (ValueError, TypeError, OverflowError, KeyError) as exc:
        raise _damaged_row("attempts", row, exc, source) from None


def entry_from_row(row: Sequence, source: str | None = None) -> LogEntry:
    """The attempt, trace close or tool removal in a row of the log (``ROW_COLUMNS`` plus a column
    that is NULL for an attempt, see ``LOG_CLOSE_COLUMNS`` and ``LOG_REMOVAL_COLUMNS``); a row
    that cannot be read raises ``CorruptStateError`` as ``record_from_row`` says."""
    if row[22] is None:
        return record_from_row(row, source)
    table = "tool_removals" if row[22] == 2 else "trace_closes"
    try:
        return _entry(row)
    except (ValueError, TypeError, OverflowError, KeyError) as exc:
        raise _damaged_row(table, row, exc, source) from None


def _damaged_row(table: str, row: Sequence, exc: Exception, source: str | None) -> CorruptStateError:
    """The error of a row of ``table`` that cannot be read: its id, the column and what is wrong,
    found again column by column (the rebuild converts them all at once, for speed)."""
    problem = str(exc)
    columns = [(i, column, "0 or 1", _FLAG.__getitem__) for i, column in _FLAG_COLUMNS[table]]
    if table == "attempts":
        columns += [(i, column, "a finite number", _finite) for i, column in _NUMBER_COLUMNS]
    columns += [
        (i, column, "text or NULL", _text_or_null) if optional else (i, column, "text", _text)
        for i, column, optional in _TEXT_COLUMNS[table]
    ]
    for i, column, expected, read in columns:
        try:
            read(row[i])
        except (ValueError, TypeError, OverflowError, KeyError):
            problem = f"{column}: expected {expected}, got {short_repr(row[i])}"
            break
    return CorruptStateError(
        f"{table} row {row[0]}: {problem} (a damaged or hand-edited store: restore it from a copy, or repair "
        "or delete the row)",
        source,
    )


def stored_stamp(value: Any, column: str = "timestamp") -> datetime:
    """A row's time: ISO text (SQLite) or a datetime (PostgreSQL), in UTC as every store gives it
    back; text edited by hand without an offset is taken as UTC, as ``utc_time`` takes an appended one.
    Else a ``ValueError`` naming ``column`` and the value."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc)
    try:
        stamp = datetime.fromisoformat(value)
    except (ValueError, TypeError):
        raise ValueError(f"{column}: expected an ISO date and time, got {short_repr(value)}") from None
    try:
        return utc_time(stamp)
    except ValueError:
        raise ValueError(f"{column}: {value} is out of datetime's range in UTC") from None


def _context(value: Any) -> np.ndarray | None:
    """A row's context as ``context_bytes`` kept it."""
    if value is None:
        return None
    if not isinstance(value, (bytes, bytearray, memoryview)) or len(value) % 8:
        size = f"{len(value)} bytes" if isinstance(value, (bytes, bytearray, memoryview)) else short_repr(value)
        raise ValueError(f"context: expected float64 bytes (a multiple of 8), got {size}")
    return np.frombuffer(value, dtype="<f8").copy()


def _record(row: Sequence) -> AttemptRecord:
    quality, cost, latency_s, utility = float(row[8]), float(row[9]), float(row[10]), float(row[11])
    # each difference is 0 for a finite number, NaN for inf or NaN (see _finite): one test, for speed
    if (quality - quality) + (cost - cost) + (latency_s - latency_s) + (utility - utility) != 0.0:
        raise ValueError("not finite")  # _damaged_row names the column
    if not (type(row[1]) is type(row[2]) is type(row[3]) is type(row[4]) is type(row[6]) is str) or not _TEXT_OR_NULL.issuperset(
        (type(row[5]), type(row[12]), type(row[15]), type(row[17]), type(row[18]), type(row[20]), type(row[21]))
    ):
        raise ValueError("not text")  # as above (see _TEXT_COLUMNS)
    rec = object.__new__(AttemptRecord)
    rec.__dict__.update(
        id=int(row[0]),
        writer=row[1],
        task_id=row[2],
        task_type=row[3],
        step=row[4],
        capability=row[5],
        tool_id=row[6],
        success=_FLAG[row[7]],
        quality=quality,
        cost=cost,
        latency_s=latency_s,
        utility=utility,
        error=row[12],
        timestamp=stored_stamp(row[13]),
        context=_context(row[14]),
        trace_id=row[15],
        depends_on=_names_from_text(row[16]),
        request=row[17],
        complexity=row[18],
        recheck=_FLAG[row[19]],
        request_key=row[20],
        conversation_id=row[21],
    )
    return rec


def _entry(row: Sequence) -> TraceClose | ToolRemoval:
    for i, _, _ in _TEXT_COLUMNS["tool_removals" if row[22] == 2 else "trace_closes"]:
        _text(row[i])
    if row[22] == 2:
        removal = object.__new__(ToolRemoval)  # checked when appended
        removal.__dict__.update(
            id=int(row[0]),
            writer=row[1],
            tool_id=row[6],
            capabilities=_names_from_text(row[16], "capabilities"),
            timestamp=stored_stamp(row[13]),
        )
        return removal
    close = object.__new__(TraceClose)  # checked when appended, as record_from_row's attempts
    close.__dict__.update(
        id=int(row[0]),
        writer=row[1],
        trace_id=row[15],
        finished=_FLAG[row[7]],
        timestamp=stored_stamp(row[13]),
    )
    return close


@dataclass(frozen=True)
class Snapshot:
    """Learned state saved under ``name``: opaque bytes that include every attempt up to
    ``watermark`` (an attempt id)."""

    name: str
    data: bytes
    watermark: int
    created: datetime


@dataclass(frozen=True)
class SnapshotInfo:
    """A saved snapshot without its bytes (``Store.snapshot_infos``): its ``name``, the
    ``watermark`` of the attempts it holds, when it was saved and its ``size`` in bytes."""

    name: str
    watermark: int
    created: datetime
    size: int


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

    @property
    def store_id(self) -> str | None:
        """The store's identity: a random id made with the store and kept in it (read-only). Every
        process that opens the store reads the same one, and so does a copy of it (an SQLite file
        copied, a PostgreSQL database restored from a dump): a copy holds the same attempts under
        the same ids. A store made anew (a deleted file created again, another database, another
        ``memory://`` store) gets another. Saved router state names the store its watermark
        counts the ids of (``ToolMetaLearner.load``). ``None``: a store that cannot tell (the
        default, for a backend that keeps none), whose saved state is taken for any other such
        store's, as before stores had identities."""
        return None

    @abstractmethod
    def append(self, records: Sequence[LogEntry]) -> list[int]:
        """Write ``records`` (attempts, trace closes and tool removals) in one transaction (all or none) and
        return their ids, in order.

        A store returns ``[]`` for records it could not write now (a server store's outage, an
        SQLite file locked past its timeout): they are kept locally and written later, in order and
        with their ``writer``, so they come back from ``attempts`` under ids assigned then. What it
        keeps so is bounded (an SQLite store's ``max_pending``, a server store's
        ``journal_max_attempts``): an append is kept whole or dropped whole (never a trace's attempts
        without its close), and once one is dropped every later one is dropped too until what waits
        has been written, so that what reaches the store is a prefix of the appends, in order. Each
        dropped record is counted in the store's ``dropped``; a run of drops is logged once, when it
        starts (``store_pending_full``, ``journal_full``)."""

    @abstractmethod
    def attempts(self, after_id: int = 0, limit: int | None = None) -> list[AttemptRecord]:
        """Attempts with an id above ``after_id``, in id order, at most ``limit`` of them."""

    @abstractmethod
    def log(self, after_id: int = 0, limit: int | None = None) -> list[LogEntry]:
        """Attempts, trace closes and tool removals with an id above ``after_id``, in id order, at most ``limit``
        of them: what a router replays."""

    @abstractmethod
    def count(self) -> int:
        """How many attempts the store holds."""

    @abstractmethod
    def put_snapshot(self, name: str, data: bytes, watermark: int) -> bool:
        """Save ``data`` as snapshot ``name`` unless the stored one has a higher watermark.
        Returns whether it was written. A watermark the snapshot cannot hold is refused with a
        ``ValueError`` naming it (``check_snapshot_holds``): one above the store's highest
        attempt id, or that of a router's state copied from another store (put it with 0)."""

    @abstractmethod
    def get_snapshot(self, name: str) -> Snapshot | None:
        """The snapshot called ``name``, or ``None``; a name no store keeps is refused
        (``check_snapshot_name``)."""

    @abstractmethod
    def snapshot_names(self) -> list[str]:
        """Names of the saved snapshots."""

    def delete_snapshot(self, name: str) -> None:
        """Delete snapshot ``name``: that of a router no longer used, whose watermark holds
        ``prunable`` (and so ``prune``) back. ``UnknownSnapshotError`` (a ``KeyError``) naming the
        store and the snapshots it holds if there is none of that name; a name no store keeps is
        refused (``check_snapshot_name``). A router still running on that name saves it again at
        its next ``save()``; one opened meanwhile starts from what the log keeps."""
        raise NotImplementedError(f"{type(self).__name__}: this store cannot delete snapshots")

    def prune(self, upto_id: int) -> int:
        """Delete the attempts, trace closes and tool removals with an id at or below ``upto_id``
        and return how many attempts went. Ids are never given out again. Prune only what the snapshots hold (``prunable``): a router
        opened later starts from its snapshot and reads the attempts after it, so it learns the
        same; a running router that has not yet read that far resumes from its snapshot at its
        next catch-up (``pruned_upto`` tells it, so a store that prunes also answers that).
        ``count``, ``summary`` and ``toolrouter stats`` then speak of the attempts kept."""
        raise NotImplementedError(f"{type(self).__name__}: this store cannot prune attempts")

    def pruned_upto(self) -> int:
        """The highest attempt id ``prune`` has deleted (0 if it never deleted one): a reader that
        has read up to a lower id may have missed attempts (``ToolMetaLearner.sync`` then resumes
        from its snapshot). Stores that cannot prune answer 0."""
        return 0

    def prunable(self) -> int:
        """The highest attempt id every snapshot holds: the lowest watermark of the snapshots
        (0 without any, so that nothing is pruned before a router has saved its state)."""
        return min((s.watermark for s in self.snapshot_infos()), default=0)

    def snapshot_infos(self) -> list[SnapshotInfo]:
        """The saved snapshots in ``snapshot_names`` order, without their bytes: what ``prunable``
        and ``toolrouter snapshots`` need. The stores that keep snapshots in a database read only
        these columns, not the snapshots' bytes; the default reads each snapshot."""
        snaps = [s for s in map(self.get_snapshot, self.snapshot_names()) if s is not None]
        return [SnapshotInfo(s.name, s.watermark, s.created, len(s.data)) for s in snaps]

    def claim(self, name: str, turn: int) -> bool:
        """Claim turn ``turn`` of ``name`` for the caller: whether it got it, which it does unless
        a caller (in this process or another sharing the store) has claimed that turn or a later
        one. Routers sharing a store claim a due recheck here, so that one of them runs it rather
        than each (an in-flight recheck is in no log until its outcome is). A name no store keeps
        (``check_storable``, ``MAX_CLAIM_NAME``) is refused, as is a ``turn`` that is not a whole
        number from 1 to ``MAX_ATTEMPT_ID``. A store that keeps no claims (the default) gives
        every caller every turn."""
        check_claim(name, turn)
        return True

    def claimed(self, name: str) -> int:
        """The highest turn of ``name`` claimed (``claim``), 0 if none. A stored turn that no
        ``claim`` writes (edited by hand) raises ``CorruptStateError`` naming it (``stored_turn``)."""
        check_claim(name, 1)
        return 0

    def close(self) -> None:
        """Release connections; the default has none."""

    def flush(self) -> None:
        """Write the attempts that wait in a local journal; raise ``StoreUnavailableError`` if they
        cannot be written now. Stores without a journal have nothing to do."""

    def on_new_attempts(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Have ``callback(last_id)`` called, from a background thread, when attempts up to id
        ``last_id`` may have been appended (by anyone: check against what you have seen). Returns
        a function that cancels it. The store keeps only a weak reference to a bound method's
        object. Stores without notifications (memory, SQLite) never call it: their routers catch up
        every ``sync_every`` attempts, or when ``sync()`` is called. A ``callback`` that cannot be
        called is refused (``check_callback``)."""
        check_callback(callback)
        return _nothing

    def iter_attempts(self, after_id: int = 0, batch: int = 10_000) -> Iterator[AttemptRecord]:
        """All attempts with an id above ``after_id``, read ``batch`` at a time. A bad argument is
        refused here, naming it (a ``batch`` of 0 read nothing, as if the log were empty)."""
        return _batches(self.attempts, *_check_batches(after_id, batch))

    def iter_log(self, after_id: int = 0, batch: int = 10_000) -> Iterator[LogEntry]:
        """All attempts, trace closes and tool removals with an id above ``after_id``, read in batches (``log``)."""
        return _batches(self.log, *_check_batches(after_id, batch))

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


#: Largest attempt id (and count of attempts): the stores keep them in 64-bit signed integers.
MAX_ATTEMPT_ID = 2**63 - 1


def stored_meta_number(key: str, value: Any, low: int = 0, source: str | None = None) -> int:
    """A number a store's meta table keeps under ``key`` (``schema_version``, ``pruned_upto``: the
    text of a whole number from ``low``), as an integer; else a ``CorruptStateError`` (a
    ``ValueError``) naming ``source`` (the store), the field and the value (a damaged or hand-edited
    store), which a store's open reports naming the store. Damaged, not a caller's mistake: what
    reads it (``toolrouter stats`` rebuilding a router) does not take it for one."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if isinstance(text, str) and text.isascii() and text.isdecimal() and int(text) >= low:
        return int(text)
    raise CorruptStateError(
        f"meta.{key}: expected a whole number from {low}, got {short_repr(value)} (a damaged or hand-edited store)", source
    )


def stored_turn(name: str, value: Any, source: str) -> int:
    """The turn a store's claims row ``name`` keeps (``Store.claimed``) if it is one ``claim``
    writes, a whole number from 1 to ``MAX_ATTEMPT_ID``; else a ``CorruptStateError`` naming
    ``source`` (the store), the row and the column (edited by hand or damaged: a text, a turn below 1)."""
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ATTEMPT_ID:
        return value
    raise CorruptStateError(
        f"claims row {name!r}: turn: expected a whole number from 1, got {short_repr(value)} (a damaged or hand-edited "
        "store: restore it from a copy, or repair or delete the row)",
        source,
    )


def stored_watermark(name: str, value: Any, source: str) -> int:
    """The watermark a store's snapshots row ``name`` keeps if it is one ``put_snapshot`` writes,
    an attempt id from 0 to ``MAX_ATTEMPT_ID``; else a ``CorruptStateError`` naming ``source`` (the
    store), the snapshot and the column (edited by hand or damaged: a text, a negative id, which
    ``prunable`` gave ``toolrouter prune`` as the bound of what the snapshots hold)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_ATTEMPT_ID:
        return value
    raise damaged_snapshot(name, f"watermark: expected an attempt id, got {short_repr(value)}", source)


def damaged_snapshot(name: object, problem: str, source: str) -> CorruptStateError:
    """The error of snapshot ``name``'s row, damaged or edited by hand: ``source`` (the store), the
    snapshot and ``problem``."""
    return CorruptStateError(
        f"snapshots row {name!r}: {problem} (a damaged or hand-edited store: restore it from a copy, or delete the snapshot)",
        source,
    )


def check_upto_id(upto_id: Any) -> int:
    """``upto_id`` of ``Store.prune`` if it is a whole number from 0 to ``MAX_ATTEMPT_ID``, else a
    ``ValueError`` naming it."""
    return check_count("upto_id", upto_id, high=MAX_ATTEMPT_ID)


#: Most characters of a claim's name (``Store.claim``): PostgreSQL's index takes keys of at most
#: 2,704 bytes (a longer one failed the statement, taken for an outage).
MAX_CLAIM_NAME = 500


def check_claim(name: Any, turn: Any) -> tuple[str, int]:
    """The arguments of ``Store.claim`` as text every store keeps, at most ``MAX_CLAIM_NAME``
    characters, and an int from 1 to ``MAX_ATTEMPT_ID``, else a ``TypeError`` or ``ValueError``
    naming the one that is not."""
    if not isinstance(name, str):
        raise TypeError(f"name: expected a str, got {short_repr(name)}")
    if len(name) > MAX_CLAIM_NAME:
        raise ValueError(f"name: expected at most {MAX_CLAIM_NAME} characters, got {len(name)}")
    return check_storable("name", name), check_count("turn", turn, low=1, high=MAX_ATTEMPT_ID)


def check_callback(callback: Any) -> Callable[[int], None]:
    """The ``callback`` of ``Store.on_new_attempts`` if it can be called, else a ``TypeError``
    naming it: a store calls it later, from its own thread, where a mistake would only be logged."""
    if not callable(callback):
        raise TypeError(f"callback: expected a function of the last attempt id, got {short_repr(callback)}")
    return callback


def check_open(url: str, closed: bool, pid: int | None = None) -> None:
    """A ``ValueError`` naming the store ``url`` if it is ``closed``, or (given ``pid``, the process
    that opened it) used in another process: the caller's mistake, said alike by every store and
    never taken for an outage."""
    if closed:
        raise ValueError(f"store {url!r}: closed")
    if pid is not None:
        check_process(url, pid)


def check_writable(url: str, read_only: bool) -> None:
    """A ``ValueError`` naming the store ``url`` if it was opened ``read_only``: a write to it is
    the caller's mistake, said alike by every store, not an outage (nothing waits to be written)."""
    if read_only:
        raise ValueError(f"store {url!r}: opened read-only (read_only=True); nothing was written")


def check_create(create: Any, field: str = "create") -> bool:
    """``create``, a store's "make a new store where there is none" switch (or another switch,
    named ``field``), if it is a bool; a ``TypeError`` naming it otherwise (``"false"`` would be
    taken for true)."""
    if not isinstance(create, bool):
        raise TypeError(f"{field}: expected True or False, got {short_repr(create)}")
    return create


def check_process(url: str, pid: int) -> None:
    """A ``ValueError`` naming the store ``url`` unless this is process ``pid``, the one that
    opened it. A store's connections are its process's: a forked child that used them mixed its
    statements into the parent's PostgreSQL sessions (answers read by the wrong process, ids under
    the parent's keys) and would break SQLite's locks; each process opens its own store."""
    if os.getpid() != pid:
        raise ValueError(
            f"store {url!r}: opened in process {pid}, used in process {os.getpid()} after a fork; "
            "open the store (or the router) in the process that uses it"
        )


_Lock = TypeVar("_Lock")


def process_lock(lock: _Lock, url: str, pid: int) -> _Lock:
    """``lock``, to be taken (``with process_lock(...)``) once this is known to be process ``pid``
    (``check_process``): checked before the lock, which a forked child may have been copied
    holding (a thread of its parent inside an operation), and would then wait for for ever."""
    check_process(url, pid)
    return lock


def check_records(records: Any) -> list[LogEntry]:
    """The ``records`` of ``Store.append`` as a list of ``AttemptRecord``, ``TraceClose`` and
    ``ToolRemoval``, else a ``TypeError`` naming the first that is none of them (each store failed
    on it in its own words)."""
    if isinstance(records, (str, bytes)) or not isinstance(records, Iterable):
        raise TypeError(f"records: expected a sequence of AttemptRecord, got {short_repr(records)}")
    records = list(records)
    for i, r in enumerate(records):
        if not isinstance(r, (AttemptRecord, TraceClose, ToolRemoval)):
            raise TypeError(f"records[{i}]: expected an AttemptRecord, a TraceClose or a ToolRemoval, got {short_repr(r)}")
    return records


def _check_batches(after_id: Any, batch: Any) -> tuple[int, int]:
    return check_count("after_id", after_id, high=MAX_ATTEMPT_ID), check_count("batch", batch, low=1, high=MAX_ATTEMPT_ID)


def _batches(read: Callable[..., list[Any]], after_id: int, batch: int) -> Iterator[Any]:
    """Every row ``read(after_id, limit=batch)`` gives, batch after batch, in id order."""
    while True:
        rows = read(after_id, limit=batch)
        if not rows:
            return
        yield from rows
        after_id = rows[-1].id or after_id
        if len(rows) < batch:
            return


def check_snapshot(name: Any, data: Any, watermark: Any) -> tuple[str, bytes, int]:
    """The arguments of ``Store.put_snapshot`` as a ``str``, ``bytes`` and an int from 0 to
    ``MAX_ATTEMPT_ID``, else a ``TypeError`` or ``ValueError`` naming the one that is not: a name
    that is not text broke ``snapshot_names`` of the memory store, a text ``data`` failed in each
    store's own words, and a negative or fractional watermark was kept (cut to an int)."""
    name = check_snapshot_name(name)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data: expected bytes, got {type(data).__name__}")
    return name, bytes(data), check_count("watermark", watermark, high=MAX_ATTEMPT_ID)


#: The safetensors metadata key under which a router's saved state keeps its configuration
#: (``ToolMetaLearner.state_bytes``): the one snapshot whose bytes say which attempts they hold.
ROUTER_STATE_KEY = "toolrouter.learner"


def check_snapshot_holds(store: "Store", data: bytes, watermark: int, top_id: int) -> None:
    """A ``ValueError`` naming ``watermark`` unless the snapshot can hold every attempt of
    ``store`` up to it: ``prunable`` trusts the watermark, and ``prune`` would delete attempts that
    no router has saved. ``top_id`` is the highest id the store has given out (pruned ones too).

    Refused: a watermark above ``top_id`` (the attempts appended later up to it would be pruned
    unread), and a router's saved state (``ROUTER_STATE_KEY``) with a watermark above the one it
    holds of this store: its own, if it names this store (or none, saved before stores had
    identities), else 0: state copied from another store holds none of this one's attempts (a
    router loading it replays this store's whole log), so it goes in with watermark 0."""
    if watermark > top_id:
        raise ValueError(
            f"watermark: {watermark} is above the highest attempt id of store {store.url!r} ({top_id}): "
            "a snapshot holds only attempts the store has"
        )
    saved = _saved_position(data)
    if saved is None:
        return
    saved_store, saved_watermark = saved
    if saved_store is not None and store.store_id is not None and saved_store != store.store_id:
        if watermark > 0:
            raise ValueError(
                f"watermark: {watermark} counts the attempt ids of the store the state was saved on "
                f"({saved_store}), not of store {store.url!r} ({store.store_id}); put it with watermark 0: "
                "it holds none of this store's attempts"
            )
    elif watermark > saved_watermark:
        raise ValueError(f"watermark: {watermark} is above the saved state's own watermark {saved_watermark}")


def _saved_position(data: bytes) -> tuple[str | None, int] | None:
    """The store a router's saved state names (``None``: saved before stores had identities) and
    its watermark; ``None`` for other bytes, damaged ones too (the router that loads them says
    what is wrong). Only the safetensors header is read, not the arrays."""
    try:
        (n,) = struct.unpack("<Q", data[:8])
        metadata = json.loads(data[8 : 8 + n]).get("__metadata__") or {}
        config = json.loads(metadata[ROUTER_STATE_KEY])
        saved_store, saved_watermark = config.get("store_id"), config["watermark"]
    except (struct.error, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
    if not isinstance(saved_store, (str, type(None))) or not isinstance(saved_watermark, int) or isinstance(saved_watermark, bool):
        return None
    return saved_store, saved_watermark


#: Most characters of a snapshot's name: PostgreSQL's index takes keys of at most 2,704 bytes (a
#: longer name failed put_snapshot, taken for an outage of the whole store).
MAX_SNAPSHOT_NAME = 500


def check_snapshot_name(name: Any) -> str:
    """A snapshot's ``name`` (``put_snapshot``, ``get_snapshot``) if it is text every store keeps,
    at most ``MAX_SNAPSHOT_NAME`` characters, else a ``TypeError`` or ``ValueError`` naming it: a
    name that is not text was never saved, so reading it answered ``None`` from SQLite and memory
    ("no snapshot") and failed in the database's words in PostgreSQL; one with a NUL or a lone
    surrogate (a command-line argument that is not UTF-8) failed in the words of SQLite's or
    PostgreSQL's encoder. A blank name is refused too, as the router refuses it: no router can
    read or write the snapshot it would name."""
    if not isinstance(name, str):
        raise TypeError(f"name: expected a str, got {short_repr(name)}")
    if not name.strip():
        raise ValueError(f"name: expected a non-empty snapshot name, got {name!r}")
    if len(name) > MAX_SNAPSHOT_NAME:
        raise ValueError(f"name: expected at most {MAX_SNAPSHOT_NAME} characters, got {len(name)}")
    return check_storable("name", name)


def check_storable(field: str, value: str) -> str:
    """``value`` if every store keeps it as it is, else a ``ValueError`` naming ``field``: SQLite
    cannot encode a lone surrogate, PostgreSQL keeps a NUL as U+FFFD (a name would come back as
    another)."""
    if "\x00" in value or storable_text(value) != value:
        raise ValueError(f"{field}: expected text a store can keep (no NUL, no lone surrogate), got {value!r}")
    return value


def check_attempts_query(after_id: Any, limit: Any) -> tuple[int, int | None]:
    """``after_id`` and ``limit`` of ``Store.attempts`` as ints from 0 to ``MAX_ATTEMPT_ID``
    (``limit`` may be None), else a ``ValueError`` naming the one that is not: a float was cut to
    an int, a negative limit read everything from SQLite and nothing from memory, and a larger
    number failed in the database's words."""
    checked = check_count("after_id", after_id, high=MAX_ATTEMPT_ID)
    return checked, None if limit is None else check_count("limit", limit, high=MAX_ATTEMPT_ID)


def _nothing() -> None:
    """Cancels a subscription that was never made."""
