"""A record of a store's outage journal that cannot be read (the file damaged or edited by hand) is
set aside, kept where a person can read it, and said once; the records after it reach the server
and the store goes back online. It failed every write of the journal: the store stayed offline for
good, logging ``store_replay_failed`` every ``retry_s``, while the journal filled."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

from structlog.testing import capture_logs
from test_store import record
from test_store_postgres import block, unblock

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store
from toolrouter.store.journal import Journal


def test_a_damaged_record_of_the_journal_is_set_aside_and_the_rest_written(
    pg_url: str, pg_database: str, postgres_server: LocalPostgres, tmp_path
) -> None:
    store = open_store(f"{pg_url}&timeout_s=0.5&retry_s=0.05")
    try:
        block(postgres_server, pg_database)
        try:
            assert store.append([record("a"), record("b"), record("c")]) == []
            (path,) = (tmp_path / "journal").rglob("*.journal")
            edit = sqlite3.connect(path)
            with edit:
                edit.execute("UPDATE attempts SET record = replace(record, '\"quality\": 1.0', '\"quality\": NaN') WHERE seq = 2")
            edit.close()
        finally:
            unblock(postgres_server, pg_database)
        with capture_logs() as events:
            store.flush(timeout_s=10)
        assert [r.tool_id for r in store.attempts()] == ["a", "c"] and store.pending == 0 and store.online
        said = [e for e in events if e["event"] == "journal_record_set_aside"]
        aside = f"{path}.damaged"
        assert [(e["journal"], e["seq"], e["kept_in"], e["log_level"]) for e in said] == [(str(path), 2, aside, "error")]
        assert "quality must be finite" in said[0]["error"]
        assert not [e for e in events if e["event"] == "store_replay_failed"]
        (line,) = open(aside).read().splitlines()
        kept = json.loads(line)
        assert kept["seq"] == 2 and '"tool_id": "b"' in kept["record"] and "quality must be finite" in kept["error"]
        assert stat.S_IMODE(os.stat(aside).st_mode) == 0o600  # it holds a request text, as the journal does
    finally:
        store.close()
    assert [p.name for p in path.parent.iterdir()] == [os.path.basename(aside)]  # the written journal went, not what was set aside


def test_every_record_that_cannot_be_read_is_set_aside_and_head_reads_on(tmp_path) -> None:
    # text that is not UTF-8 failed the whole read (sqlite3's "Could not decode"), not its record alone
    journal = Journal.for_origin(tmp_path, "origin", 100)
    kept = record("c")
    journal.add([1, 2, 3, 4], [record("a"), record("b"), kept, record("d")])
    edit = sqlite3.connect(journal.path)
    with edit:
        edit.execute("UPDATE attempts SET record = CAST(x'7bff' AS TEXT) WHERE seq = 1")
        edit.execute("UPDATE attempts SET record = '[]' WHERE seq = 2")
        edit.execute("UPDATE attempts SET record = replace(record, '\"tool_id\"', '\"tool\"') WHERE seq = 4")
    edit.close()
    with capture_logs() as events:
        assert journal.head(2) == [(3, kept)] and len(journal) == 1
        assert journal.head(2) == [(3, kept)]  # said once: what was set aside is no longer read
    assert [e["seq"] for e in events if e["event"] == "journal_record_set_aside"] == [1, 2, 4]
    aside = [json.loads(line) for line in open(f"{journal.path}.damaged")]
    assert [(a["seq"], a["record"]) for a in aside[:2]] == [(1, "{\\xff"), (2, "[]")]
    assert "UnicodeDecodeError" in aside[0]["error"] and "TypeError" in aside[1]["error"] and "tool" in aside[2]["error"]
    journal.close()
