"""A journal record the server refuses on its retry may be in the log already: its first write
reached the server but the answer was lost, and a trigger (``BEFORE INSERT``) refuses it before the
duplicate-key check would have skipped it. With records after it, it was set aside in
``<origin>.journal.refused``, for a person to append again, twice in the log then; alone, it held
its journal back for good. It is written, and leaves the journal as such."""

from __future__ import annotations

import pytest
from structlog.testing import capture_logs
from test_store import record
from test_store_postgres import refuse_inserts

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store
from toolrouter.store.journal import Journal


@pytest.mark.parametrize("after", [["y"], []], ids=["records-after-it", "alone"])
def test_a_refused_record_the_log_holds_is_dropped_from_the_journal_as_written(
    after: list[str], pg_url: str, pg_database: str, postgres_server: LocalPostgres, tmp_path
) -> None:
    with open_store(pg_url) as gone:
        gone.append([record("x")])  # written as (origin, 1), its answer lost: the router journaled it too
        origin, folder, store_id = gone.origin, gone._journal_dir, gone.store_id
    journal = Journal.for_origin(folder, origin, 100, store_id)
    journal.add(range(1, 2 + len(after)), [record(t) for t in ["x", *after]])
    journal.close()  # the router died: its journal is left for the next store on this host
    refuse_inserts(postgres_server, pg_database, "not x", "NEW.tool_id = 'x'")
    with capture_logs() as events, open_store(pg_url) as store:  # which adopts the journal
        assert [r.tool_id for r in store.attempts()] == ["x", *after]
    assert not list((tmp_path / "journal").rglob("*.journal*"))  # nothing set aside, nothing left
    assert not [e for e in events if e["event"] in ("journal_record_refused", "journal_adoption_deferred")]
