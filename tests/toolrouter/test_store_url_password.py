"""A store URL that cannot be opened is named without its password: open_store quoted it as typed
when its scheme was unknown (``postgresql+psycopg://``, the SQLAlchemy form Optuna's storage takes)
or when it was no URL at all (libpq's ``key=value`` form), so the password reached the error, a log
or the terminal of ``toolrouter stats``."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from toolrouter.cli import app
from toolrouter.errors import StoreOpenError
from toolrouter.store import open_store
from toolrouter.store.postgres import masked


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
