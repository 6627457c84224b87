"""``postgresql://user:password@host:port/database``: one store for routers on many hosts.

Needs the ``postgres`` extra (``pip install "toolrouter[postgres]"``: psycopg 3 and its pool).
The store keeps the guarantees of the SQLite one:

- **One row per attempt, ids in transaction-horizon order.** An append is one plain insert, run
  side by side with the others (no lock shared by all writers); its ids come from its transaction's
  id, and readers see only ids below the oldest transaction still running, so no attempt can later
  commit below what a reader has caught up to: "every attempt with an id above N" stays a
  well-defined set to catch up on, each attempt seen exactly once (see ``postgres_schema``, version
  4). Ids increase but are not consecutive. An attempt is committed and on disk before ``append``
  returns (concurrent appends share the flush). PostgreSQL's text cannot hold NUL: a NUL in an
  attempt's text (a tool's error message, say) is stored as U+FFFD.
- **Snapshots** as in every store: named bytes with a watermark, never replaced by an older one.
- **Catching up without polling.** After an append a writer sends ``NOTIFY toolrouter_attempts``
  unless another did within ``notify_gap_s`` (all writers together: every notification costs every
  listening router a catch-up, so the gap bounds that work whatever the rate of appends); the
  notification names an id above the append's. A background thread per store ``LISTEN``s, passes
  that id on to subscribers without a query, reads the visible position once more
  ``notify_gap_s`` after a notification (for the appends the gap left unannounced, or that an older
  transaction still held back), and every ``poll_s`` in any case (the fallback when notifications
  are lost, say across a reconnect). Routers subscribed with ``on_new_attempts`` catch up at their
  next decision. A notification the server refuses (a role without ``UPDATE`` on
  ``toolrouter.notify_gate``), or one lost to an outage after the attempts committed, fails no
  append: listeners see it at their next poll.
- **Outages lose nothing.** When the server cannot be reached (down, restarting, or not answering
  within ``timeout_s``), or refuses writes (a standby, a database set read-only, a role without the
  privilege to write, a trigger's error, a table dropped by hand; reads go on), ``append`` keeps
  the attempts in a local journal (``toolrouter.store.journal``) and returns ``[]``; routing goes
  on from local state and never waits on the server longer than ``timeout_s``: a catch-up read
  that gets no answer in time raises ``StoreUnavailableError`` (the router routes on from what it
  knows) and counts as an outage. The
  long operations (``count``, ``summary``, ``prune``, snapshots) wait up to ``admin_timeout_s``, so
  that they are not cut short on a big database, but not forever on a server that stopped answering.
  The background thread reconnects every ``retry_s``, writes the journal in order (each attempt
  exactly once, by its idempotency key), and only then goes back to writing directly. A record the
  server refuses for its own sake (a trigger's or a constraint's error on that row: refused twice,
  while the server takes one of the records after it of its kind in between, or where those after
  it are of other kinds, a probe of its kind that names nothing of the log, rolled back) is moved
  beside the journal (``<origin>.journal.refused``, logged ``journal_record_refused``) rather than
  hold back the records after it for good, unless the log holds it already (its answer lost: it is
  written); a refusal of every write moves nothing, nor does one of every write to the record's
  table (the role may not write or read it there, a trigger refuses every row), and the journal
  waits. Reads and snapshots raise ``StoreUnavailableError`` while the server is away, and so does one that the
  server refuses without an outage (the role lacks a privilege), naming the store, the operation and
  the server's words, with the store left online.

Options go in the URL's query, beside libpq's own (``sslmode``, ``application_name``, ...):

=========================  ==========  =============================================================
option                     default     meaning
=========================  ==========  =============================================================
``timeout_s``              2           longest wait for the server (connect, a lock, the pool, an
                                       append, a catch-up read)
``admin_timeout_s``        300         longest wait for a long operation: ``count``, ``summary``,
                                       ``prune`` (and for another one running), reading or writing
                                       a snapshot, the schema check and migration when the store
                                       opens
``pool_max``               4           most connections this process opens for appends and reads
``poll_s``                 1           catch-up fallback interval when no notification arrives
``notify_gap_s``           0.05        at most one notification per this many seconds, all writers
``retry_s``                0.5         reconnect interval during an outage
``journal_dir``            see below   folder of this host's outage journals
``journal_max_attempts``   100000      journal bound (about 300 bytes an attempt, ~30 MB in all)
``listen``                 true        false: catch up by polling every ``poll_s`` only
=========================  ==========  =============================================================

``journal_dir`` defaults to ``$TOOLROUTER_JOURNAL_DIR``, else ``$XDG_STATE_HOME/toolrouter/journal``
(``~/.local/state/toolrouter/journal``), with one sub-folder per server and database; a relative
one is taken from the folder the process is in when it opens the store. Journals
hold request texts: the folders made for them are ``0700``, their files ``0600``, whatever the umask.

A URL that cannot be opened (malformed, unknown option, wrong credentials, no such database, the
server unreachable, a schema newer than this code, a ``journal_dir`` that cannot be made or written)
raises ``StoreOpenError`` naming the URL (its password masked) and the problem; where the server
could not be reached or refused the connection, it is a ``StoreUnreachableError``, also a
``StoreUnavailableError`` (the URL may work later), but not where the server answered and refused
the login (``authentication failed``, no such database or role: the URL needs correcting). Opening
migrates an older schema forward. It waits for a server that does not answer (one that accepts the
connection and then says nothing, say) at most ``timeout_s`` for the connection, but at least 2 s
(libpq's least ``connect_timeout``; a ``connect_timeout`` in the URL overrides it) and that for each
address the host name resolves to; then ``admin_timeout_s`` for the schema check and migration. A journal
that cannot be written during an outage (its disk full, its folder removed since) drops the
records of the log as a full one does (``dropped``, logged ``journal_unwritable``). Both are
logged when the losses start, not at every append that loses more.

Example:
    >>> from toolrouter.store import AttemptRecord
    >>> record = AttemptRecord(task_id="t1", task_type="default", step="search", capability="search",
    ...                        tool_id="web", success=True, quality=1.0, cost=0.0, latency_s=0.2, utility=1.0)
    >>> store = PostgresStore("postgresql://router:secret@db.internal:5432/routing")  # doctest: +SKIP
    >>> ids = store.append([record])  # ids come from the writing transaction, not from 1  # doctest: +SKIP
    >>> len(ids), store.count(), store.attempts()[0].id == ids[0]  # doctest: +SKIP
    (1, 1, True)
    >>> store.close()  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import heapq
import itertools
import math
import os
import re
import select
import socket
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import ConfigDict, Field, ValidationError

from toolrouter._checks import NumbersNotBools, check_real
from toolrouter.errors import NoStoreError, StoreOpenError, UnknownSnapshotError
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
    ToolRemoval,
    ToolSummary,
    TraceClose,
    check_attempts_query,
    check_callback,
    check_claim,
    check_create,
    check_open,
    check_process,
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
    record_from_row,
    stored_meta_number,
    stored_stamp,
    stored_turn,
    stored_watermark,
)
from toolrouter.store.journal import Journal
from toolrouter.store.postgres_schema import CHANNEL, MAX_APPEND, NoSchemaError, SchemaError, migrate

__all__ = ["MAX_SNAPSHOT_BYTES", "PostgresOptions", "PostgresStore"]

log = EventLog(__name__)

_INSTALL = 'the PostgreSQL store needs psycopg 3 and psycopg_pool: pip install "toolrouter[postgres]"'


class PostgresOptions(NumbersNotBools):
    """The store's own options (the URL's query parameters named in the module's table)."""

    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(2.0, gt=0, le=3600)
    admin_timeout_s: float = Field(300.0, gt=0, le=86400)
    pool_max: int = Field(4, ge=1, le=1000)
    poll_s: float = Field(1.0, gt=0, le=3600)
    notify_gap_s: float = Field(0.05, ge=0, le=60)
    retry_s: float = Field(0.5, gt=0, le=3600)
    journal_dir: str | None = Field(None, min_length=1)  # empty: a template's variable left unset, not the default
    journal_max_attempts: int = Field(100_000, ge=1)
    listen: bool = True


_OPTION_NAMES = frozenset(PostgresOptions.model_fields)

# An append (_append_sql) is one statement, its own transaction (past _MAX_PARAMS, several in one):
# a plain insert whose ids are the transaction's id base plus each row's place (see
# postgres_schema, version 4), committed with synchronous_commit on. A key already in the log is skipped (a journal replayed after an answer was
# lost). Then, when due, a second transaction notifies if no writer has within notify_gap_s
# (_NOTIFY); it does not wait for the disk, nor for another writer that is notifying.
# The records are committed by then: a notification the server refuses (a role without UPDATE on
# the gate), or that an outage cuts short, leaves the append's ids to it, and listeners to their polls.
_FIELDS = (
    ("origin_seq", "bigint"), ("writer", "text"), ("task_id", "text"), ("task_type", "text"), ("step", "text"),
    ("capability", "text"), ("tool_id", "text"), ("success", "boolean"), ("quality", "float8"), ("cost", "float8"),
    ("latency_s", "float8"), ("utility", "float8"), ("error", "text"), ("timestamp", "timestamptz"), ("context", "bytea"),
    ("trace_id", "text"), ("depends_on", "text"), ("request", "text"), ("complexity", "text"), ("recheck", "boolean"),
    ("request_key", "text"), ("conversation_id", "text"),
)


#: A trace close's fields (see ``postgres_schema``, version 5).
_CLOSE_FIELDS = (
    ("origin_seq", "bigint"), ("writer", "text"), ("trace_id", "text"), ("finished", "boolean"),
    ("timestamp", "timestamptz"),
)
#: A tool removal's fields (see ``postgres_schema``, versions 10 and 11).
_REMOVAL_FIELDS = (
    ("origin_seq", "bigint"), ("writer", "text"), ("tool_id", "text"), ("timestamp", "timestamptz"), ("capabilities", "text"),
)
#: The kinds of rows an append writes: ``a`` an attempt, ``c`` a trace close, ``r`` a tool removal;
#: the table and fields.
_TABLES = {"a": ("attempts", _FIELDS), "c": ("trace_closes", _CLOSE_FIELDS), "r": ("tool_removals", _REMOVAL_FIELDS)}


@functools.lru_cache(maxsize=32)
def _append_sql(kinds: str, first: int = 0) -> bytes:
    """The append of rows of ``kinds`` (one letter of ``_TABLES`` each, in order), the first at
    place ``first`` of the append: ``$1`` the origin, then one row of parameters each. Every row's
    id is the transaction's id base plus its place in the append, whichever table it goes to."""
    values: dict[str, list[str]] = {kind: [] for kind in _TABLES}
    p = 2
    for place, kind in enumerate(kinds, first):
        fields = _TABLES[kind][1]
        values[kind].append(f"({place}, " + ", ".join(f"${p + j}::{t}" for j, (_, t) in enumerate(fields)) + ")")
        p += len(fields)
    inserts = {}
    for kind, (table, fields) in _TABLES.items():
        if not values[kind]:
            continue
        names = ", ".join(f for f, _ in fields)
        inserts[kind] = f"""
INSERT INTO toolrouter.{table} (id, origin, {names})
SELECT b.base + t.place, $1::text, {", ".join("t." + f for f, _ in fields)}
FROM (VALUES {", ".join(values[kind])}) AS t (place, {names}), (SELECT toolrouter.attempt_id_base() AS base) b
ORDER BY t.place
ON CONFLICT (origin, origin_seq) DO NOTHING
RETURNING id, origin_seq
"""
    if len(inserts) == 1:
        return next(iter(inserts.values())).encode()
    # the tables in one statement, so one transaction: one id base, all or none
    ctes = ", ".join(f"{kind} AS ({insert})" for kind, insert in inserts.items())
    return f"WITH {ctes} SELECT * FROM {' UNION ALL SELECT * FROM '.join(inserts)}".encode()


