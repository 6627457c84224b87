"""An orphan journal (a router that closed in an outage) that the server refuses to take (a trigger,
a missing privilege) is said deferred once while the refusal lasts, not at every retry: the store's
thread tries to adopt it at each reconnect, every ``retry_s``, and logged ``journal_adoption_deferred``
twice a second for as long as the refusal lasted. And it is tried again while the store is online."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from test_store import record
from test_store_postgres import block, refuse_inserts, unblock, wait_for

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import StoreUnavailableError, open_store


def orphan_the_server_refuses(url: str, postgres_server: LocalPostgres, pg_database: str) -> None:
    """A dead router's journal holding "a" (a store closed in an outage), and a trigger that refuses
    every insert ("not now")."""
    with open_store(url) as gone:
        block(postgres_server, pg_database)
        try:
            assert gone.append([record("a")]) == []
        finally:
            gone.close()  # its journal stays on disk, for the next store to adopt
            unblock(postgres_server, pg_database)
    refuse_inserts(postgres_server, pg_database, "not now")


def test_an_orphan_journal_the_server_refuses_is_said_deferred_once(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres
) -> None:
    url = f"{pg_url}&retry_s=0.05"
    orphan_the_server_refuses(url, postgres_server, pg_database)
    with capture_logs() as events, open_store(url) as store:
        assert store.append([record("b")]) == []  # refused: the store's thread retries every retry_s
        for _ in range(2):  # each flush wakes the thread to try again and again, the orphan first
            with pytest.raises(StoreUnavailableError):
                store.flush(timeout_s=0.1)
        said = [e for e in events if e["event"] == "journal_adoption_deferred"]
        assert len(said) == 1 and "not now" in said[0]["error"], said
        postgres_server.sql("DROP TRIGGER refuse ON toolrouter.attempts", pg_database)
        store.flush(timeout_s=10)
        # the orphan first, at the reconnect; or, where that reconnect tried it just before the
        # trigger went and wrote the store's own journal just after, at the store's next look while
        # online (``retry_s`` later), which the flush of its own journal does not wait for
        wait_for(lambda: len(store.attempts()) == 2)
        assert sorted(r.tool_id for r in store.attempts()) == ["a", "b"] and store.online


def test_a_deferred_orphan_journal_is_written_while_the_store_is_online(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres
) -> None:
    """A reconnect that deferred the orphan and then wrote the store's own journal went online, and
    only a reconnect tried orphans: it waited for the next outage or the next store opened."""
    url = f"{pg_url}&retry_s=0.05"
    orphan_the_server_refuses(url, postgres_server, pg_database)
    with open_store(url) as store:
        assert store.online and store.attempts() == []  # its own journal is empty: online, the orphan deferred
        postgres_server.sql("DROP TRIGGER refuse ON toolrouter.attempts", pg_database)
        deadline = time.monotonic() + 10
        while not store.attempts() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [r.tool_id for r in store.attempts()] == ["a"]


def test_an_orphan_journal_given_up_is_not_tried_again(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres, tmp_path: Path
) -> None:
    """Its records moved out of the folder (docs/deployment.md), the store's next look for orphans
    forgets it: else it looked again every retry_s for good."""
    orphan_the_server_refuses(f"{pg_url}&retry_s=0.05", postgres_server, pg_database)
    with open_store(f"{pg_url}&retry_s=60") as store:  # its thread looks once, then in a minute
        time.sleep(0.2)
        assert store._deferred  # the orphan waits
        given_up = tmp_path / "given_up"
        given_up.mkdir()
        for path in (tmp_path / "journal").rglob("*.journal*"):
            path.rename(given_up / path.name)
        store._replay_orphans()  # the look the thread makes every retry_s
        assert not store._deferred and store.online
