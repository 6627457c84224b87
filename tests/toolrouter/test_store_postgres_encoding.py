"""A PostgreSQL store keeps text as it was appended whatever the database's encoding: the
connections speak UTF-8, and a database that cannot keep every text is refused when opened."""

from __future__ import annotations

import os

import pytest

from toolrouter.errors import StoreOpenError
from toolrouter.store import AttemptRecord, open_store

NAMES = ("plain", "café", "ツール")


def record(tool_id: str) -> AttemptRecord:
    return AttemptRecord(task_id="t", task_type="default", step="s", capability="s", tool_id=tool_id, success=True,
                         quality=1.0, cost=0.0, latency_s=0.0, utility=1.0, request=f"{tool_id}: ¿qué? 検索")


@pytest.fixture
def database(postgres_server, tmp_path):  # type: ignore[no-untyped-def]
    """``database(encoding)``: the store URL of a new database of that encoding, dropped after."""
    made = []

    def make(encoding: str) -> str:
        name = f"enc{os.getpid()}_{encoding.lower()}"
        postgres_server.sql(f"CREATE DATABASE {name} ENCODING '{encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
        made.append(name)
        return f"{postgres_server.url(name)}?journal_dir={tmp_path / 'journal'}"

    yield make
    for name in made:
        postgres_server.drop_database(name)


def test_a_sql_ascii_database_gives_back_text_as_appended(database) -> None:
    # names came back as bytes (b'plain'), which no router's tool matched
    with open_store(database("SQL_ASCII")) as store:
        store.append([record(name) for name in NAMES])
        assert [(r.tool_id, r.request) for r in store.attempts()] == [(r.tool_id, r.request) for r in map(record, NAMES)]
        assert sorted(s.tool_id for s in store.summary()) == sorted(NAMES)


def test_a_database_that_cannot_keep_every_text_is_refused_naming_its_encoding(database, postgres_server) -> None:
    # a LATIN1 database kept 'café' as 'cafÃ©'
    url = database("LATIN1")
    with pytest.raises(StoreOpenError, match="encoding is LATIN1.*ENCODING 'UTF8'"):
        open_store(url)
    import psycopg

    with psycopg.connect(url.split("?")[0]) as conn:  # nothing was created there
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'toolrouter'").fetchone()[0] == 0


def test_a_client_encoding_in_the_url_or_the_environment_is_not_the_stores(pg_url, monkeypatch) -> None:
    # UTF-8 sent, read back as LATIN1: 'café' came back as 'cafÃ©'
    monkeypatch.setenv("PGCLIENTENCODING", "LATIN1")
    for url in (pg_url, f"{pg_url}&client_encoding=LATIN1"):
        with open_store(url) as store:
            (i,) = store.append([record("café")])
            assert [r.tool_id for r in store.attempts(i - 1)] == ["café"]
