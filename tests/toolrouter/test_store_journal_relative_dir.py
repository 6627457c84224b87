"""A relative ``journal_dir`` names one folder for the store's life, whatever folder the process
moves to before an outage."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_store import record
from test_store_postgres import block, unblock

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.store import open_store


def test_a_relative_journal_dir_is_the_one_of_the_folder_the_store_was_opened_in(
    postgres_server: LocalPostgres, pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # it was taken from the folder the process was in at the first outage: the journal went where
    # the open had not checked it could be written, and a router opened later in the first folder
    # never found it to adopt
    (tmp_path / "app").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "app")
    store = open_store(f"{postgres_server.url(pg_database)}?journal_dir=journal&timeout_s=0.5&retry_s=0.05")
    monkeypatch.chdir(tmp_path / "elsewhere")  # a daemon's chdir, say
    block(postgres_server, pg_database)
    try:
        assert store.append([record("during")]) == [] and store.pending == 1
        assert len(list((tmp_path / "app" / "journal").rglob("*.journal"))) == 1
        assert not (tmp_path / "elsewhere" / "journal").exists()
    finally:
        unblock(postgres_server, pg_database)
    store.flush(timeout_s=10)
    assert [r.tool_id for r in store.attempts()] == ["during"]
    store.close()
