"""An argument shown to a model under another name is taken under that name only: sent under both
names it is refused naming both (the two were folded into one, a value dropped unseen), and under
its own name alone, never shown, it is refused as an argument the tool does not take."""

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


def test_its_own_name_alone_is_refused_as_an_unknown_argument() -> None:
    # the model was never shown user_id: taking it accepted a made-up name (a search with no uid)
    with pytest.raises(ToolArgumentsError) as info:
        SCHEMA.validate({"user_id": "bob", "limit": 2}, SHOWN)
    assert info.value.problems == ["user_id: not an argument of this tool (its arguments: uid, limit)"]
    # without shown names the own name is the argument's
    assert SCHEMA.bind({"user_id": "bob"}) == ((), {"user_id": "bob"})