@functools.lru_cache(maxsize=len(_TABLES))
def _may_append_sql(kind: str) -> bytes:
    """Whether the role may append rows of ``kind`` (see ``_append_sql``): ``INSERT`` on each column
    it writes, ``SELECT`` on those it reads (its key, for ``ON CONFLICT``, and ``RETURNING``)."""
    table, fields = _TABLES[kind]
    columns = ", ".join(f"'{c}'" for c in ("id", "origin", *(f for f, _ in fields)))
    return (
        f"SELECT bool_and(has_column_privilege('toolrouter.{table}', c, 'INSERT') AND "
        f"(c NOT IN ('id', 'origin', 'origin_seq') OR has_column_privilege('toolrouter.{table}', c, 'SELECT'))) "
        f"FROM unnest(ARRAY[{columns}]) AS c"
    ).encode()


#: Appends of up to this many attempts run as statements prepared once per connection (a router's
#: appends); longer ones (a journal's replay) are parsed each time.
_PREPARED_UP_TO = 8

#: Most parameters of one statement (libpq's protocol): a longer append is several statements in
#: one transaction.
_MAX_PARAMS = 65535


def _orphan_refused(path: str) -> str:
    """What resolves the dead router's journal at ``path`` that the server refuses (see ``_replay_orphans``)."""
    return (
        "the server refuses the journal's oldest record: fix what refuses it (a trigger, a constraint, a privilege) "
        f"and a store open on this host writes the journal within retry_s (or the next one opened); or give its records up: move {path}* out of "
        "its folder (SQLite: its table attempts holds each record as record_from_json reads it; docs/deployment.md)"
    )


#: What a probe (``_probe``) names where a record names its task, trace or tool.
_PROBE = "toolrouter-probe"


def _probe(record: LogEntry) -> LogEntry:
    """A record of ``record``'s kind that names no task, trace or tool of the log, from its writer
    at its time: whether the server takes it (rolled back) tells a table that refuses every row (a
    trigger) from one that refuses ``record`` for its own sake (see ``_write_alone``)."""
    if isinstance(record, ToolRemoval):
        return ToolRemoval(_PROBE, timestamp=record.timestamp, writer=record.writer)
    if isinstance(record, TraceClose):
        return TraceClose(_PROBE, True, timestamp=record.timestamp, writer=record.writer)
    return AttemptRecord(
        task_id=_PROBE, task_type=_PROBE, step=_PROBE, capability=None, tool_id=_PROBE, success=True,
        quality=0.0, cost=0.0, latency_s=0.0, utility=0.0, timestamp=record.timestamp, writer=record.writer,
    )


def _kinds(records: Sequence[LogEntry]) -> str:
    """The letter of ``_TABLES`` of each record, in order."""
    return "".join("c" if isinstance(r, TraceClose) else "r" if isinstance(r, ToolRemoval) else "a" for r in records)


def _statements(kinds: str) -> list[tuple[int, int]]:
    """The (start, end) places of the rows of each statement of an append of ``kinds``: as many
    rows as ``_MAX_PARAMS`` allows, the origin (``$1``) included."""
    spans, start, params = [], 0, 1
    for place, kind in enumerate(kinds):
        n = len(_TABLES[kind][1])
        if params + n > _MAX_PARAMS:
            spans.append((start, place))
            start, params = place, 1
        params += n
    return [*spans, (start, len(kinds))]


def _text(value: str | None) -> bytes | None:
    """A text parameter; PostgreSQL's text cannot hold NUL, so a NUL (in a tool's error message,
    say) becomes U+FFFD rather than failing the append."""
    if value is None:
        return None
    if "\x00" in value:
        value = value.replace("\x00", "\ufffd")
    return value.encode()


def _row_params(seq: int, r: LogEntry) -> list[bytes | None]:
    """One row's parameters of ``_append_sql``, in libpq's text format (see ``_TABLES``)."""
    if isinstance(r, ToolRemoval):
        return [b"%d" % seq, _text(r.writer), _text(r.tool_id), r.timestamp.isoformat().encode(), _text(depends_on_text(r.capabilities))]
    if isinstance(r, TraceClose):
        return [b"%d" % seq, _text(r.writer), _text(r.trace_id), b"t" if r.finished else b"f", r.timestamp.isoformat().encode()]
    context = context_bytes(r.context)
    return [
        b"%d" % seq, _text(r.writer), _text(r.task_id), _text(r.task_type), _text(r.step), _text(r.capability),
        _text(r.tool_id), b"t" if r.success else b"f", repr(float(r.quality)).encode(), repr(float(r.cost)).encode(),
        repr(float(r.latency_s)).encode(), repr(float(r.utility)).encode(), _text(r.error),
        r.timestamp.isoformat().encode(), None if context is None else b"\\x" + context.hex().encode(),
        _text(r.trace_id), _text(depends_on_text(r.depends_on)), _text(r.request), _text(r.complexity),
        b"t" if r.recheck else b"f", _text(r.request_key), _text(r.conversation_id),
    ]


def _checked(result: Any) -> Any:
    """``result`` of a libpq call, or the psycopg exception its SQLSTATE names."""
    psycopg = _drivers()[0]
    pq = psycopg.pq
    if result.status in (pq.ExecStatus.COMMAND_OK, pq.ExecStatus.TUPLES_OK):
        return result
    message = (result.error_message or b"").decode("utf-8", "replace").strip() or "the server gave no answer"
    sqlstate = result.error_field(pq.DiagnosticField.SQLSTATE)
    if sqlstate is None:  # no answer from the server: the connection is gone
        raise psycopg.OperationalError(message)
    try:
        error = psycopg.errors.lookup(sqlstate.decode())
    except KeyError:
        error = psycopg.DatabaseError
    raise error(message)


# Notify unless a writer did within the gap; a gate row locked by a writer notifying right now is
# skipped, not waited for (its notification leaves after this append committed). The payload is this
# transaction's id base, above every id of the append (an earlier transaction), so that a listener
# learns without a query that attempts up to it may be there. Returns whether this one notified and the seconds since the last notification.
# A gate more than a gap ahead of the server's clock was set before the clock went back (NTP, a
# restored VM): it is due, else no writer would notify until the clock caught up with it.
_NOTIFY = f"""
WITH due AS (
    SELECT one FROM toolrouter.notify_gate WHERE at <= statement_timestamp() - $1::float8 * interval '1 second'
        OR at > statement_timestamp() + $1::float8 * interval '1 second' FOR UPDATE SKIP LOCKED
), sent AS (
    UPDATE toolrouter.notify_gate g SET at = statement_timestamp() FROM due WHERE g.one = due.one
    RETURNING pg_notify('{CHANNEL}', toolrouter.attempt_id_base()::text)
)
SELECT set_config('synchronous_commit', 'off', true), (SELECT count(*) FROM sent),
    extract(epoch FROM statement_timestamp() - (SELECT at FROM toolrouter.notify_gate))
""".encode()
#: Visible to readers: ids below this bound, which no attempt committing later can take.
_VISIBLE = "id < toolrouter.visible_below()"
#: The largest visible id of the log (one probe of each table's index).
_POSITION = (
    f"SELECT GREATEST((SELECT COALESCE(max(id), 0) FROM toolrouter.attempts WHERE {_VISIBLE}), "
    f"(SELECT COALESCE(max(id), 0) FROM toolrouter.trace_closes WHERE {_VISIBLE}), "
    f"(SELECT COALESCE(max(id), 0) FROM toolrouter.tool_removals WHERE {_VISIBLE}))"
)


#: Whether an attempt's numbers are all finite (NaN is above every float8 in PostgreSQL).
_FINITE_SUMMARY = " AND ".join(
    f"{c} > '-Infinity'::float8 AND {c} < 'Infinity'::float8" for c in ("utility", "quality", "cost", "latency_s")
)


#: The runs of ``$1``'s keys that prune deleted, of those from ``$2`` to ``$3``.
_PRUNED_KEYS = b"SELECT seq_from, seq_to FROM toolrouter.pruned_keys WHERE origin = $1 AND seq_from <= $3 AND seq_to >= $2"
#: The advisory lock prune takes (exclusive) and a journal's write (shared), each till its
#: transaction ends: prunes run one at a time (two at once could lock the same rows in different
#: orders, an index scan's and a sequential one's, and deadlock), and a journal's records are
#: checked against the pruned keys and written with no prune in between (one deleting a checked
#: record before its write let the write append it again).
_PRUNE_LOCK = 0x746F6F6C7072756E  # "toolprun"
_SHARE_PRUNE_LOCK = b"SELECT pg_advisory_xact_lock_shared(%d)" % _PRUNE_LOCK
#: Whether the log holds a row of the origin ``{o}``: each table's newest key of it, read from the
#: top of the key's index (from the bottom, a read would pass the entries of the rows just pruned).
_HAS_ROWS = " OR ".join(
    f"(SELECT max(origin_seq) FROM toolrouter.{table} WHERE origin = {{o}}) IS NOT NULL"
    for table in ("attempts", "trace_closes", "tool_removals")
)
#: An origin whose records no journal can hold any more (see ``_end``): its pruned keys go, and it
#: is kept ended while the log holds its rows, so that prune keeps none of its keys again.
_END = (
    "WITH keys AS (DELETE FROM toolrouter.pruned_keys WHERE origin = %(o)s) "
    f"INSERT INTO toolrouter.ended_origins SELECT %(o)s WHERE {_HAS_ROWS.format(o='%(o)s')} ON CONFLICT DO NOTHING"
)
#: The highest id prune has deleted, as the text meta keeps (see ``prune``); NULL before any.
_PRUNED_UPTO = "SELECT (SELECT value FROM toolrouter.meta WHERE key = 'pruned_upto')"
#: The highest id the log has given out to its rows (visible or not), and what prune deleted
#: (read as text: a damaged mark is named by ``stored_meta_number``, not failed in the server's words).
_TOP_ID = (
    "SELECT GREATEST((SELECT COALESCE(max(id), 0) FROM toolrouter.attempts), "
    "(SELECT COALESCE(max(id), 0) FROM toolrouter.trace_closes), "
    "(SELECT COALESCE(max(id), 0) FROM toolrouter.tool_removals)), "
    f"({_PRUNED_UPTO})"
)


#: Most bytes of a snapshot: PostgreSQL sends a bytea back as hex text, two characters a byte, in a
#: message of at most 1 GiB; a longer one was written, and its reads failed ("invalid memory alloc
#: request size") for good, the attempts it held pruned. A round number under that bound.
MAX_SNAPSHOT_BYTES = 500_000_000


