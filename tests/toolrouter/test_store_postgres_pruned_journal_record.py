"""A journal record whose first write reached the server (its answer lost) may have been pruned from
the log by the time its journal is written: the key's check found no row, and the record was
appended again, above the snapshots that hold it (learned twice), or, refused by a trigger, set
aside for a person to append again. Prune keeps the keys of what it deletes (schema version 12),
and a pruned record leaves the journal as written."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs
from test_store import record
from test_store_postgres import refuse_inserts

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import TraceClose, open_store
from toolrouter.store.journal import Journal


@pytest.mark.parametrize("trigger", [False, True], ids=["taken", "refused-by-a-trigger"])
def test_a_pruned_record_of_a_journal_is_not_appended_again(
    trigger: bool, pg_url: str, pg_database: str, postgres_server: LocalPostgres, tmp_path
) -> None:
    with open_store(pg_url) as gone:  # closed once its journal was adopted: a router that died does not close
        # written as (origin, 1..3), the answers lost: the router journaled them too
        ids = gone.append([record("x"), TraceClose("t1", True), record("y")])
        origin, folder, store_id = gone.origin, gone._journal_dir, gone.store_id
        other = gone.append([record("z")])  # (origin, 4): kept in the log, past the prune
        assert gone.prune(ids[-1]) == 2 and gone.pruned_upto() == ids[-1]
        journal = Journal.for_origin(folder, origin, 100, store_id)
        journal.add(range(1, 7), [record("x"), TraceClose("t1", True), record("y"), record("z"), record("w"), record("v")])
        journal.close()  # the router died: its journal is left for the next store on this host
        if trigger:
            refuse_inserts(postgres_server, pg_database, "not x", "NEW.tool_id = 'x'")
        with capture_logs() as events, open_store(pg_url) as store:  # which adopts the journal
            assert [(r.id == other[0], r.tool_id) for r in store.attempts()] == [(True, "z"), (False, "w"), (False, "v")]
            assert [type(e).__name__ for e in store.log()] == ["AttemptRecord"] * 3
    assert not list((tmp_path / "journal").rglob("*.journal*"))  # nothing set aside, nothing left
    assert not [e for e in events if e["event"] in ("journal_record_refused", "journal_adoption_deferred")]
