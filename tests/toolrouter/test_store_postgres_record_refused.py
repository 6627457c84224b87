"""A record of the outage journal that the server refuses for its own sake (a trigger or a
constraint refusing that row) is moved beside the journal, said, and the records after it are
written: first in the ordered journal, it held back every record after it for good, and the store
never went back online. A refusal of every write moves nothing (see
``test_store_postgres_append_refused``)."""

from __future__ import annotations

import json
import os
import stat

from structlog.testing import capture_logs
from test_store import record
from test_store_postgres import refuse_inserts

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store
from toolrouter.store.journal import record_from_json


def test_records_the_server_refuses_for_their_own_sake_are_set_aside_and_the_rest_written(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres, tmp_path
) -> None:
    with open_store(f"{pg_url}&retry_s=0.05") as store:
        store.append([record("a")])
        refuse_inserts(postgres_server, pg_database, "not this tool", "NEW.tool_id LIKE 'bad%'")
        with capture_logs() as events:
            # refused with it, a record the server takes; a run of two refused records; two it takes
            assert store.append([record("b"), record("bad1")]) == []
            for tool in ("bad2", "c", "d"):
                store.append([record(tool)])
            store.flush(timeout_s=10)
        assert [r.tool_id for r in store.attempts()] == ["a", "b", "c", "d"] and store.online and store.pending == 0
        (path,) = (tmp_path / "journal").rglob("*.journal.refused")
        said = [(e["seq"], e["kept_in"], e["log_level"]) for e in events if e["event"] == "journal_record_refused"]
        assert said == [(3, str(path), "error"), (4, str(path), "error")]
        kept = [json.loads(line) for line in path.read_text().splitlines()]
        assert [k["seq"] for k in kept] == [3, 4] and all("not this tool" in k["error"] for k in kept)
        assert [record_from_json(k["record"]).tool_id for k in kept] == ["bad1", "bad2"]  # read back, to append again
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600  # it holds a request text, as the journal does
