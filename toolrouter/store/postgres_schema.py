"""The PostgreSQL store's schema: versioned, migrated forward when a store is opened.

Everything lives in the schema ``toolrouter`` of the database, so a database shared with other
applications is fine. ``toolrouter.meta`` holds ``schema_version``; opening a store applies the
migrations above it, in order, in one transaction under an advisory lock (so two hosts opening a
fresh database at once do not race), and refuses a database whose version is newer than this code
knows, naming both versions.

Versions:
    1. The attempt log (``attempts``, ids from a sequence), named snapshots, ``meta``.
    2. Ids in commit order, published once durable, and idempotency keys. Ids come from the
       one-row table ``attempt_counter``, whose row each append locks until it commits, so appends
       commit in id order (a sequence hands out ids at insert time: a transaction holding id 10
       could commit after one holding id 11, and a reader that had caught up to 11 would never see
       10). The append commits without waiting for the disk, so the lock is held for microseconds,
       not for a flush; the appender then commits a row of its own in ``durable_upto`` (its origin,
       the counter's value) and waits for that flush, which makes every append before it durable
       too, and which concurrent appenders share. Readers see ids up to the largest ``upto``: every
       id below it is committed and on disk. Each attempt carries ``(origin, origin_seq)``, unique,
       so a journal replayed after an outage writes it once.
    3. Trace columns on attempts: the trace an attempt belongs to (``trace_id``), its step's
       parents (``depends_on``, a JSON list), the task's request text and complexity, from which
       routers learn task structure (``toolrouter.structure``).
    4. Ids in transaction-horizon order, without a global lock. The counter row of version 2
       serialised every append (one holder at a time, and a holder descheduled stalls all the
       others), so it goes, with ``durable_upto``. An append is now one plain insert whose ids are
       ``toolrouter.attempt_id_base() + i``: its transaction's id (``pg_current_xact_id()``, plus a
       constant ``shift``) times 2**16, plus the row's place in the append (so at most 65,536 rows
       an append). Transaction ids are handed out in order but commit in any order, so readers see
       only ids below ``toolrouter.visible_below()``: ``(xmin + shift) * 2**16``, where ``xmin``
       (``pg_snapshot_xmin`` of the reading statement's snapshot) is the oldest transaction still
       running. Every transaction below it has ended, so each committed row below the bound is
       visible in the same snapshot, and no row that commits later can take an id below it: a
       reader that has caught up to id N never skips an attempt, and sees each exactly once. A
       transaction that runs long anywhere on the server (another application's too) holds back
       what readers see until it ends; nothing is lost. The append commits with
       ``synchronous_commit`` on, and a commit is on disk before it is visible, so readers still
       see only durable attempts; concurrent appends share their flushes (group commit).
       ``shift`` puts every new id above the rows already in the log, which keep their ids; an id
       fits a bigint while the server's transaction ids stay below 2**47 (at 10,000 appends a
       second, over 400 years). The one row of ``notify_gate`` holds when a writer last notified,
       so that all writers together notify at most once per ``notify_gap_s``; it is touched in a
       transaction of its own after the append, never waited on (``SKIP LOCKED``).
    5. Trace closes (``trace_closes``: a trace, whether it finished), appended like attempts (in
       the same statement when they are appended together), their ids from the same
       ``attempt_id_base()`` and read below the same ``visible_below()``, with idempotency keys from
       the same ``(origin, origin_seq)`` counter: the log is one order of attempts and closes.
    6. Whether an attempt was a recheck's outcome (``recheck`` on attempts; the attempts before it
       were not, as their routers replayed them), so that routers replaying the log learn it as
       its writer did.
    7. The store's identity (``store_id`` in ``meta``): a random id made once, under the
       migration's lock, so every process and host reads the same one; a database restored from a
       dump keeps it (it holds the same attempts under the same ids).
    8. Claims (``claims``: a name, the highest turn claimed of it; ``Store.claim``), through which
       routers on every host agree which of them runs a due recheck.
    9. The key a router without a context judged an attempt's request by (``request_key`` on
       attempts, a hash; the attempts before it have none), so that routers replaying the log judge
       it by its request as its writer did.
    10. Tool removals (``tool_removals``: a tool a router removed), appended like trace closes,
       their ids, keys and visibility those of the attempts, so that routers replaying the log
       forget a removed tool's attempts where its router did.
    11. The capabilities a router took from a tool (``capabilities`` on ``tool_removals``, a JSON
       list; NULL, as every removal before it, for the whole tool), so that routers replaying the
       log forget the tool's attempts on those capabilities' routes where its router did.
    12. The keys of what ``prune`` deleted (``pruned_keys``: an origin and a run of consecutive
       ``origin_seq`` deleted), so that a journal record whose first write reached the server (its
       answer lost) is known written once its row is pruned, not appended again. Rows pruned
       before it kept no keys.
    13. The conversation a trace's task is a turn of (``conversation_id`` on attempts; the attempts
       before it have none), so that routers replaying the log learn what conversations run as
       their writers did.
    14. The router processes whose records no journal can hold any more (``ended_origins``: their
       store closed with its journal written, or a dead one's journal was adopted and written):
       their keys leave ``pruned_keys``, a prune keeps none of theirs, and their row goes once the
       log holds none of their rows. Keys kept before it of processes that had ended stay.
"""

