"""``flush`` of a store whose server refuses writes (a standby after a failover, a database set
read-only) names that refusal: it said "the server is unreachable" of a server that answered every
probe, and the refusal was logged as nothing once the journal waited."""

from __future__ import annotations

from structlog.testing import capture_logs
from test_store_postgres import flush_refused
from test_store_postgres_read_only import read_only, record

from toolrouter.store import open_store


def test_a_flush_names_a_server_that_refuses_writes(postgres_server, pg_url: str) -> None:
    with open_store(f"{pg_url}&retry_s=0.02") as store:
        read_only(postgres_server, True)
        try:
            with capture_logs() as events:
                assert store.append([record(1)]) == []
                refused = flush_refused(store, "refuses writes")
            assert "the journal cannot be written to the server: " in refused, refused
            assert "unreachable" not in refused
            said = [e for e in events if e["event"] == "store_replay_failed"]
            assert len(said) == 1 and "refuses writes" in said[0]["error"], events
        finally:
            read_only(postgres_server, False)
        store.flush(timeout_s=10)
        assert store.pending == 0 and store.count() == 1
