"""``toolrouter stats`` counts the attempts its table shows: the title's count was a second read of
the store, after the table's, so attempts appended in between (routers writing while it ran) made
the title disagree with the calls of the rows beneath it."""

from __future__ import annotations

import pytest
from test_store import record
from typer.testing import CliRunner

import toolrouter.store
from toolrouter.cli import app
from toolrouter.store import MemoryStore
from toolrouter.store_stats import store_stats


class Busy(MemoryStore):
    """A store another router appends to right after each summary is read."""

    def summary(self):  # type: ignore[no-untyped-def]
        rows = super().summary()
        self.append([record("b")])
        return rows


def test_the_attempts_counted_are_those_the_rows_show(monkeypatch, tmp_path) -> None:
    store = Busy("postgresql://router:***@db/tools")
    store.append([record("a"), record("a"), record("b")])
    stats = store_stats(store)
    assert stats.attempts == sum(row.kept.calls for row in stats.rows) == 3
    monkeypatch.setattr(toolrouter.store, "open_store", lambda url, **options: store)
    result = CliRunner().invoke(app, ["stats", "--store", "postgresql://router:pw@db/tools"])
    assert result.exit_code == 0 and ": 4 attempts" in result.output  # the three, and the one appended above


def test_store_stats_names_a_store_that_is_not_one() -> None:
    # a URL failed as "'str' object has no attribute 'summary'"
    with pytest.raises(TypeError, match=r"store: expected a Store \(toolrouter.store.open_store\(url\) opens one\), got 'sqlite:///r.db'"):
        store_stats("sqlite:///r.db")
