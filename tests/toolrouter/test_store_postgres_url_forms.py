"""The PostgreSQL store takes a libpq URL in any of libpq's forms: the local server through its socket
(``postgresql:///db``, no host; the store's options dropped the URL's "//" and made it malformed),
and the password as a query parameter, which a message and ``store.url`` mask as they do the one
before the host (it was shown as typed). A store option given twice is refused rather than the last one taken."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from toolrouter.bench._postgres_server import LocalPostgres
from toolrouter.errors import StoreOpenError
from toolrouter.store import open_store
from toolrouter.store.postgres import masked, split_options


def test_a_url_without_a_host_keeps_its_form_beside_the_store_options() -> None:
    conninfo, options = split_options("postgresql:///routing?user=router&timeout_s=3", {})
    assert options.timeout_s == 3
    assert psycopg.conninfo.conninfo_to_dict(conninfo) == {"dbname": "routing", "user": "router"}


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql:///routing?user=router&password=s3cret", "postgresql:///routing?user=router&password=***"),
        ("postgresql://db:5432/routing?password=s3cret&sslmode=require", "postgresql://db:5432/routing?password=***&sslmode=require"),
        ("postgresql://router:s3cret@db/routing?password=s3cret", "postgresql://router:***@db/routing?password=***"),
    ],
)
def test_a_password_in_the_query_is_masked(url: str, shown: str) -> None:
    assert masked(url) == shown


def test_libpq_parameters_reach_libpq_as_typed_beside_the_store_options() -> None:
    # they were decoded and encoded again, a space (%20) coming back as "+", which libpq keeps: the
    # server refused options=-c%20statement_timeout%3D5000 ('unrecognized configuration parameter
    # "+statement_timeout"'), and application_name "a b" arrived as "a+b"
    conninfo, options = split_options(
        "postgresql://router@db/routing?options=-c%20statement_timeout%3D5000&timeout_s=3&application_name=a%20b%2Bc&sslmode=require", {}
    )
    assert options.timeout_s == 3
    assert psycopg.conninfo.conninfo_to_dict(conninfo) == {
        "user": "router", "host": "db", "dbname": "routing",
        "options": "-c statement_timeout=5000", "application_name": "a b+c", "sslmode": "require",
    }


def test_a_store_option_is_decoded_as_libpq_decodes_its_own() -> None:
    # a "+" was taken for a space (form encoding), which libpq never does: journal_dir=/srv/a+b
    # put the journals in "/srv/a b"
    _, options = split_options("postgresql://router@db/routing?journal_dir=/srv/a+b%20c&timeout_s=%2B3", {})
    assert options.journal_dir == "/srv/a+b c" and options.timeout_s == 3


def test_a_store_option_given_twice_is_refused_naming_both_values() -> None:
    with pytest.raises(StoreOpenError, match=r"timeout_s given twice \('1' and '30'\)"):
        split_options("postgresql://router@db/routing?timeout_s=1&sslmode=require&timeout_s=30", {})


def test_the_local_server_opens_through_its_socket(postgres_server: LocalPostgres, pg_database: str, tmp_path: Path) -> None:
    local = (
        f"postgresql:///{pg_database}?host={postgres_server.root}&port={postgres_server.port}"
        f"&user=router&password={postgres_server.password}&journal_dir={tmp_path}"
    )
    with open_store(local) as store:
        assert store.count() == 0
        assert postgres_server.password not in store.url

    # over TCP, where the server checks passwords (its socket trusts local users)
    wrong = f"postgresql:///{pg_database}?host=127.0.0.1&port={postgres_server.port}&user=router&password=wrong-s3cret"
    with pytest.raises(StoreOpenError, match="password authentication failed") as failed:
        open_store(wrong)
    assert "wrong-s3cret" not in str(failed.value)
