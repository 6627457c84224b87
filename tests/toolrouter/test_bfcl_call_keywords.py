"""A call string that repeats a keyword argument is refused for what it is: Python refuses such a
call, and the parser said "unpacked arguments (**) are not supported" of a call with none."""

from __future__ import annotations

import pytest

from toolrouter.data.bfcl import FunctionCall


def test_a_repeated_keyword_is_named() -> None:
    with pytest.raises(ValueError, match=r"^not a function call: \"mv\(source='a', source='b'\)\" \(keyword argument repeated: source\)$"):
        FunctionCall.parse("mv(source='a', source='b')")


def test_unpacked_arguments_are_still_named_as_such() -> None:
    for text in ("f(**kw)", "f(x=1, **kw)"):
        with pytest.raises(ValueError, match=r"^unpacked arguments \(\*\*\) are not supported"):
            FunctionCall.parse(text)
