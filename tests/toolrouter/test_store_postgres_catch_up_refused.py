"""A role that may not read the log (SELECT revoked after the store opened): the store's thread
took the refused catch-up read for an outage, went offline, reconnected and went offline again
every ``retry_s``, logging warnings each time. The server answered: the store stays online, the
refusal is logged once while it lasts, naming the privilege, and the thread polls on."""

from __future__ import annotations

import time

from structlog.testing import capture_logs
from test_store import record
from test_store_postgres import wait_for

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_a_refused_catch_up_read_is_said_once_and_the_store_stays_online(postgres_server: LocalPostgres, pg_database: str, tmp_path, pg_role: str) -> None:
    url = f"postgresql://{pg_role}:pw@127.0.0.1:{postgres_server.port}/{pg_database}?journal_dir={tmp_path}&poll_s=0.02&retry_s=0.02&listen=false"
    with open_store(url) as store:
        heard: list[int] = []
        store.on_new_attempts(heard.append)
        with capture_logs() as events:
            postgres_server.sql(f"REVOKE SELECT ON toolrouter.attempts FROM {pg_role}", pg_database)
            wait_for(lambda: any(e["event"] == "store_catch_up_refused" for e in events), timeout_s=5)
            time.sleep(0.2)  # about ten polls more
            assert store.online
        said = [e for e in events if e["event"] == "store_catch_up_refused"]
        assert len(said) == 1 and "SELECT on toolrouter.attempts" in said[0]["privilege"], events
        assert not [e for e in events if e["log_level"] == "warning" and e is not said[0]], events
        postgres_server.sql(f"GRANT SELECT ON toolrouter.attempts TO {pg_role}", pg_database)
        ids = store.append([record()])
        wait_for(lambda: heard and heard[-1] >= ids[0])  # the thread catches up again
