"""An argument shown to a model under another name, sent under both names, is refused naming both:
the two were folded into one, a value dropped unseen, and the name never shown taken."""

from __future__ import annotations

import pytest

from integrations.schema import ToolArgumentsError, capability_schema


def search(user_id: str, limit: int = 10) -> str:
    return user_id


SCHEMA = capability_schema(search, "search")
SHOWN = {"user_id": "uid"}


def test_an_argument_sent_under_its_shown_and_its_own_name_is_refused() -> None:
    with pytest.raises(ToolArgumentsError) as info:
        SCHEMA.validate({"uid": "ann", "user_id": "bob"}, SHOWN)
    assert info.value.problems == ["uid: sent twice, also as 'user_id', a name not shown; send it once, as uid"]


def test_its_shown_name_alone_is_taken() -> None:
    assert SCHEMA.bind({"uid": "ann", "limit": 2}, SHOWN) == ((), {"user_id": "ann", "limit": 2})
