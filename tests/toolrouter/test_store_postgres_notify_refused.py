"""An append whose attempts the server took, but whose notification it refused (the role lacks
UPDATE on ``toolrouter.notify_gate``), returns their ids: the insert and the notification are two
transactions, so the attempts were committed, yet the append returned ``[]`` and journaled them,
and every write of the journal was refused the same way after its insert was skipped as a
duplicate: the journal never emptied and the store stayed offline. The refusal is logged once,
naming the privilege; listeners catch up by polling meanwhile."""

from __future__ import annotations

from structlog.testing import capture_logs
from test_store import record

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_an_append_whose_notification_is_refused_keeps_its_ids(postgres_server: LocalPostgres, pg_database: str, tmp_path, pg_role: str) -> None:
    url = f"postgresql://{pg_role}:pw@127.0.0.1:{postgres_server.port}/{pg_database}?journal_dir={tmp_path}&notify_gap_s=0"
    with open_store(url) as store:
        postgres_server.sql(f"REVOKE UPDATE ON toolrouter.notify_gate FROM {pg_role}", pg_database)
        with capture_logs() as events:
            ids = [store.append([record(tool)]) for tool in ("a", "b")]
        assert all(len(i) == 1 for i in ids) and store.online and store.pending == 0
        assert [r.id for r in store.attempts()] == [i[0] for i in ids]
        said = [e for e in events if e["event"] == "store_notify_refused"]
        assert len(said) == 1 and "UPDATE on toolrouter.notify_gate" in said[0]["privilege"], events


def test_an_append_with_the_notify_gate_row_gone_keeps_its_ids(pg_url: str, pg_database: str, postgres_server: LocalPostgres) -> None:
    """The gate's row deleted by hand: every append raised ``TypeError`` after its attempts were
    committed, failing every routed call."""
    with open_store(f"{pg_url}&notify_gap_s=0") as store:
        postgres_server.sql("DELETE FROM toolrouter.notify_gate", pg_database)
        with capture_logs() as events:
            ids = [store.append([record(tool)]) for tool in ("a", "b")]
        assert all(len(i) == 1 for i in ids) and store.online and store.pending == 0
        said = [e for e in events if e["event"] == "store_notify_refused"]
        assert len(said) == 1 and "toolrouter.notify_gate has no row" in said[0]["error"], events
