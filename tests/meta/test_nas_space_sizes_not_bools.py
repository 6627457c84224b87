"""A bool among a search space's sizes (input_shape, widths) is refused naming the field: pydantic
read True as the size 1, so widths=(True, 16) searched networks with 1-wide layers."""

from __future__ import annotations

import numpy as np
import pytest

from meta import create_nas_search_space, create_nb201_search_space


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"input_shape": (True, 8, 8)}, "input_shape"),
        ({"widths": (True, 16)}, "widths"),
        ({"widths": [np.True_, 16]}, "widths"),
    ],
)
def test_a_bool_among_the_layer_space_sizes_is_refused_naming_the_field(options, field) -> None:
    kwargs = {"input_shape": (3, 8, 8), "num_classes": 2, "max_layers": 3, **options}
    with pytest.raises(ValueError, match=rf"{field}: expected whole numbers, not bools"):
        create_nas_search_space(**kwargs)


def test_a_bool_in_the_cell_space_input_shape_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match="input_shape: expected whole numbers, not bools"):
        create_nb201_search_space(input_shape=(3, True, 8))


def test_whole_number_sizes_still_pass() -> None:
    space = create_nas_search_space((3, 8, 8), 2, max_layers=3, widths=(np.int64(8), 16))
    assert space.widths == (8, 16) and create_nb201_search_space((1, 8, 8)).input_shape == (1, 8, 8)
