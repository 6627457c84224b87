"""A refused catch-up read is said once while it lasts; an outage in between ends it: a refusal
that is still there when the store comes back online is said again. The flag that says it once
outlived the outage, and the refusal after it went unlogged."""

from __future__ import annotations

from structlog.testing import capture_logs
from test_store_postgres import block, unblock, wait_for

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_a_catch_up_refusal_after_an_outage_is_said_again(postgres_server: LocalPostgres, pg_database: str, tmp_path, pg_role: str) -> None:
    url = f"postgresql://{pg_role}:pw@127.0.0.1:{postgres_server.port}/{pg_database}?journal_dir={tmp_path}&poll_s=0.02&retry_s=0.02&listen=false"
    with open_store(url) as store, capture_logs() as events:
        postgres_server.sql(f"REVOKE SELECT ON toolrouter.attempts FROM {pg_role}", pg_database)
    
        def said() -> int:
            return sum(e["event"] == "store_catch_up_refused" for e in events)
    
        wait_for(lambda: said() == 1, timeout_s=5)
        block(postgres_server, pg_database)
        try:
            wait_for(lambda: not store.online, timeout_s=5)
        finally:
            unblock(postgres_server, pg_database)
        wait_for(lambda: store.online, timeout_s=5)
        wait_for(lambda: said() == 2, timeout_s=3)
