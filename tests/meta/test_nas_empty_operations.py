"""A layer space given an empty operations list is refused like empty widths or activations; left out, it has every operation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from meta.nas import create_nas_search_space
from meta.nas.space import IMAGE_OPS, VECTOR_OPS


@pytest.mark.parametrize("field", ["operations", "widths", "activations"])
def test_an_empty_choice_list_is_refused_naming_the_field(field: str) -> None:
    with pytest.raises(ValidationError, match=f"{field} must be"):
        create_nas_search_space((4,), 2, 2, **{field: []})


def test_operations_left_out_are_every_operation_for_the_input() -> None:
    assert create_nas_search_space((4,), 2, 2).operations == VECTOR_OPS
    assert create_nas_search_space((3, 8, 8), 2, 2).operations == IMAGE_OPS
