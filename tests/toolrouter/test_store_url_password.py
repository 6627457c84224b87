"""A store URL is named without its password: open_store quoted it as typed when its scheme was
unknown (``postgresql+psycopg://``, the SQLAlchemy form Optuna's storage takes) or when it was no
URL at all (libpq's ``key=value`` form), and a password holding a ``?`` or a ``#`` was shown (and
cut the URL) because urllib, not libpq, read it; so the password reached the error, a log or the
terminal of ``toolrouter stats``."""

from __future__ import annotations

import psycopg
import pytest
from typer.testing import CliRunner

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.cli import app
from toolrouter.errors import StoreOpenError
from toolrouter.store import open_store
from toolrouter.store.postgres import masked, split_options


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://router:s3cret@db/routing", "store 'postgresql+psycopg://router:***@db/routing': unknown scheme"),
        ("Postgresql://router:s3cret@db/routing?sslmode=require", "store 'Postgresql://router:***@db/routing?sslmode=require': unknown"),
        ("host=db user=router password=s3cret dbname=routing", "store 'host=db user=router password=*** dbname=routing': expected a URL"),
        ("host=db password = 'it\\'s s3cret' dbname=routing", "store 'host=db password = *** dbname=routing': expected a URL"),
    ],
)
def test_a_url_that_cannot_be_opened_is_named_without_its_password(url: str, shown: str) -> None:
    with pytest.raises(StoreOpenError) as caught:
        open_store(url)
    assert "s3cret" not in str(caught.value) and str(caught.value).startswith(shown)
    result = CliRunner().invoke(app, ["stats", "--store", url])
    assert result.exit_code == 2 and "s3cret" not in result.output


def test_masking_leaves_what_has_no_password_as_it_is() -> None:
    for url in ("sqlite:///router.db", "memory://", "postgresql://db/routing?user=router", "host=db dbname=routing"):
        assert masked(url) == url


@pytest.mark.parametrize("password", ["pa#ss", "pa?ss", "p?timeout_s=1#x"])
def test_a_password_with_a_question_mark_or_a_hash_is_read_and_masked_as_libpq_reads_it(password: str) -> None:
    # libpq takes everything up to the "@" as the password; urllib took a "?" for a query's start
    # and a "#" for a fragment's, so the password was shown, and the store cut the URL before it
    url = f"postgresql://router:{password}@db:5432/routing?sslmode=require&timeout_s=3"
    assert masked(url) == "postgresql://router:***@db:5432/routing?sslmode=require&timeout_s=3"
    conninfo, options = split_options(url, {})
    assert psycopg.conninfo.conninfo_to_dict(conninfo) == {
        "user": "router", "password": password, "host": "db", "port": "5432", "dbname": "routing", "sslmode": "require",
    }
    assert options.timeout_s == 3


def test_a_store_opens_with_such_a_password_and_names_itself_without_it(postgres_server: LocalPostgres, pg_database: str) -> None:
    role = f"odd_{pg_database}"  # the server's: it goes with it
    postgres_server.sql(f"CREATE ROLE {role} LOGIN SUPERUSER PASSWORD 'pa?s#s'")
    with open_store(f"postgresql://{role}:pa?s#s@127.0.0.1:{postgres_server.port}/{pg_database}?timeout_s=3") as store:
        assert store.count() == 0 and store.options.timeout_s == 3
        assert "pa?s#s" not in store.url and f"{role}:***@" in store.url