#: The store's identity (see ``postgres_schema``, version 7).
_STORE_ID = "SELECT value FROM toolrouter.meta WHERE key = 'store_id'"


def _read_store_id(conn: Any) -> str:
    """The store's identity; ``SchemaError`` if its row was deleted (by hand: it is not made anew,
    since saved state names it)."""
    row = conn.execute(_STORE_ID).fetchone()
    if row is None:
        raise SchemaError("toolrouter.meta.store_id is missing (a damaged or hand-edited store: restore it from a dump)")
    return str(row[0])


@functools.lru_cache(maxsize=2)
def _stamp_loader(binary: bool = True) -> type:
    """psycopg's loader of ``timestamptz`` (``binary``, else text), but a time no ``datetime`` holds
    (``infinity``, a year past 9999 or before 1: a row edited by hand) loads as the loader's words,
    which the row's rebuild (``record_from_row``, ``stored_stamp``) names as a damaged row:
    psycopg's ``DataError`` failed the whole read, taken for the server's refusal
    (``StoreUnavailableError``), and every router's catch-up was deferred for good. Only for a read
    that failed so: it is slower than psycopg's."""
    psycopg = _drivers()[0]
    from psycopg.types.datetime import TimestamptzBinaryLoader, TimestamptzLoader

    class StampLoader(TimestamptzBinaryLoader if binary else TimestamptzLoader):  # type: ignore[misc]
        def load(self, data: Any) -> Any:
            try:
                return super().load(data)
            except psycopg.DataError as exc:
                return str(exc)

    return StampLoader


def _drivers() -> tuple[Any, Any]:
    try:
        import psycopg
        import psycopg_pool
    except ImportError as exc:
        raise ImportError(f"{_INSTALL} ({exc})") from exc
    return psycopg, psycopg_pool


