"""A PostgreSQL URL whose option values libpq refuses (a port that is not a number or out of range,
an unknown sslmode) is a malformed URL, as docs/deployment.md says: ``StoreOpenError`` and exit
status 2, not an outage (``StoreUnreachableError``, exit status 1) that the user would wait out.
libpq says so only when connecting, and its "connection is bad" read as the server's absence."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.errors import StoreOpenError
from toolrouter.store import StoreUnavailableError, open_store

pytest.importorskip("psycopg")

BAD = [
    ("127.0.0.1:notaport", "", 'invalid integer value "notaport" for connection option "port"'),
    ("127.0.0.1:99999", "", 'invalid port number: "99999"'),
    ("127.0.0.1:5432", "&sslmode=bogus", 'invalid sslmode value: "bogus"'),
]


@pytest.mark.parametrize(("host", "query", "problem"), BAD)
def test_an_option_libpq_refuses_is_a_malformed_url(host: str, query: str, problem: str, tmp_path: Path) -> None:
    url = f"postgresql://router:s3cret@{host}/routing?journal_dir={tmp_path}{query}"
    with pytest.raises(StoreOpenError, match="malformed URL") as info:
        open_store(url)
    assert not isinstance(info.value, StoreUnavailableError)
    assert problem in str(info.value) and "s3cret" not in str(info.value)
    result = CliRunner().invoke(app, ["stats", "--store", url], terminal_width=300)
    assert result.exit_code == 2 and "Invalid value for --store" in result.output, result.output
