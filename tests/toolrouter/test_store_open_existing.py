"""What only reads a store (``toolrouter stats``, ``prune``, ``snapshots``, ``meta-train``) opens
one that exists (``open_store(url, create=False)``) and makes none where there is none."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.errors import StoreOpenError
from toolrouter.store import open_store
from cli_output import said


def test_stats_on_an_empty_file_is_refused_and_leaves_it_empty(tmp_path: Path) -> None:
    # SQLite takes an empty file for an empty database: stats made it a store and said "0 attempts"
    empty = tmp_path / "router.db"
    empty.touch()
    result = CliRunner().invoke(app, ["stats", "--store", f"sqlite:///{empty}"])
    assert result.exit_code == 2 and "no SQLite store" in said(result.output) and "Traceback" not in result.output
    assert empty.read_bytes() == b"" and sorted(p.name for p in tmp_path.iterdir()) == ["router.db"]


def test_create_false_opens_only_a_store_that_exists(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}"
    with pytest.raises(StoreOpenError, match="no SQLite store at"):
        open_store(url, create=False)
    assert list(tmp_path.iterdir()) == []
    open_store(url).close()
    with open_store(url, create=False) as store:
        assert store.count() == 0
    with pytest.raises(StoreOpenError, match="memory://"):
        open_store("memory://", create=False)
    with pytest.raises(TypeError, match="create: expected True or False, got 'false'"):
        open_store(url, create="false")  # type: ignore[arg-type]


def test_stats_on_a_database_without_a_store_is_refused_and_creates_nothing(
    postgres_server, pg_database: str, tmp_path: Path
) -> None:
    # stats on the wrong database (the server's default one, say) made the store's schema in it
    import psycopg

    url = f"{postgres_server.url(pg_database)}?journal_dir={tmp_path}"
    result = CliRunner().invoke(app, ["stats", "--store", url])
    assert result.exit_code == 2 and "holds no toolrouter store" in said(result.output), result.output
    schemas = "SELECT count(*) FROM pg_namespace WHERE nspname = 'toolrouter'"
    with psycopg.connect(postgres_server.url(pg_database), autocommit=True) as conn:
        assert conn.execute(schemas).fetchone()[0] == 0
    open_store(url).close()
    with open_store(url, create=False) as store:
        assert store.count() == 0