def masked(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for messages and ``Store.url``): the one
    before the host, as libpq reads it (``_password_span``), and a ``password`` query parameter,
    which libpq takes as well; in libpq's ``key=value`` form (no ``://``), the value of
    ``password``, quoted or not."""
    if "://" not in url:
        return re.sub(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s']+)", r"\1***", url)
    span = _password_span(url)
    if span is not None:
        url = f"{url[: span[0]]}***{url[span[1] :]}"
    return re.sub(r"([?&]password=)[^&#]*", r"\1***", url)


def without_password(url: str) -> str:
    """``url`` with no password at all, for a command shown to a user: one with ``***`` in its
    place would connect with the password "***", while libpq takes the password of a URL without
    one from ``PGPASSWORD`` or ``~/.pgpass``. The same places as ``masked``."""
    if "://" not in url:
        return re.sub(r"\s*\bpassword\s*=\s*(?:'(?:[^'\\]|\\.)*'?|[^\s']+)", "", url).strip()
    span = _password_span(url)
    if span is not None:  # the ":" before it too: "user:@host" is an empty password, not none
        url = f"{url[: span[0] - 1]}{url[span[1] :]}"
    url = re.sub(r"&password=[^&#]*", "", url)
    url = re.sub(r"\?password=[^&#]*&?", "?", url)
    return re.sub(r"\?(?=#|$)", "", url)


def _password_span(url: str) -> tuple[int, int] | None:
    """Where the password before the host of ``url`` starts and ends, as libpq reads it: after the
    first ``:`` and up to the first ``@`` of what comes before the first ``/`` after ``://`` (a
    ``?`` or ``#`` there is the password's, not a query's or a fragment's, as urllib would have
    it); ``None`` without one."""
    if "://" not in url:
        return None
    start = url.find("://") + 3
    slash = url.find("/", start)
    at = url.find("@", start, len(url) if slash < 0 else slash)
    colon = url.find(":", start, at) if at >= 0 else -1
    return None if colon < 0 else (colon + 1, at)


def split_options(url: str, overrides: dict[str, Any]) -> tuple[str, PostgresOptions]:
    """The libpq URL without the store's own query options, and those options (URL values, then
    ``overrides``), validated. A bad value raises ``StoreOpenError`` naming the option and value."""
    try:
        urlsplit(url)
    except ValueError as exc:
        raise StoreOpenError(f"store {masked(url)!r}: malformed URL: {exc}") from None
    # the query starts after the password, which may hold a "?" (libpq reads it so)
    span = _password_span(url)
    cut = url.find("?", 0 if span is None else span[1])
    base, query = (url, "") if cut < 0 else (url[:cut], url[cut + 1 :])
    ours: dict[str, Any] = {}
    libpq = []
    for piece in query.partition("#")[0].split("&"):
        # decoded as libpq decodes its own: %XX only, a "+" is a "+" (a journal_dir "/srv/a+b")
        key, _, value = map(unquote, piece.partition("="))
        if key in _OPTION_NAMES:
            if key in ours:  # which one was meant? (a URL that had the option, with it appended again)
                raise StoreOpenError(f"store {masked(url)!r}: {key} given twice ({ours[key]!r} and {value!r}); give it once")
            ours[key] = value
        elif piece:
            # as typed, for libpq to decode: encoded again, a space (%20) came back as "+", which
            # libpq keeps ("options=-c%20statement_timeout%3D5000" reached the server as "-c+...")
            libpq.append(piece)
    ours.update(overrides)
    try:
        options = PostgresOptions.model_validate(ours)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}={e.get('input')!r}: {e['msg']}" for e in exc.errors())
        raise StoreOpenError(f"store {masked(url)!r}: {problems}") from None
    # the URL as given up to its query: urlunsplit would drop the "//" of an empty host, turning
    # libpq's postgresql:///db (the local server, through its socket) into a malformed one
    return base + (f"?{'&'.join(libpq)}" if libpq else ""), options


#: Database encodings that keep every text a store holds, as UTF-8 clients send it: UTF8 itself,
#: and SQL_ASCII, which keeps the bytes as they come.
_ENCODINGS = ("UTF8", "SQL_ASCII")


def _check_encoding(conn: Any) -> None:
    """``SchemaError`` naming the database's encoding unless it can keep any text: an attempt
    holds requests and error messages in any language, which a LATIN1 database refuses (the
    append fails) or, sent in its own encoding, kept as other characters."""
    # the server says it at connect; a pooler in front of it may not pass it on
    encoding = conn.info.parameter_status("server_encoding") or conn.execute("SHOW server_encoding").fetchone()[0]
    if encoding not in _ENCODINGS:
        raise SchemaError(
            f"the database's encoding is {encoding}, which cannot keep every text a store holds (requests and "
            "error messages in any language); make the store's database with ENCODING 'UTF8'"
        )


def _refuses_writes(conn: Any) -> bool:
    """Whether the server refuses writes in ``conn``'s session (a standby, a database set
    ``default_transaction_read_only``)."""
    return conn.execute("SHOW transaction_read_only").fetchone()[0] == "on"


def _login_refused(exc: BaseException) -> str | None:
    """What the server said no to, in words, where it refused the login (``None`` otherwise):
    credentials it does not take (libpq's connection errors carry no SQLSTATE, so its words are
    read), or a database or role it does not have. An outage would pass; these would not."""
    text = str(exc)
    if re.search(r"authentication failed|pg_hba\.conf|no password supplied", text):
        return "authentication failed (check the user and password: the URL's, PGPASSWORD or ~/.pgpass)"
    if re.search(r'(database|role) ".*" does not exist', text):
        return "no such database or role"
    return None


def _malformed_option(exc: BaseException) -> str | None:
    """What libpq refused in the URL's options, in words (``None`` otherwise): a port that is not
    one, an unknown ``sslmode``. libpq says so only when connecting, where it read as an outage."""
    if re.search(r"invalid (port number|\w+ value)", str(exc)):
        return "malformed URL"
    return None


def _one_line(exc: BaseException) -> str:
    return re.sub(r"\s+", " ", str(exc)).strip() or type(exc).__name__


class PostgresStore(Store):
    """The attempt log and snapshots in a PostgreSQL database (see the module's docstring).

    ``url`` is a libpq URL (``postgresql://user:password@host:port/database``) with the store's
    options in its query; keyword ``options`` override those. ``url`` on the object is the URL with
    its password masked. ``dropped`` counts records of the log (attempts, trace closes and tool removals) lost to a
    full or unwritable journal; ``pending`` is how many wait in this store's journal.
    ``create=False`` refuses (``StoreOpenError``) a database that holds no store yet, instead of
    making one in it: for what only reads a store, where the URL may name the wrong database.
    ``read_only=True`` (implies ``create=False``) writes nothing to the database: an older schema,
    which only a migration makes readable, is refused (``StoreOpenError``) saying so, the journals
    of other processes are left for a store that writes (its own ``journal_dir`` need not be
    writable), and every write (``append``, ``put_snapshot``, ``prune``, ...) is refused with a
    ``ValueError`` naming the store. A standby (a read replica) serves it: one that refuses
    ``LISTEN``, as a standby does, is polled every ``poll_s``.
    """

    def __init__(self, url: str, *, create: bool = True, read_only: bool = False, **options: Any) -> None:
        if not isinstance(url, str):  # bytes or a number failed in psycopg's words, naming nothing
            raise TypeError(f"url: expected a postgresql:// URL string, got {short_repr(url)}")
        self._read_only = check_create(read_only, "read_only")
        create = check_create(create) and not read_only
        psycopg, psycopg_pool = _drivers()
        self._psycopg = psycopg
        self.url = masked(url)
        conninfo, self.options = split_options(url, options)
        opts = self.options
        try:
            params = psycopg.conninfo.conninfo_to_dict(conninfo)
        except psycopg.Error as exc:
            raise StoreOpenError(f"store {self.url!r}: {_one_line(exc)}") from None
        # bounded waits on the network: connecting, and a connection whose peer stopped answering
        defaults = {
            "connect_timeout": str(max(2, math.ceil(opts.timeout_s))),
            "keepalives": "1",
            "keepalives_idle": "5",
            "keepalives_interval": "2",
            "keepalives_count": "3",
            "tcp_user_timeout": str(int(max(1.0, opts.timeout_s) * 1000)),
        }
        # the store's texts are UTF-8 whatever the URL or PGCLIENTENCODING say: appends send UTF-8
        # bytes, and a database's own client encoding (SQL_ASCII, LATIN1) read them back as bytes
        # or as other characters
        self._conninfo = psycopg.conninfo.make_conninfo(
            conninfo, **{k: v for k, v in defaults.items() if k not in params}, client_encoding="UTF8"
        )
        self.origin = uuid.uuid4().hex
        self._seq = 0
        self._notify_after = 0.0  # time.monotonic() before which an append need not try to notify
        self._lock = threading.Lock()
        self._online = True  # appends go straight to the server (no outage, no journal to write)
        self._reachable = True  # reads and snapshots try the server
        self._closed = False
        self._writing = 0  # appends writing to the server now (see close)
        self._pid = os.getpid()  # the process whose connections these are (see check_process)
        self.dropped = 0
        self._dropping: str | None = None  # why records are being dropped now, logged once a streak
        self._said_refused = False  # a refused login was logged in this outage (see _reconnect)
        self._failed: str | None = None  # why the server refused the journal's last write, if it did (see _reconnect)
        # time.monotonic() of the thread's next write of the journal while the server refuses it, as the
        # thread listens on (see _link); flush makes it now
        self._retry_at = 0.0
        self._deferred: dict[str, str] = {}  # orphan journal -> why its adoption was last deferred (see _replay_orphans)
        self._notify_refused = False  # the server refused the last notification (see _write)
        self._journal: Journal | None = None
        self._kept = 0  # records a closed store left in its journal, for the next store on this host
        # the statements prepared on each pooled connection (see _execute)
        self._prepared: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
        self._subscribers: list[Callable[[], Callable[[int], None] | None]] = []
        self._journal_dir = _journal_dir(opts.journal_dir, params)
        problem = None if read_only else _journal_dir_problem(self._journal_dir)  # read-only: it never journals
        if problem:  # found now, not at the first outage, when attempts would have nowhere to go
            raise StoreOpenError(f"store {self.url!r}: journal_dir: {problem}") from None
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None  # started once the store is open (see _link)
        self._pool: Any = None  # made below; closed if the open fails after it
        try:
            with self._connect() as conn:
                _bounded(conn, opts.timeout_s, "timeout_s", _check_encoding)  # before anything is created there
                # a migration may rewrite a big table: a long operation, but not one without end
                migrated = functools.partial(migrate, create=create, read_only=read_only)
                found, now = _bounded(conn, opts.admin_timeout_s, "admin_timeout_s", migrated)
                self._last_id = int(_bounded(conn, opts.timeout_s, "timeout_s", lambda c: c.execute(_POSITION).fetchone()[0]))
                self._store_id = _bounded(conn, opts.timeout_s, "timeout_s", _read_store_id)
            if found != now:
                log.info("store_migrated", url=self.url, schema_from=found, schema_to=now)
            self._pool = psycopg_pool.ConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=opts.pool_max,
                kwargs={"autocommit": True},
                configure=self._configure,
                timeout=opts.timeout_s,
                name=f"toolrouter-{self.origin[:8]}",
                open=False,
            )
            self._pool.open(wait=True, timeout=max(opts.timeout_s, 2.0))
            # inside the cleanup: an open cut short while it writes them (Ctrl-C in a long replay)
            # must not leave the pool's connections and threads behind
            self._replay_orphans()
        except BaseException as exc:
            if self._pool is not None:
                self._pool.close()
            os.close(self._wake_r)
            os.close(self._wake_w)
            if isinstance(exc, SchemaError):
                error = NoStoreError if isinstance(exc, NoSchemaError) else StoreOpenError
                raise error(f"store {self.url!r}: {exc}") from None
            if isinstance(exc, psycopg.Error):
                refused = _login_refused(exc) or _malformed_option(exc)
                if refused:  # libpq or the server said no: the URL is wrong, and trying again would not help
                    raise StoreOpenError(f"store {self.url!r}: cannot open: {refused}: {_one_line(exc)}") from None
                # what an open store would take for an outage is one here too: not a bad URL
                error = StoreUnreachableError if self._unavailable(exc) else StoreOpenError
                raise error(f"store {self.url!r}: cannot open: {_one_line(exc)}") from None
            raise
        self._thread = threading.Thread(target=self._link, name=f"toolrouter-store-{self.origin[:8]}", daemon=True)
        self._thread.start()

    @property
    def store_id(self) -> str:
        """See ``Store.store_id``: kept in the database (``toolrouter.meta``), the same for every
        process and host."""
        return self._store_id

    # --- connections ---------------------------------------------------------------------------
    def _connect(self) -> Any:
        """A new connection outside the pool (opening, listening, probing during an outage)."""
        conn = self._psycopg.connect(self._conninfo, autocommit=True)
        try:
            _bounded(conn, self.options.timeout_s, "timeout_s", self._configure)
        except BaseException:
            conn.close()
            raise
        return conn

    def _configure(self, conn: Any) -> None:
        # an append waits at most timeout_s for a lock (say a maintenance job's on the table); a
        # client that stops in the middle of a transaction (frozen, cut off) loses it before it holds
        # back what readers see for long
        timeout_ms = int(self.options.timeout_s * 1000)
        conn.execute(f"SET lock_timeout = {timeout_ms}")
        conn.execute(f"SET idle_in_transaction_session_timeout = {max(5000, 5 * timeout_ms)}")
        # an append waits for the disk (see _append_sql), even where the server default does not
        if conn.execute("SHOW synchronous_commit").fetchone()[0] == "off":
            conn.execute("SET synchronous_commit = on")

    def _unavailable(self, exc: BaseException) -> bool:
        """Whether ``exc`` means "the server cannot take this now" (rather than a bad request):
        unreachable, or refusing writes for a while (a standby after a failover, a database set
        read-only for maintenance), which the journal waits out as it does an outage."""
        psycopg = self._psycopg
        return isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError, psycopg.errors.ReadOnlySqlTransaction))

    def _answered(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the server's refusal (a missing privilege, a standby, a trigger's
        error), which it answered: no outage, its reads go on."""
        psycopg = self._psycopg
        return isinstance(exc, psycopg.DatabaseError) and not isinstance(exc, psycopg.OperationalError)

    def _went_offline(self, exc: BaseException) -> None:
        """Caller holds ``self._lock``."""
        # a server that only refuses writes (a standby, a role without the privilege, a trigger)
        # still answers reads
        answered = self._answered(exc)
        self._reachable = self._reachable and answered
        if self._online:
            self._online = False
            log.warning("store_writes_refused" if answered else "store_unreachable", url=self.url, error=_one_line(exc))
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _check_open(self) -> None:
        """A closed store is the caller's mistake, said as such: not taken for an outage."""
        check_open(self.url, self._closed, self._pid)

    def _stopping(self) -> bool:
        """Whether the caller is the store's thread and the store is closing: a pass of the thread
        writing journals ends before its next batch or record, and ``close`` writes what is left."""
        return self._stop.is_set() and threading.current_thread() is self._thread

    def _on_server(self, operation: str, fn: Callable[[Any], Any], *, admin: bool = False, write: bool = False) -> Any:
        """Run ``fn(conn)`` on a pooled connection, waiting for the server at most ``timeout_s``
        (``admin_timeout_s`` for an ``admin`` one); an outage, or no answer in time, raises
        ``StoreUnavailableError`` naming ``operation``, as does an error of the server that is no
        outage (permission denied, a limit of the server's, a lock waited for past ``timeout_s``),
        without taking the store offline.
        A ``write`` is refused on a read-only store."""
        self._check_open()
        if write:
            check_writable(self.url, self._read_only)
        if not self._reachable:
            raise StoreUnavailableError(f"store {self.url!r}: the server is unreachable; retrying every {self.options.retry_s:g} s")
        option = "admin_timeout_s" if admin else "timeout_s"
        try:
            with self._pool.connection(timeout=self.options.timeout_s) as conn:
                return _bounded(conn, getattr(self.options, option), option, fn)
        except Exception as exc:
            # a lock waited for past lock_timeout (another router writing the same snapshot) is no
            # outage: the server answered, and appends would be journaled for nothing
            if not self._unavailable(exc) or isinstance(exc, self._psycopg.errors.LockNotAvailable):
                if isinstance(exc, self._psycopg.Error):  # the server's bare words would name no store
                    raise StoreUnavailableError(f"store {self.url!r}: {operation}: {_one_line(exc)}") from exc
                raise
            with self._lock:
                self._went_offline(exc)
            raise StoreUnavailableError(f"store {self.url!r}: {operation}: {_one_line(exc)}") from exc

    # --- the attempt log -----------------------------------------------------------------------
    def append(self, records: Sequence[LogEntry]) -> list[int]:
        """See ``Store.append``: ``[]`` when the server is unreachable and the records went to the
        journal (or, with the journal full, were dropped and counted in ``dropped``). At most
        ``MAX_APPEND`` records an append. Values the server cannot read raise ``ValueError`` naming
        the store (the server's error chained), with nothing written."""
        records = check_records(records)
        if not records:
            return []
        if len(records) > MAX_APPEND:
            raise ValueError(f"records: at most {MAX_APPEND} attempts an append, got {len(records)}")
        check_process(self.url, self._pid)  # before the lock, which a forked child may have been copied holding
        with self._lock:
            self._check_open()
            check_writable(self.url, self._read_only)
            seqs = list(range(self._seq + 1, self._seq + 1 + len(records)))
            self._seq += len(records)
            if not self._online:  # an outage, or its journal is still being written: keep order
                self._keep(seqs, records)
                return []
            self._writing += 1
        try:
            with self._pool.connection(timeout=self.options.timeout_s) as conn:
                written = self._write(conn, self.origin, seqs, records)
        except Exception as exc:
            # what the server refuses without an outage (a role without the privilege to write, a
            # trigger raising an error, a table dropped by hand) it refuses as a standby does: the
            # records wait in the journal until it takes them (flush says why they wait; one it
            # refuses for its own sake is set aside, see _replay) rather than fail the routed call
            # and be lost. Values it cannot read (DataError) are a defect of the store's, which no
            # retry would pass: raised, naming the store (the server's bare words name none)
            if isinstance(exc, self._psycopg.DataError):
                raise ValueError(f"store {self.url!r}: append: the server cannot read the records: {_one_line(exc)}") from exc
            if not (self._unavailable(exc) or self._answered(exc)):
                raise
            with self._lock:  # the write may or may not have committed: its key settles it later
                self._went_offline(exc)
                self._keep(seqs, records)
            return []
        finally:
            with self._lock:
                self._writing -= 1
        return [written[s] for s in seqs]

    def _keep(self, seqs: list[int], records: Sequence[LogEntry]) -> None:
        """Journal ``records`` (caller holds ``self._lock``). A journal that cannot be written (its
        disk full, its folder removed) drops them like a full one: the call that made them and the
        router go on."""
        if self._dropping is not None:  # one was dropped: so is every later one until back online (see Store.append)
            self.dropped += len(records)
            return
        try:
            if self._journal is None:
                self._journal = Journal.for_origin(
                    self._journal_dir, self.origin, self.options.journal_max_attempts, self._store_id
                )
            kept = self._journal.add(seqs, records)
        except (OSError, sqlite3.Error) as exc:
            self._drop(len(records), "journal_unwritable", log.error, journal_dir=str(self._journal_dir), error=repr(exc))
            return
        if not kept:
            self._drop(len(records), "journal_full", log.warning, journal=str(self._journal.path))
        if self._closed:  # an append that raced close(), which has left its journal already
            self._leave_journal()

    def _leave_journal(self) -> None:
        """Close the journal, which keeps on disk what it holds, unlocked, for the next store
        opened on this host and database (caller holds ``self._lock``)."""
        journal, self._journal = self._journal, None
        if journal is None:
            return
        # all it holds: one opened again (an append failing after close) holds what close left too
        self._kept = len(journal)
        if len(journal):
            log.warning("journal_kept", url=self.url, journal=str(journal.path), attempts=len(journal))
        journal.close()

    def _drop(self, n: int, event: str, say: Callable[..., None], **fields: Any) -> None:
        """Count ``n`` records lost for ``event``, which starts a run of drops (``_keep``); logged
        once, not at each append of a long outage (``dropped`` keeps counting)."""
        self.dropped += n
        self._dropping = event
        say(event, url=self.url, dropped=self.dropped, **fields)

    def _write(
        self, conn: Any, origin: str, seqs: Sequence[int], records: Sequence[LogEntry], *, journal: bool = False
    ) -> dict[int, int]:
        """Insert ``records`` under keys ``(origin, seqs)`` in one transaction, then notify if due
        (see ``_NOTIFY``); returns seq -> id of the ones this call wrote (a key already in the log
        is skipped). A ``journal``'s records whose keys were pruned (``_unpruned``) are skipped
        too, checked in the same transaction, under ``_PRUNE_LOCK``."""
        deadline = time.monotonic() + self.options.timeout_s
        kinds = _kinds(records)
        statements = _statements(kinds)
        if len(statements) == 1 and not journal:  # one statement, its own transaction
            rows = [_row_params(seq, r) for seq, r in zip(seqs, records)]
            name = f"toolrouter_append_{len(kinds) if not kinds.strip('a') else kinds}"
            params = [_text(origin), *itertools.chain.from_iterable(rows)]
            results = [self._execute(conn, name if len(kinds) <= _PREPARED_UP_TO else None, _append_sql(kinds), params, deadline)]
        else:  # more parameters than one statement takes, or a journal's: one transaction, one id base
            self._execute(conn, None, b"BEGIN", [], deadline)
            try:
                if journal:
                    self._execute(conn, None, _SHARE_PRUNE_LOCK, [], deadline)
                    kept = self._unpruned(conn, origin, list(zip(seqs, records)))
                    seqs, records = [s for s, _ in kept], [r for _, r in kept]
                    kinds = _kinds(records)
                    statements = _statements(kinds) if kept else []
                rows = [_row_params(seq, r) for seq, r in zip(seqs, records)]
                results = [
                    self._execute(
                        conn, None, _append_sql(kinds[start:end], start),
                        [_text(origin), *itertools.chain.from_iterable(rows[start:end])], deadline,
                    )
                    for start, end in statements
                ]
                self._execute(conn, None, b"COMMIT", [], deadline)
            except BaseException:
                if not conn.closed:  # a failed statement: the transaction goes, the connection stays
                    with contextlib.suppress(Exception):
                        self._execute(conn, None, b"ROLLBACK", [], deadline)
                raise
        written = {int(r.get_value(i, 1)): int(r.get_value(i, 0)) for r in results for i in range(r.ntuples)}
        sent_at = time.monotonic()
        if sent_at >= self._notify_after:
            gap = self.options.notify_gap_s
            try:
                gate = self._execute(conn, "toolrouter_notify", _NOTIFY, [repr(gap).encode()], deadline)
                if gate.get_value(0, 2) is None:  # its row deleted by hand: no writer can notify
                    raise self._psycopg.errors.NoDataFound(
                        "toolrouter.notify_gate has no row (a damaged or hand-edited store: "
                        "INSERT INTO toolrouter.notify_gate VALUES (1, 'epoch') gives it back)"
                    )
            except self._psycopg.Error as exc:
                # the records are committed (their own transaction): an outage loses only the
                # notification (the next append finds the outage), and journaling them for a
                # refusal would never end, each write of the journal refused the same way;
                # listeners poll meanwhile
                if not self._answered(exc):
                    return written
                if not self._notify_refused:  # said once while it lasts, not at every append
                    needs = isinstance(exc, self._psycopg.errors.InsufficientPrivilege)
                    log.warning(
                        "store_notify_refused", url=self.url, error=_one_line(exc),
                        privilege="SELECT and UPDATE on toolrouter.notify_gate" if needs else None,
                        fallback=f"listeners poll every poll_s={self.options.poll_s:g} s",
                    )
                self._notify_refused = True
                self._notify_after = sent_at + gap
                return written
            self._notify_refused = False
            sent, since = int(gate.get_value(0, 1)), float(gate.get_value(0, 2))
            # no need to try again before the gap since the last notification has passed: a listener
            # looks once more notify_gap_s after each notification, and sees this append then
            # (a gate ahead of the clock, since negative: due at the next gap, as above)
            self._notify_after = sent_at + (gap if sent or since >= gap else gap - max(since, 0.0))
        return written

    def _execute(self, conn: Any, name: str | None, sql: bytes, params: list[bytes | None], deadline: float) -> Any:
        """Run ``sql`` with text ``params`` on ``conn``'s libpq handle: prepared once per connection
        under ``name``, or parsed this once without a name. Every router appends at every call, so
        the append skips psycopg's cursors and adapters (a few times its cost); an error raises
        psycopg's exception for its SQLSTATE, as ``conn.execute`` would (connection failures an
        ``OperationalError``, as is a server that has not answered by ``deadline``: see ``_answer``)."""
        pgconn = conn.pgconn
        if name is None:
            pgconn.send_query_params(sql, params)
            return self._answer(conn, deadline)
        prepared = self._prepared.get(conn)
        if prepared is None:
            prepared = self._prepared[conn] = set()
        if name not in prepared:
            pgconn.send_prepare(name.encode(), sql)
            self._answer(conn, deadline)
            prepared.add(name)
        try:
            pgconn.send_query_prepared(name.encode(), params)
            return self._answer(conn, deadline)
        except self._psycopg.errors.InvalidSqlStatementName:
            # gone from the session (DISCARD ALL, a pooler in front of the server): nothing ran;
            # prepare it once more
            pgconn.send_prepare(name.encode(), sql)
            self._answer(conn, deadline)
            pgconn.send_query_prepared(name.encode(), params)
            return self._answer(conn, deadline)

    def _answer(self, conn: Any, deadline: float) -> Any:
        """The result of the statement just sent on ``conn``, checked (``_checked``). A server that
        has not answered by ``deadline`` (``time.monotonic()``) is taken for an outage: libpq would
        wait for it forever (a frozen server, or its disk, holds the connection open), so the
        connection is closed (the pool drops it) and ``OperationalError`` raised; whether the append
        committed, its key settles when the journal is written."""
        pgconn = conn.pgconn
        result = None
        while True:
            while pgconn.is_busy():
                left = deadline - time.monotonic()
                if left <= 0 or not _readable(pgconn.socket, left):
                    conn.close()
                    raise self._psycopg.OperationalError(
                        f"the server did not answer within timeout_s={self.options.timeout_s:g} s"
                    )
                pgconn.consume_input()
            got = pgconn.get_result()
            if got is None:  # the statement's one result has come, and the server is ready again
                return _checked(result)
            result = result or got

    def attempts(self, after_id: int = 0, limit: int | None = None) -> list[AttemptRecord]:
        """See ``Store.attempts``."""
        after_id, limit = check_attempts_query(after_id, limit)
        sql = f"SELECT {ROW_COLUMNS} FROM toolrouter.attempts WHERE id > %s AND {_VISIBLE} ORDER BY id"
        params: tuple[int, ...] = (after_id,)
        if limit is not None:
            sql += " LIMIT %s"
            params += (limit,)
        rows = self._log_rows("attempts", sql, params)
        source = f"store {self.url!r}"  # where a damaged row is, in its error
        return [record_from_row(row, source) for row in rows]

    def log(self, after_id: int = 0, limit: int | None = None) -> list[LogEntry]:
        """See ``Store.log``."""
        after_id, limit = check_attempts_query(after_id, limit)
        sql = (
            f"SELECT {ROW_COLUMNS}, NULL::int FROM toolrouter.attempts WHERE id > %s AND {_VISIBLE} "
            f"UNION ALL SELECT {LOG_CLOSE_COLUMNS} FROM toolrouter.trace_closes WHERE id > %s AND {_VISIBLE} "
            f"UNION ALL SELECT {LOG_REMOVAL_COLUMNS} FROM toolrouter.tool_removals WHERE id > %s AND {_VISIBLE} "
            "ORDER BY id"
        )
        params: tuple[int, ...] = (after_id,) * 3
        if limit is not None:
            sql += " LIMIT %s"
            params += (limit,)
        rows = self._log_rows("log", sql, params)
        source = f"store {self.url!r}"  # where a damaged row is, in its error
        return [entry_from_row(row, source) for row in rows]

    def _log_rows(self, operation: str, sql: str, params: tuple[int, ...]) -> list[Any]:
        """The rows of a read of the log, in the binary protocol: floats and timestamps load without
        parsing text (a router reads every other router's attempts). A time no ``datetime`` holds
        fails the load of them all (``DataError``, which ``_on_server`` would take for the server's
        refusal): they are read again with ``_stamp_loader``, and the row is named as damaged."""

        def read(conn: Any) -> list[Any]:
            try:
                return conn.cursor(binary=True).execute(sql, params).fetchall()
            except self._psycopg.DataError:
                cursor = conn.cursor(binary=True)
                cursor.adapters.register_loader("timestamptz", _stamp_loader())
                return cursor.execute(sql, params).fetchall()

        return self._on_server(operation, read)

    def count(self) -> int:
        """See ``Store.count``."""
        sql = f"SELECT count(*) FROM toolrouter.attempts WHERE {_VISIBLE}"
        return int(self._on_server("count", lambda conn: conn.execute(sql).fetchone()[0], admin=True))

    def summary(self) -> list[ToolSummary]:
        """See ``Store.summary``; aggregated in SQL. A number no append keeps (NaN, inf: edited by
        hand), which SQL would average into a NaN or infinite mean, sends it to ``Store.summary``,
        which reads the rows and names the first such one (``CorruptStateError``), as the SQLite
        store does."""
        rows = self._on_server(
            "summary",
            lambda conn: conn.execute(
                "SELECT task_type, step, tool_id, count(*), sum(success::int), avg(utility), avg(quality), "
                f"avg(cost), avg(latency_s), bool_or(NOT ({_FINITE_SUMMARY})) FROM toolrouter.attempts WHERE {_VISIBLE} "
                "GROUP BY task_type, step, tool_id "
                "ORDER BY task_type COLLATE \"C\", step COLLATE \"C\", tool_id COLLATE \"C\""
            ).fetchall(),
            admin=True,
        )
        if any(r[9] for r in rows):
            return super().summary()
        return [ToolSummary(r[0], r[1], r[2], int(r[3]), int(r[4]), *map(float, r[5:9])) for r in rows]

    def prune(self, upto_id: int) -> int:
        """See ``Store.prune``. A watermark is an id no attempt still to commit can be below (see
        ``visible_below`` in the schema), so nothing pruned up to one can be written after. The
        keys of what it deletes are kept (``toolrouter.pruned_keys``, read by ``_unpruned``), as
        runs merged with those kept of the same origins, but for the origins no journal can hold
        records of any more (``_end``). Prunes run one at a time (``_PRUNE_LOCK``): one waits for
        another up to ``admin_timeout_s``."""
        upto_id = check_upto_id(upto_id)
        # the highest id gone, of attempts, trace closes and tool removals, is kept in meta beside
        # schema_version, and their keys as runs of consecutive seqs, in the same statement
        sql = (
            "WITH closes AS (DELETE FROM toolrouter.trace_closes WHERE id <= %s RETURNING id, origin, origin_seq), "
            "removals AS (DELETE FROM toolrouter.tool_removals WHERE id <= %s RETURNING id, origin, origin_seq), "
            "gone AS (DELETE FROM toolrouter.attempts WHERE id <= %s RETURNING id, origin, origin_seq), "
            "ids AS (SELECT * FROM gone UNION ALL SELECT * FROM closes UNION ALL SELECT * FROM removals), "
            "mark AS (INSERT INTO toolrouter.meta (key, value) SELECT 'pruned_upto', max(id)::text FROM ids "
            "HAVING count(*) > 0 ON CONFLICT (key) DO UPDATE SET value = excluded.value "
            "WHERE excluded.value::bigint > toolrouter.meta.value::bigint), "
            "runs AS (SELECT origin, min(origin_seq) AS seq_from, max(origin_seq) AS seq_to FROM (SELECT origin, "
            "origin_seq, origin_seq - row_number() OVER (PARTITION BY origin ORDER BY origin_seq) AS run FROM ids "
            "WHERE origin IS NOT NULL AND origin_seq IS NOT NULL "
            "AND origin NOT IN (SELECT origin FROM toolrouter.ended_origins)) AS k GROUP BY origin, run), "
            # the runs kept of the same origins are taken out and merged with the new ones: an origin
            # whose rows are pruned in order keeps one row, not one a prune
            "kept AS (DELETE FROM toolrouter.pruned_keys WHERE origin IN (SELECT origin FROM runs) "
            "RETURNING origin, seq_from, seq_to), "
            "spans AS (SELECT *, seq_from > 1 + max(seq_to) OVER (PARTITION BY origin ORDER BY seq_from, seq_to "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) IS NOT FALSE AS starts "
            "FROM (SELECT * FROM runs UNION ALL SELECT * FROM kept) AS r), "
            "keys AS (INSERT INTO toolrouter.pruned_keys (origin, seq_from, seq_to) "
            "SELECT origin, min(seq_from), max(seq_to) FROM (SELECT *, sum(starts::int) OVER (PARTITION BY origin "
            "ORDER BY seq_from, seq_to ROWS UNBOUNDED PRECEDING) AS island FROM spans) AS s GROUP BY origin, island) "
            "SELECT count(*) FROM gone"
        )

        def run(conn: Any) -> int:
            with conn.transaction():
                # another prune may hold the lock for a long operation's time: waited for as long
                conn.execute(f"SET LOCAL lock_timeout = {int(self.options.admin_timeout_s * 1000)}")
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_PRUNE_LOCK,))  # before the statements' snapshots
                self._pruned_mark(conn.execute(_PRUNED_UPTO).fetchone()[0])  # the statement casts it: a damaged one is named
                gone = int(conn.execute(sql, (upto_id,) * 3).fetchone()[0])
                # an ended origin none of whose rows are left needs no mark (after the delete, which it sees)
                conn.execute(f"DELETE FROM toolrouter.ended_origins e WHERE NOT ({_HAS_ROWS.format(o='e.origin')})")
                return gone

        return int(self._on_server("prune", run, admin=True, write=True))

    def pruned_upto(self) -> int:
        """See ``Store.pruned_upto``."""
        return self._pruned_mark(self._on_server("pruned_upto", lambda conn: conn.execute(_PRUNED_UPTO).fetchone()[0]))

    def _pruned_mark(self, value: str | None) -> int:
        """The prune mark ``_PRUNED_UPTO`` read (``None``: 0), or ``CorruptStateError`` naming the
        store and the field if it is not a whole number (a damaged or hand-edited store)."""
        return 0 if value is None else stored_meta_number("pruned_upto", value, source=f"store {self.url!r}")

    # --- snapshots -----------------------------------------------------------------------------
    def put_snapshot(self, name: str, data: bytes, watermark: int) -> bool:
        """See ``Store.put_snapshot``. ``data`` longer than ``MAX_SNAPSHOT_BYTES`` is refused with a
        ``ValueError`` naming both sizes."""
        name, data, watermark = check_snapshot(name, data, watermark)
        if len(data) > MAX_SNAPSHOT_BYTES:  # before the server is asked: no outage hides it, no retry passes it
            raise ValueError(
                f"data: {len(data)} bytes, more than store {self.url!r} keeps in one snapshot ({MAX_SNAPSHOT_BYTES} bytes, "
                "what PostgreSQL can send back)"
            )
        # the highest id given out, of attempts and closes still to be seen too, or pruned since
        top, mark = self._on_server("put_snapshot", lambda conn: conn.execute(_TOP_ID).fetchone(), admin=True, write=True)
        check_snapshot_holds(self, data, watermark, max(int(top), self._pruned_mark(mark)))
        sql = (
            "INSERT INTO toolrouter.snapshots (name, watermark, created, data) VALUES (%s, %s, now(), %s) "
            "ON CONFLICT (name) DO UPDATE SET watermark = excluded.watermark, created = excluded.created, "
            "data = excluded.data WHERE excluded.watermark >= toolrouter.snapshots.watermark RETURNING 1"
        )
        written = self._on_server(
            "put_snapshot", lambda conn: conn.execute(sql, (name, int(watermark), bytes(data))).fetchone(), admin=True
        )
        return written is not None

    def get_snapshot(self, name: str) -> Snapshot | None:
        """See ``Store.get_snapshot``."""
        name = check_snapshot_name(name)
        sql = "SELECT name, data, watermark, created FROM toolrouter.snapshots WHERE name = %s"
        rows = self._snapshot_rows("get_snapshot", sql, (name,))
        if not rows:
            return None
        row = rows[0]
        return Snapshot(row[0], bytes(row[1]), *self._snapshot_columns(row[0], row[2], row[3]))

    def delete_snapshot(self, name: str) -> None:
        """See ``Store.delete_snapshot``."""
        name = check_snapshot_name(name)
        sql = "DELETE FROM toolrouter.snapshots WHERE name = %s RETURNING 1"
        if self._on_server("delete_snapshot", lambda conn: conn.execute(sql, (name,)).fetchone(), admin=True, write=True) is None:
            raise UnknownSnapshotError(self.url, name, self.snapshot_names())

    def snapshot_names(self) -> list[str]:
        """See ``Store.snapshot_names``."""
        rows = self._on_server(
            "snapshot_names",
            lambda conn: conn.execute('SELECT name FROM toolrouter.snapshots ORDER BY name COLLATE "C"').fetchall(),
        )
        return [r[0] for r in rows]

    def snapshot_infos(self) -> list[SnapshotInfo]:
        """See ``Store.snapshot_infos``: one query, which reads a snapshot's size, not its bytes."""
        sql = 'SELECT name, watermark, created, octet_length(data) FROM toolrouter.snapshots ORDER BY name COLLATE "C"'
        rows = self._snapshot_rows("snapshot_infos", sql)
        return [SnapshotInfo(r[0], *self._snapshot_columns(r[0], r[1], r[2]), int(r[3])) for r in rows]

    def _snapshot_rows(self, operation: str, sql: str, params: tuple[str, ...] = ()) -> list[Any]:
        """The rows of a read of the snapshots. A creation time no ``datetime`` holds fails the load
        of them all (``DataError``, which ``_on_server`` would take for the server's refusal): they
        are read again with ``_stamp_loader``, and ``_snapshot_columns`` names the snapshot."""

        def read(conn: Any) -> list[Any]:
            try:
                return conn.execute(sql, params).fetchall()
            except self._psycopg.DataError:
                cursor = conn.cursor()
                cursor.adapters.register_loader("timestamptz", _stamp_loader(binary=False))
                return cursor.execute(sql, params).fetchall()

        return self._on_server(operation, read, admin=True)

    def _snapshot_columns(self, name: str, watermark: Any, created: Any) -> tuple[int, datetime]:
        """A snapshot row's watermark and creation time, in UTC as every store says when (the
        session's time zone is the server's or the role's); ``CorruptStateError`` naming the store,
        the snapshot and the column if one was edited by hand or damaged."""
        source = f"store {self.url!r}"
        watermark = stored_watermark(name, watermark, source)
        try:
            return watermark, stored_stamp(created, "created")
        except ValueError as exc:
            raise damaged_snapshot(name, str(exc), source) from None

    # --- claims --------------------------------------------------------------------------------
    def claim(self, name: str, turn: int) -> bool:
        """See ``Store.claim``: one statement, so the turn goes to one host; raises
        ``StoreUnavailableError`` while the server is away."""
        name, turn = check_claim(name, turn)
        sql = (
            "INSERT INTO toolrouter.claims AS c (name, turn) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET turn = excluded.turn WHERE excluded.turn > c.turn RETURNING 1"
        )
        return self._on_server("claim", lambda conn: conn.execute(sql, (name, turn)).fetchone(), write=True) is not None

    def claimed(self, name: str) -> int:
        """See ``Store.claimed``."""
        name, _ = check_claim(name, 1)
        sql = "SELECT turn FROM toolrouter.claims WHERE name = %s"
        row = self._on_server("claimed", lambda conn: conn.execute(sql, (name,)).fetchone())
        return 0 if row is None else stored_turn(name, row[0], f"store {self.url!r}")

    # --- outages and notifications ---------------------------------------------------------------
    @property
    def pending(self) -> int:
        """How many records of the log (attempts, trace closes and tool removals) wait in this store's journal for
        the server (after ``close``: how many it left there, for the next store opened on this host
        and database to write)."""
        with self._lock:
            return self._kept if self._journal is None else len(self._journal)

    @property
    def online(self) -> bool:
        """Whether appends go straight to the server (False during an outage and its replay)."""
        return self._online

    def flush(self, timeout_s: float | None = None) -> None:
        """Write the journal to the server now; ``StoreUnavailableError`` if it cannot be written
        within ``timeout_s`` (default: the store's ``timeout_s``), or, with nothing in the journal,
        if the server is still away by then (what is appended next would wait). A read-only store
        journals nothing: it returns at once. A ``timeout_s`` that is not a finite number of
        seconds from 0 is refused naming it (NaN waited for ever)."""
        wait_s = self.options.timeout_s if timeout_s is None else check_real("timeout_s", timeout_s, low=0)
        deadline = time.monotonic() + wait_s
        while True:
            with self._lock:
                if self._online or self._read_only:  # nothing waits (a closed store too: close wrote its journal)
                    return
                self._check_open()
                self._retry_at = 0.0
                self._wake()
            if time.monotonic() >= deadline:
                failed, pending = self._failed, self.pending
                why = "the server is unreachable" if failed is None else f"the journal cannot be written to the server: {failed}"
                waiting = f"{pending} attempts, trace closes or tool removals wait" if pending else "nothing waits"
                raise StoreUnavailableError(f"store {self.url!r}: {why}; {waiting} in the journal {self._journal_dir}")
            time.sleep(0.01)

    def on_new_attempts(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """See ``Store.on_new_attempts``: called after notifications and polls of the visible position."""
        check_callback(callback)
        ref: Callable[[], Callable[[int], None] | None]
        if hasattr(callback, "__self__") and hasattr(callback, "__func__"):
            ref = weakref.WeakMethod(callback)  # type: ignore[arg-type]
        else:
            ref = lambda: callback  # noqa: E731
        with self._lock:
            self._subscribers.append(ref)

        def cancel() -> None:
            with self._lock:
                if ref in self._subscribers:
                    self._subscribers.remove(ref)

        return cancel

    def _announce(self, last_id: int) -> None:
        with self._lock:
            refs = list(self._subscribers)
        for ref in refs:
            fn = ref()
            if fn is None:
                with self._lock:
                    if ref in self._subscribers:
                        self._subscribers.remove(ref)
                continue
            try:
                fn(last_id)
            except Exception as exc:  # a subscriber's bug must not stop the store's thread
                log.warning("subscriber_failed", url=self.url, error=repr(exc))

    def _link(self) -> None:
        """The background thread: listen for appends, poll the visible position, reconnect and
        write the journal after an outage. While the server answers but refuses the journal's
        writes, it listens and polls on, and tries the journal every ``retry_s``."""
        listener = None
        listening = False  # whether listener LISTENs (else the thread polls)
        last = self._last_id  # the largest visible id announced
        # something is on its way: look again after notify_gap_s, not poll_s (when listening; a
        # store that only polls looks every poll_s, whatever happens)
        trailing = False
        read_refused = False  # the server refuses the catch-up read, as logged (once while it lasts)
        opts = self.options
        while not self._stop.is_set():
            try:
                if not self._online and (listener is None or time.monotonic() >= self._retry_at):
                    online = self._reconnect()
                    self._retry_at = time.monotonic() + opts.retry_s  # after the try, which may be long
                    if online:
                        trailing = True  # whatever others wrote during the outage,
                        last = 0  # and what a router's read that failed in it did not get: announced again
                        read_refused = False  # a refusal that outlasts the outage is said again
                    elif not self._reachable:  # an outage: nothing to listen to
                        if listener is not None:
                            listener.close()
                            listener = None
                        self._sleep(opts.retry_s)
                        continue
                    # else the server answers but refuses writes: its reads go on, and so does the
                    # catch-up of the routers, which read when told (the journal is tried every retry_s)
                elif self._deferred and time.monotonic() >= self._retry_at:
                    # a dead router's journal deferred by a reconnect that then wrote this store's own
                    # and went online: no reconnect comes to try it again
                    self._replay_orphans()
                    self._retry_at = time.monotonic() + opts.retry_s
                if self._stop.is_set():  # a pass above ended for close
                    break
                if listener is None:
                    listener = self._connect()
                    listening = opts.listen and self._listen(listener)
                    trailing = True
                wait_s = min(opts.notify_gap_s, opts.poll_s) if trailing and listening else opts.poll_s
                if not self._online or self._deferred:
                    wait_s = min(wait_s, max(0.0, self._retry_at - time.monotonic()))
                ready = self._sleep(wait_s, listener if listening else None)
                if self._stop.is_set():
                    break
                told = [n.payload for n in listener.notifies(timeout=0)] if ready else []
                if told and all(p.isdigit() for p in told):
                    # a notification says up to which id attempts may be there: the routers read
                    # them at their next decision, with no query here
                    self._announce(max(map(int, told)))
                    trailing = True
                    continue
                # Looking once more notify_gap_s after a notification covers the appends that
                # committed within the gap without notifying, and those that an older append still
                # held back (it ends within the gap, or notifies itself). Attempts held back by a
                # transaction that is not an append show at the next poll.
                visible = int(_bounded(listener, opts.timeout_s, "timeout_s", lambda c: c.execute(_POSITION).fetchone()[0]))
                read_refused = False
                trailing = bool(told) or visible > last
                if visible > last:
                    last = visible
                    self._announce(visible)
            except Exception as exc:
                if self._answered(exc) and listener is not None and not listener.closed:
                    # the server refused the read (the role may not read the log): no outage, which
                    # would take the store offline and back every retry_s; the routers' own reads say
                    # it too. Said once while it lasts; polled again in poll_s
                    if not read_refused:
                        needs = isinstance(exc, self._psycopg.errors.InsufficientPrivilege)
                        log.warning(
                            "store_catch_up_refused", url=self.url, error=_one_line(exc),
                            privilege="SELECT on toolrouter.attempts, trace_closes and tool_removals" if needs else None,
                        )
                    read_refused, trailing = True, False
                    continue
                if not self._unavailable(exc):
                    log.warning("store_thread_error", url=self.url, error=repr(exc))
                with self._lock:
                    self._went_offline(exc)
                if listener is not None:
                    with contextlib.suppress(Exception):
                        listener.close()
                    listener = None
                self._sleep(opts.retry_s)
        if listener is not None:
            with contextlib.suppress(Exception):
                listener.close()

    def _listen(self, conn: Any) -> bool:
        """``LISTEN`` on ``conn``; whether the server took it. A standby refuses it (a read-only
        store may be opened on one), and is polled every ``poll_s`` instead."""
        try:
            _bounded(conn, self.options.timeout_s, "timeout_s", lambda c: c.execute(f"LISTEN {CHANNEL}"))
        except self._psycopg.errors.ReadOnlySqlTransaction:
            return False
        return True

    def _sleep(self, timeout_s: float, conn: Any = None) -> bool:
        """Wait up to ``timeout_s`` for a wake-up or (with ``conn``) data on ``conn``; returns
        whether ``conn`` has data."""
        # poll, not select: a process may hold more than select's 1,024 descriptors
        poller = select.poll()
        poller.register(self._wake_r, select.POLLIN)
        if conn is not None:
            poller.register(conn.fileno(), select.POLLIN)
        ready = {fd for fd, _ in poller.poll(timeout_s * 1000)}
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 4096)
        return conn is not None and conn.fileno() in ready

    def _reconnect(self) -> bool:
        """Probe the server; if it answers, drop the pool's dead connections, write the journals
        and go back online. Returns whether the store is online: not while the server refuses
        writes (reads go on meanwhile; the journals wait, unread, rather than fail every retry)."""
        try:
            with self._connect() as conn:
                read_only = _bounded(conn, self.options.timeout_s, "timeout_s", _refuses_writes)
            self._pool.check()
            self._reachable = True
            if read_only and not self._read_only:  # a read-only store writes nothing: a standby serves it
                raise self._psycopg.errors.ReadOnlySqlTransaction(
                    "the server refuses writes (transaction_read_only is on: a standby, or a database set read-only)"
                )
            self._replay_orphans()
            while True:
                with self._lock:
                    journal = self._journal
                    if journal is None or len(journal) == 0:
                        self._online = True
                        self._dropping = None  # what waited is written: appends are kept again
                        self._journal = None  # written: its files go now, not when the store closes
                        if journal is not None:
                            journal.close()
                        break
                if self._stopping():  # close writes the rest
                    return False
                self._replay(journal, self.origin)
        except Exception as exc:
            refused = _login_refused(exc)
            if refused and not self._said_refused:  # no outage that passes by itself: said, once an outage
                self._said_refused = True
                log.error("store_login_refused", url=self.url, error=f"{refused}: {_one_line(exc)}")
            outage = self._unavailable(exc) and not self._answered(exc)
            failed = None if refused or outage else repr(exc)  # no outage: flush says it too
            if failed is not None and failed != self._failed:  # said once while it lasts, not every retry_s
                log.warning("store_replay_failed", url=self.url, error=failed)
            self._failed = failed
            return False
        self._said_refused, self._failed = False, None
        log.info("store_reconnected", url=self.url, dropped=self.dropped)
        return True

    def _replay(self, journal: Journal, origin: str, batch: int = 500) -> None:
        """Write ``journal`` to the server in order under ``origin``'s keys, emptying it. A batch the
        server refuses (no outage) is written again a record at a time (``_write_alone``). A record
        whose key was pruned (``_unpruned``) was written: its row is gone, not the key's check. The
        store's thread stops at the next batch once the store closes (``_stopping``)."""
        while not self._stopping():
            with self._lock:
                rows = journal.head(batch)
            if not rows:
                return
            with self._pool.connection(timeout=self.options.timeout_s) as conn:
                if self._refusal(conn, origin, rows) is not None:
                    self._write_alone(conn, journal, origin, rows)
                    continue
            with self._lock:
                journal.remove_upto(rows[-1][0])

    def _unpruned(self, conn: Any, origin: str, rows: list[tuple[int, LogEntry]]) -> list[tuple[int, LogEntry]]:
        """``rows`` but those whose key ``prune`` deleted from the log (see ``postgres_schema``,
        version 12)."""
        deadline = time.monotonic() + self.options.timeout_s
        params = [_text(origin), b"%d" % rows[0][0], b"%d" % rows[-1][0]]
        found = self._execute(conn, "toolrouter_pruned_keys", _PRUNED_KEYS, params, deadline)
        runs = [(int(found.get_value(i, 0)), int(found.get_value(i, 1))) for i in range(found.ntuples)]
        return [(seq, r) for seq, r in rows if not any(a <= seq <= b for a, b in runs)]

    def _write_alone(self, conn: Any, journal: Journal, origin: str, rows: list[tuple[int, LogEntry]]) -> None:
        """Write ``rows``, the oldest of ``journal``, a record at a time, in order. One the server
        refuses for its own sake (it takes one of the records after it of its kind, then refuses it
        once more: a refusal of every write may have just ended) is set aside (``Journal.set_aside``),
        and the records after it are written; a refusal of every write, or of every write to its
        table (a trigger refusing every row, or ``_may_append``), is raised: the journal waits. One
        the log holds already (``_in_log``) is written, whatever the server says to its retry.
        The records after it tried are those of ``rows`` and the journal's newest: a run of refused
        records as long as ``rows`` held back for good the records after it, and those appended.
        Those of another kind say nothing of its table (one taken where a trigger refuses every row
        of its table set it aside): a probe of its kind (``_probe``) stands in for them."""
        with self._lock:
            newest = journal.newest()
        beyond = [newest] if newest is not None and newest[0] > rows[-1][0] else []
        for place, (seq, record) in enumerate(rows):
            if self._stopping():
                return
            refused = self._refusal(conn, origin, [(seq, record)])
            if refused is not None and self._in_log(conn, origin, seq, record):
                refused = None  # set aside, it would be appended again; waited for, it would wait for good
            if refused is not None:
                after = [*rows[place + 1 :], *beyond]
                kin = [(s, r) for s, r in after if type(r) is type(record)]
                if len(kin) < len(after):  # under seq 0, a key no record has (a store's seqs start at 1)
                    kin.append((0, _probe(record)))
                if not self._may_append(conn, record) or not self._takes_one_of(conn, origin, kin):
                    raise refused
                refused = self._refusal(conn, origin, [(seq, record)])
            with self._lock:
                if refused is None:
                    journal.remove_upto(seq)
                else:
                    journal.set_aside(seq, refused)

    def _refusal(self, conn: Any, origin: str, rows: Sequence[tuple[int, LogEntry]]) -> Exception | None:
        """Write ``rows`` under ``origin``'s keys (one transaction), but those pruned (see
        ``_write``'s ``journal``); the server's refusal of them (no outage) if it refused them, else
        ``None``. An outage is raised."""
        try:
            self._write(conn, origin, [s for s, _ in rows], [r for _, r in rows], journal=True)
        except self._psycopg.Error as exc:
            if not self._answered(exc):
                raise
            return exc
        return None

    def _in_log(self, conn: Any, origin: str, seq: int, record: LogEntry) -> bool:
        """Whether the log holds ``record``'s key ``(origin, seq)``: its first write reached the
        server but the answer was lost, and a trigger (``BEFORE INSERT``) refuses its retry before
        the key's check would skip it. A read the server refuses is raised, as is an outage: a
        role that may not read the key of the record's table may not write there either (an
        append reads the key), which refuses every record of its kind, not this one for its own
        sake; the journal waits for the privilege."""
        table = _TABLES[_kinds([record])][0]
        sql = f"SELECT 1 FROM toolrouter.{table} WHERE origin = $1 AND origin_seq = $2".encode()
        deadline = time.monotonic() + self.options.timeout_s
        return self._execute(conn, None, sql, [_text(origin), b"%d" % seq], deadline).ntuples > 0

    def _may_append(self, conn: Any, record: LogEntry) -> bool:
        """Whether the role holds the privileges an append of ``record`` needs on its table:
        without them (taken away from one table, or granted by column but for one) the server
        refuses every record of its kind, while it takes the others'. A refusal of the question
        is raised."""
        deadline = time.monotonic() + self.options.timeout_s
        return self._execute(conn, None, _may_append_sql(_kinds([record])), [], deadline).get_value(0, 0) == b"t"

    def _takes_one_of(self, conn: Any, origin: str, rows: Sequence[tuple[int, LogEntry]]) -> bool:
        """Whether the server takes one of ``rows``, each tried alone in a transaction rolled back
        (nothing written, the journal's order kept): the 1st, 2nd, 4th, 8th, ... and the last, so
        that a refusal of every write costs a few statements and a run of refused records is passed
        over (without the last, one whose end was not at those places held the journal back)."""
        deadline = time.monotonic() + self.options.timeout_s
        places = sorted({2**k - 1 for k in range(len(rows).bit_length())} | {len(rows) - 1}) if rows else []
        for place in places:
            seq, record = rows[place]
            self._execute(conn, None, b"BEGIN", [], deadline)
            try:
                self._execute(conn, None, _append_sql(_kinds([record])), [_text(origin), *_row_params(seq, record)], deadline)
                return True
            except self._psycopg.Error as exc:
                if not self._answered(exc):
                    raise
            finally:
                if not conn.closed:
                    self._execute(conn, None, b"ROLLBACK", [], deadline)
        return False

    def _replay_orphans(self) -> None:
        """Adopt and write the journals of router processes on this host that died in an outage:
        those in this database's folder, and those naming this store in the other folders (its
        server or database spelled another way in their URLs: a host name, an address), which a
        router of that spelling might never open again. A read-only store leaves them. One that
        cannot be written now is kept, and said (``journal_adoption_deferred``) once while the
        reason lasts: it is tried every ``retry_s`` (at each reconnect, and while the store is
        online), and by each store opened.
        One the server refuses (no outage: a trigger, a constraint, a privilege) is said with what
        resolves it (``_orphan_refused``): nothing is ever appended to it, so its last record,
        refused with nothing after it, is never judged refused for its own sake and set aside."""
        if self._read_only:
            return
        folders = [self._journal_dir]
        with contextlib.suppress(OSError):
            root = self._journal_dir.parent
            folders += sorted(p for p in root.iterdir() if p.is_dir() and p != self._journal_dir)
        orphans = (
            journal
            for folder in folders
            for journal in Journal.orphans(
                folder, exclude=self.origin, store_id=self._store_id, named_only=folder != self._journal_dir
            )
        )
        deferred: dict[str, str] = {}  # of the orphans there now: one gone (adopted elsewhere, moved) is not tried again
        for journal in orphans:
            try:
                n = len(journal)
                self._replay(journal, journal.origin)
                if len(journal):  # the store closed: the rest is the next store's
                    break
                log.info("journal_adopted", url=self.url, journal=str(journal.path), attempts=n)
                self._end(journal.origin)  # its file goes below, empty: no journal holds its records
            except Exception as exc:  # unreachable (retried at the next reconnect) or unreadable: keep it
                error, path = _one_line(exc), str(journal.path)
                if self._deferred.get(path) != error:  # said once while it lasts, not every retry_s
                    refused = self._answered(exc) and not self._unavailable(exc)  # no outage: nothing passes by itself
                    log.warning(
                        "journal_adoption_deferred", url=self.url, journal=path, error=error,
                        resolve=_orphan_refused(path) if refused else None,
                    )
                deferred[path] = error
            finally:
                journal.close()
        self._deferred = deferred

    def _end(self, origin: str) -> None:
        """Say that no journal can hold ``origin``'s records any more (its store closed with its
        journal written, or its journal was adopted and written): its pruned keys, which only a
        journal's write reads, go, and prune keeps none of its (``toolrouter.ended_origins``), so
        that the keys kept are those of the router processes that are running, or died with their
        records journaled (or without closing). Under the lock prune takes: a prune running meanwhile
        would keep them again. An outage, or a role without the privilege, leaves the keys kept."""

        def end(conn: Any) -> None:
            with conn.transaction():
                conn.execute(_SHARE_PRUNE_LOCK)
                conn.execute(_END, {"o": origin})

        try:
            with self._pool.connection(timeout=self.options.timeout_s) as conn:
                _bounded(conn, self.options.timeout_s, "timeout_s", end)
        except self._psycopg.Error as exc:
            log.info("store_keys_kept", url=self.url, origin=origin, error=_one_line(exc))

    def close(self) -> None:
        """Stop the background thread, try once more to write the journal (a journal that cannot
        be written stays on disk for the next router on this host, as does what an append failing
        meanwhile, in another thread, journals), end its origin if no journal holds its records
        (``_end``), close the connections."""
        if os.getpid() != self._pid:  # a forked copy: the pool's sessions and the journal are the parent's,
            if not self._closed:  # which closing them here would end; the pipe is this process's copy
                self._closed = True
                os.close(self._wake_r)
                os.close(self._wake_w)
                self._wake_r = self._wake_w = -1
            return
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._stop.set()
        self._wake()
        # a pass of it ends before its next write (_stopping), so that it does not run on with the
        # journal, pool and pipe closed below; the bound is for a call that hangs past every timeout
        self._thread.join(timeout=10)
        if not self._online:
            with contextlib.suppress(Exception):
                self._reconnect()
        with self._lock:
            self._leave_journal()
            # what an append still writing fails to write is journaled: this store's records may
            # yet be, and its keys are kept
            ended = self._online and not self._kept and not self._writing and not self._read_only
        if ended:
            self._end(self.origin)
        self._pool.close()
        with self._lock:  # a read failing in another thread meanwhile wakes nothing: the numbers may be reused
            os.close(self._wake_r)
            os.close(self._wake_w)
            self._wake_r = self._wake_w = -1


