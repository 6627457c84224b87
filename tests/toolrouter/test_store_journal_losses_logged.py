"""A full outage journal says so when it starts losing records, not at every append after."""

from __future__ import annotations

from structlog.testing import capture_logs
from test_store import record
from test_store_postgres import block, unblock

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_a_full_journal_logs_once_an_outage_and_counts_every_loss(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres
) -> None:
    # journal_full was logged at every append of the outage: one warning per request at the
    # router's rate, for as long as the server stayed away
    store = open_store(f"{pg_url}&timeout_s=0.5&retry_s=0.05&journal_max_attempts=2")
    with capture_logs() as events:
        for outage in range(2):
            block(postgres_server, pg_database)
            try:
                for i in range(6):
                    assert store.append([record(f"o{outage}r{i}")]) == []
            finally:
                unblock(postgres_server, pg_database)
            store.flush(timeout_s=10)
    full = [e for e in events if e["event"] == "journal_full"]
    assert [(e["log_level"], e["dropped"]) for e in full] == [("warning", 1), ("warning", 5)]  # one per outage
    assert store.dropped == 8
    assert [r.tool_id for r in store.attempts()] == ["o0r0", "o0r1", "o1r0", "o1r1"]
    store.close()
