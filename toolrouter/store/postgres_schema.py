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
"""

from __future__ import annotations

from typing import Any

__all__ = ["CHANNEL", "MIGRATIONS", "SCHEMA_VERSION", "migrate", "schema_version"]

CHANNEL = "toolrouter_attempts"

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
)

SCHEMA_VERSION = MIGRATIONS[-1][0]

# any constant shared by every toolrouter process: migrations take this advisory lock
_MIGRATION_LOCK = 0x746F6F6C726F7574  # "toolrout"


class SchemaError(Exception):
    """The database holds something this code cannot use (``problem`` says what)."""


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
    return int(row[0])


def migrate(conn: Any, target: int = SCHEMA_VERSION) -> tuple[int, int]:
    """Bring the database on ``conn`` (a psycopg connection in autocommit mode) to ``target``, in
    one transaction; returns (version found, version now). A database newer than this code raises
    ``SchemaError`` naming both versions."""
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
        for version, _, sql in MIGRATIONS:
            if found < version <= target:
                conn.execute(sql)
                conn.execute(
                    "INSERT INTO toolrouter.meta (key, value) VALUES ('schema_version', %s) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (str(version),),
                )
    return found, max(found, target)
