"""An empty ``journal_dir`` (``?journal_dir=``: a template's variable left unset) is refused naming
the option, as an empty value of every other option is: it was taken for no option at all, and the
journals went to ``$TOOLROUTER_JOURNAL_DIR`` or the user's state folder, somewhere the URL did not
say."""

from __future__ import annotations

import pytest

from toolrouter.errors import StoreOpenError
from toolrouter.store import check_store_url
from toolrouter.store.postgres import split_options


def test_an_empty_journal_dir_is_refused_naming_it() -> None:
    with pytest.raises(StoreOpenError, match=r"journal_dir='': String should have at least 1 character"):
        check_store_url("postgresql://router@db/routing?journal_dir=&timeout_s=3")
    with pytest.raises(StoreOpenError, match=r"journal_dir='':"):
        split_options("postgresql://router@db/routing", {"journal_dir": ""})
