"""A server that answers and refuses the login (a wrong password, a database it does not have) is
a URL to correct, not a server to wait for: ``StoreOpenError`` saying so, never the
``StoreUnreachableError`` of an outage (which ``toolrouter stats`` reports as "try later")."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.cli import app
from toolrouter.errors import StoreOpenError
from toolrouter.store import StoreUnavailableError, open_store

pytest.importorskip("psycopg")


@pytest.mark.parametrize(
    "database, password, said",
    [
        (None, "wrong-s3cret", 'cannot open: authentication failed (check the user and password'),
        ("nosuchdb", None, 'cannot open: no such database or role: '),
    ],
)
def test_a_refused_login_is_an_open_error_not_an_outage(postgres_server: LocalPostgres, pg_database: str, tmp_path, database, password, said) -> None:
    url = f"{postgres_server.url(database or pg_database, password=password)}?journal_dir={tmp_path}"
    with pytest.raises(StoreOpenError) as info:
        open_store(url)
    assert not isinstance(info.value, StoreUnavailableError)
    assert said in str(info.value) and "wrong-s3cret" not in str(info.value)


def test_stats_with_a_wrong_password_is_a_bad_store_option(postgres_server: LocalPostgres, pg_database: str, tmp_path) -> None:
    url = f"{postgres_server.url(pg_database, password='wrong-s3cret')}?journal_dir={tmp_path}"
    result = CliRunner().invoke(app, ["stats", "--store", url], env={"COLUMNS": "400"})
    assert result.exit_code == 2, result.output  # a usage error, not 1 (the store unavailable now)
    assert "authentication failed" in " ".join(result.output.split())