from __future__ import annotations

from typing import Any

from toolrouter.store.base import stored_meta_number

__all__ = ["CHANNEL", "MAX_APPEND", "MIGRATIONS", "SCHEMA_VERSION", "migrate", "schema_version"]

CHANNEL = "toolrouter_attempts"

#: Most attempts one append may hold: the ids of an append share its transaction's id (version 4).
MAX_APPEND = 65536

#: (version, what it adds, SQL). Never edit a released step: add the next one.
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (
        1,
        "attempt log, snapshots, meta",
        """
        CREATE SCHEMA IF NOT EXISTS toolrouter;
        CREATE TABLE toolrouter.meta (key text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE toolrouter.attempts (
            id bigserial PRIMARY KEY,
            writer text NOT NULL,
            task_id text NOT NULL,
            task_type text NOT NULL,
            step text NOT NULL,
            capability text,
            tool_id text NOT NULL,
            success boolean NOT NULL,
            quality double precision NOT NULL,
            cost double precision NOT NULL,
            latency_s double precision NOT NULL,
            utility double precision NOT NULL,
            error text,
            timestamp timestamptz NOT NULL,
            context bytea
        );
        CREATE TABLE toolrouter.snapshots (
            name text PRIMARY KEY,
            watermark bigint NOT NULL,
            created timestamptz NOT NULL,
            data bytea NOT NULL
        );
        """,
    ),
    (
        2,
        "ids in commit order from a locked counter row, published once durable; idempotency keys",
        """
        ALTER TABLE toolrouter.attempts ALTER COLUMN id DROP DEFAULT;
        DROP SEQUENCE toolrouter.attempts_id_seq;
        ALTER TABLE toolrouter.attempts ADD COLUMN origin text, ADD COLUMN origin_seq bigint;
        CREATE UNIQUE INDEX attempts_origin_key ON toolrouter.attempts (origin, origin_seq);
        CREATE TABLE toolrouter.attempt_counter (
            one smallint PRIMARY KEY CHECK (one = 1),
            last_id bigint NOT NULL,
            notified_at timestamptz NOT NULL
        );
        INSERT INTO toolrouter.attempt_counter
            SELECT 1, COALESCE(max(id), 0), 'epoch' FROM toolrouter.attempts;
        CREATE TABLE toolrouter.durable_upto (origin text PRIMARY KEY, upto bigint NOT NULL);
        INSERT INTO toolrouter.durable_upto SELECT 'migration', last_id FROM toolrouter.attempt_counter;
        """,
    ),
    (
        3,
        "trace columns on attempts: trace id, the step's parents, request text, complexity",
        """
        ALTER TABLE toolrouter.attempts ADD COLUMN trace_id text, ADD COLUMN depends_on text,
            ADD COLUMN request text, ADD COLUMN complexity text;
        """,
    ),
    (
        4,
        "ids from the appending transaction's id, read below the oldest running transaction; no counter row",
        # the tables go, so that a router of an older version still running fails loudly instead of
        # writing ids below what readers have caught up to
        """
        DROP TABLE toolrouter.attempt_counter, toolrouter.durable_upto;
        CREATE TABLE toolrouter.notify_gate (
            one smallint PRIMARY KEY CHECK (one = 1),
            at timestamptz NOT NULL
        );
        INSERT INTO toolrouter.notify_gate VALUES (1, 'epoch');
        DO $migration$
        DECLARE
            shift bigint := GREATEST(0, (SELECT COALESCE(max(id), 0) FROM toolrouter.attempts) / 65536 + 1
                                        - pg_current_xact_id()::text::bigint);
        BEGIN
            EXECUTE format($f$
                CREATE FUNCTION toolrouter.attempt_id_base() RETURNS bigint LANGUAGE sql VOLATILE
                AS $b$ SELECT (pg_current_xact_id()::text::bigint + %s) * 65536 $b$;
                CREATE FUNCTION toolrouter.visible_below() RETURNS bigint LANGUAGE sql STABLE
                AS $b$ SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::bigint + %s) * 65536 $b$;
            $f$, shift, shift);
        END
        $migration$;
        """,
    ),
    (
        5,
        "trace closes: a trace and whether it finished, ids and keys shared with the attempts",
        """
        CREATE TABLE toolrouter.trace_closes (
            id bigint PRIMARY KEY,
            origin text,
            origin_seq bigint,
            writer text NOT NULL,
            trace_id text NOT NULL,
            finished boolean NOT NULL,
            timestamp timestamptz NOT NULL
        );
        CREATE UNIQUE INDEX trace_closes_origin_key ON toolrouter.trace_closes (origin, origin_seq);
        """,
    ),
    (
        6,
        "rechecks: whether an attempt was a recheck's outcome",
        "ALTER TABLE toolrouter.attempts ADD COLUMN recheck boolean NOT NULL DEFAULT false;",
    ),
    (
        7,
        "the store's identity: a random id, made once",
        "INSERT INTO toolrouter.meta (key, value) VALUES ('store_id', replace(gen_random_uuid()::text, '-', ''));",
    ),
    (
        8,
        "claims: the highest turn claimed of a name (a due recheck, run by one router)",
        "CREATE TABLE toolrouter.claims (name text PRIMARY KEY, turn bigint NOT NULL);",
    ),
    (
        9,
        "request keys: the key a router without a context judged an attempt's request by",
        "ALTER TABLE toolrouter.attempts ADD COLUMN request_key text;",
    ),
    (
        10,
        "tool removals: a tool a router removed, ids and keys shared with the attempts",
        """
        CREATE TABLE toolrouter.tool_removals (
            id bigint PRIMARY KEY,
            origin text,
            origin_seq bigint,
            writer text NOT NULL,
            tool_id text NOT NULL,
            timestamp timestamptz NOT NULL
        );
        CREATE UNIQUE INDEX tool_removals_origin_key ON toolrouter.tool_removals (origin, origin_seq);
        """,
    ),
    (
        11,
        "capability removals: the capabilities a router took from a tool (NULL: the whole tool)",
        "ALTER TABLE toolrouter.tool_removals ADD COLUMN capabilities text;",
    ),
    (
        12,
        "pruned keys: the runs of (origin, origin_seq) that prune deleted",
        """
        CREATE TABLE toolrouter.pruned_keys (origin text NOT NULL, seq_from bigint NOT NULL, seq_to bigint NOT NULL);
        CREATE INDEX pruned_keys_origin ON toolrouter.pruned_keys (origin, seq_from);
        """,
    ),
    (
        13,
        "conversations: the conversation a trace's task is a turn of",
        "ALTER TABLE toolrouter.attempts ADD COLUMN conversation_id text;",
    ),
    (
        14,
        "ended origins: router processes whose records no journal can hold, whose keys prune keeps no more",
        "CREATE TABLE toolrouter.ended_origins (origin text PRIMARY KEY);",
    ),
)

