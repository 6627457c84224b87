"""``PostgresStore.flush(timeout_s=...)`` is checked before it waits: NaN never reached its
deadline (a flush during an outage spun for ever), and a string failed in the middle of it."""

from __future__ import annotations

import pytest

from toolrouter.store import open_store

pytest.importorskip("psycopg")


def test_a_flush_timeout_that_is_not_seconds_is_refused_naming_it(pg_url: str) -> None:
    with open_store(pg_url) as store:
        for timeout_s in (float("nan"), float("inf"), -1, "10", True):
            with pytest.raises(ValueError, match=r"^timeout_s: expected a finite number >= 0, got "):
                store.flush(timeout_s=timeout_s)
        store.flush(timeout_s=0)  # nothing waits: done at once