class _Watchdog:
    """One thread that calls each armed callback once its deadline has passed, unless disarmed
    first (a timer thread per read cost more than a small read itself)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._due: list[tuple[float, int, Callable[[], None]]] = []  # a heap, by deadline
        self._armed: set[int] = set()
        self._tokens = itertools.count()
        self._pid: int | None = None  # the process whose thread runs (a forked child starts its own)

    def arm(self, seconds: float, callback: Callable[[], None]) -> int:
        """Call ``callback`` in ``seconds`` unless ``disarm`` is called with the token returned."""
        with self._cond:
            if self._pid != os.getpid():
                self._pid = os.getpid()
                self._due.clear()
                self._armed.clear()
                threading.Thread(target=self._run, name="toolrouter-store-watchdog", daemon=True).start()
            token = next(self._tokens)
            heapq.heappush(self._due, (time.monotonic() + seconds, token, callback))
            self._armed.add(token)
            if self._due[0][1] == token:  # earlier than what the thread waits for
                self._cond.notify()
            return token

    def disarm(self, token: int) -> None:
        with self._cond:
            self._armed.discard(token)

    def _run(self) -> None:
        pid = os.getpid()
        while True:
            with self._cond:
                if self._pid != pid:
                    return
                now = time.monotonic()
                fire = []
                while self._due and (self._due[0][0] <= now or self._due[0][1] not in self._armed):
                    _, token, callback = heapq.heappop(self._due)
                    if token in self._armed:
                        self._armed.discard(token)
                        fire.append(callback)
                if not fire:
                    self._cond.wait(self._due[0][0] - now if self._due else None)
                    continue
            for callback in fire:  # outside the lock: a callback may wait for the reader it cuts
                with contextlib.suppress(Exception):
                    callback()


_watchdog = _Watchdog()


def _bounded(conn: Any, seconds: float, option: str, fn: Callable[[Any], Any]) -> Any:
    """``fn(conn)``, or psycopg's ``OperationalError`` if the server has not answered within
    ``seconds`` (the store's option ``option``). psycopg waits for an answer without a limit (a
    frozen server, or a relay that stopped forwarding, holds the connection open and TCP sees
    nothing wrong), so the watchdog shuts the connection's socket down: the wait ends with a broken
    connection, closed here so that the pool drops it."""
    fired: bool | None = False
    guard = threading.Lock()  # the cut and the end of fn: a connection that answered in time stays whole

    def cut() -> None:
        nonlocal fired
        with guard:
            if fired is None:
                return
            fired = True
            with contextlib.suppress(OSError), socket.socket(fileno=os.dup(conn.fileno())) as sock:
                sock.shutdown(socket.SHUT_RDWR)

    token = _watchdog.arm(seconds, cut)
    try:
        return fn(conn)
    except Exception:
        if fired:
            raise _drivers()[0].OperationalError(f"the server did not answer within {option}={seconds:g} s") from None
        raise
    finally:
        _watchdog.disarm(token)
        with guard:
            cut_down, fired = fired, None
        if cut_down:
            with contextlib.suppress(Exception):
                conn.close()


def _readable(fd: int, timeout_s: float) -> bool:
    """Whether ``fd`` has data within ``timeout_s`` (``poll``: a process may hold more than
    ``select``'s 1,024 descriptors)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(max(0.0, timeout_s) * 1000))


def _journal_dir_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot hold journals (``None`` if it can), without creating anything: the
    nearest existing folder on its path must be a folder this process may write in."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if not existing.is_dir():
        return f"cannot make {str(folder)!r}: {str(existing)!r} is not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"cannot make or write {str(folder)!r}: {str(existing)!r} is not writable by this process"
    return None


def _journal_dir(option: str | None, params: dict[str, Any]) -> Path:
    """This host's journal folder for the database ``params`` name: a sub-folder per server and
    database, so that a store adopts only the orphans of its own database."""
    root = option or os.environ.get("TOOLROUTER_JOURNAL_DIR")
    if not root:
        state = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
        root = os.path.join(state, "toolrouter", "journal")
    where = f"{params.get('host') or 'local'}_{params.get('port') or 5432}_{params.get('dbname') or params.get('user') or 'postgres'}"
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", where)
    if len(name) > _MAX_FOLDER_NAME:  # a list of hosts (libpq tries each): a file name has at most 255 bytes
        name = f"{name[: _MAX_FOLDER_NAME - 17]}_{hashlib.sha256(where.encode()).hexdigest()[:16]}"
    # absolute now: the journal is made at the first outage, maybe after the process changed folder
    return Path(root).expanduser().absolute() / name


#: Longest name of a journal folder; a longer one is cut, and ends in a digest of the whole.
_MAX_FOLDER_NAME = 128