SCHEMA_VERSION = MIGRATIONS[-1][0]

# any constant shared by every toolrouter process: migrations take this advisory lock
_MIGRATION_LOCK = 0x746F6F6C726F7574  # "toolrout"


class SchemaError(Exception):
    """The database holds something this code cannot use (``problem`` says what)."""


class NoSchemaError(SchemaError):
    """The database holds no store, and ``migrate`` was not to create one."""


def schema_version(conn: Any) -> int:
    """The database's schema version: 0 for a database without a toolrouter store."""
    if conn.execute("SELECT to_regclass('toolrouter.meta')").fetchone()[0] is None:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'toolrouter' ORDER BY 1"
        ).fetchall()
        if tables:
            raise SchemaError(
                f"schema 'toolrouter' holds tables {[t[0] for t in tables]!r} but no toolrouter.meta: "
                "it is not a toolrouter store"
            )
        return 0
    row = conn.execute("SELECT value FROM toolrouter.meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        raise SchemaError("toolrouter.meta has no schema_version")
    try:
        return stored_meta_number("schema_version", row[0], low=1)
    except ValueError as exc:  # named, not int()'s bare "invalid literal"
        raise SchemaError(f"toolrouter.{exc}") from None


def migrate(conn: Any, target: int = SCHEMA_VERSION, *, create: bool = True, read_only: bool = False) -> tuple[int, int]:
    """Bring the database on ``conn`` (a psycopg connection in autocommit mode) to ``target``, in
    one transaction; returns (version found, version now). A database newer than this code raises
    ``SchemaError`` naming both versions; so does one without a store, unless ``create``, and
    (``read_only``: only check) one below ``target``."""
    if not 0 <= target <= SCHEMA_VERSION:
        raise ValueError(f"target: expected a version from 0 to {SCHEMA_VERSION}, got {target!r}")
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        found = schema_version(conn)
        if found > SCHEMA_VERSION:
            raise SchemaError(
                f"the database has schema_version {found}, this toolrouter knows up to {SCHEMA_VERSION}: "
                "upgrade toolrouter on this host"
            )
        if found == 0 and not create:
            raise NoSchemaError("the database holds no toolrouter store (no schema 'toolrouter'); nothing was created")
        if read_only and found < target:
            raise SchemaError(
                f"the database has schema_version {found}, this toolrouter reads {target}; opened read-only, it "
                "cannot be migrated: open it once with write access (a router, or toolrouter prune), or upgrade "
                "toolrouter if that version is newer"
            )
        for version, _, sql in MIGRATIONS:
            if found < version <= target:
                conn.execute(sql)
                conn.execute(
                    "INSERT INTO toolrouter.meta (key, value) VALUES ('schema_version', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(version),),
                )
    return found, max(found, target)
