"""A PostgreSQL store whose prune mark (``meta.pruned_upto``) was damaged or edited by hand into
something that is no number is named as a damaged store by ``prune`` and ``put_snapshot`` too, as
by ``pruned_upto``: their statements cast it, and failed in the server's bare words
(``invalid input syntax for type bigint``), naming neither the store nor the field."""

from __future__ import annotations

import pytest

from toolrouter.errors import CorruptStateError
from toolrouter.store import AttemptRecord, open_store


def record() -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="t", step="s", capability=None, tool_id="a", success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0)


def test_a_prune_mark_that_is_no_number_is_named_by_every_operation_that_reads_it(postgres_server, pg_database, pg_url) -> None:
    with open_store(pg_url) as store:
        ids = store.append([record(), record()])
        assert store.prune(ids[0]) == 1
        postgres_server.sql("UPDATE toolrouter.meta SET value = 'lots' WHERE key = 'pruned_upto'", pg_database)
        for operation in (store.pruned_upto, lambda: store.prune(ids[1]), lambda: store.put_snapshot("router", b"x", ids[1])):
            with pytest.raises(CorruptStateError, match=r"meta\.pruned_upto: expected a whole number from 0, got 'lots'") as info:
                operation()
            assert repr(store.url) in str(info.value)
        assert store.count() == 1 and store.snapshot_names() == [] and store.online  # nothing done, and no outage
