"""A write of the outage journal that the server refuses without an outage (a trigger, a missing
privilege) is logged once while the refusal lasts, not at every retry: ``store_replay_failed``
was logged every ``retry_s`` (twice a second by default) for as long as it lasted. ``flush`` says
why the journal waits: it said "the server is unreachable" of a server that answered."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs
from test_store import record
from test_store_postgres import block, refuse_inserts, unblock

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import StoreUnavailableError, open_store


def test_a_refused_write_of_the_journal_is_said_once_and_the_journal_written_once_it_passes(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres
) -> None:
    store = open_store(f"{pg_url}&timeout_s=0.5&retry_s=0.05")
    try:
        # the refusal is in place before the outage ends: the store's thread, retrying every
        # retry_s, could otherwise write the journal before it was, and nothing would be refused
        refuse_inserts(postgres_server, pg_database, "not now")
        block(postgres_server, pg_database)
        try:
            assert store.append([record("a")]) == []
        finally:
            unblock(postgres_server, pg_database)
        with capture_logs() as events:
            for _ in range(40):  # until it is said (flush wakes the store's thread to try again and again)
                with pytest.raises(StoreUnavailableError, match="1 attempts, trace closes or tool removals wait"):
                    store.flush(timeout_s=0.25)
                if any(e["event"] == "store_replay_failed" for e in events):
                    break
            with pytest.raises(StoreUnavailableError, match=r"the journal cannot be written to the server: .*not now") as info:
                store.flush(timeout_s=0.25)  # tries again, unsaid
            assert "unreachable" not in str(info.value)
        said = [e for e in events if e["event"] == "store_replay_failed"]
        assert len(said) == 1 and "not now" in said[0]["error"]
        postgres_server.sql("DROP TRIGGER refuse ON toolrouter.attempts", pg_database)
        store.flush(timeout_s=10)
        assert [r.tool_id for r in store.attempts()] == ["a"]
    finally:
        store.close()
