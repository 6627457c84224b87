"""Backends of one capability whose parameters have the same types, however the types are spelt."""

from __future__ import annotations

from typing import Annotated, Any, Dict, List, Optional, Union

import pytest
from pydantic import Field

from integrations import SignatureMismatchError, Toolbox


def backend(name: str, annotation: Any) -> Any:
    def fn(x):  # type: ignore[no-untyped-def]
        return x

    fn.__name__ = name
    fn.__annotations__ = {"x": annotation}
    return fn


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (List[int], list[int]),  # noqa: UP006  # the spelling under test
        (Dict[str, Optional[List[int]]], dict[str, list[int] | None]),  # noqa: UP006, UP007
        (Union[int, str, None], None | str | int),  # noqa: UP007
        (Annotated[str, Field(description="The city.", min_length=1)], Annotated[str, Field(description="The city.", min_length=1)]),
    ],
)
def test_the_same_type_spelt_differently_is_the_same_argument(first: Any, second: Any) -> None:
    toolbox = Toolbox(seed=0)
    toolbox.register(backend("a", first), "lookup")
    assert toolbox.register(backend("b", second), "lookup").tool_id == "b"
    assert toolbox.backends("lookup") == ("a", "b")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (list[int], list[str]),
        (list[int], tuple[int]),
        (int | None, int | str),
        (Annotated[str, Field(min_length=1)], Annotated[str, Field(min_length=2)]),
        (Annotated[int, Field(gt=0)], int),
    ],
)
def test_different_types_are_still_refused(first: Any, second: Any) -> None:
    toolbox = Toolbox(seed=0)
    toolbox.register(backend("a", first), "lookup")
    with pytest.raises(SignatureMismatchError, match="parameter 'x' has type"):
        toolbox.register(backend("b", second), "lookup")
    assert toolbox.backends("lookup") == ("a",)


def test_metadata_whose_equality_raises_is_a_mismatch_not_a_crash() -> None:
    np = pytest.importorskip("numpy")
    toolbox = Toolbox(seed=0)
    toolbox.register(backend("a", Annotated[int, np.array([1, 2])]), "lookup")
    with pytest.raises(SignatureMismatchError, match="parameter 'x' has type"):
        toolbox.register(backend("b", Annotated[int, np.array([1, 2])]), "lookup")
    assert toolbox.backends("lookup") == ("a",)
