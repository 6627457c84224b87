"""The NAS-Bench-201 cell space refuses an input_shape with a size below 1 when it is made, as the layer
space does: it was taken, and every trial of a search failed when its network was built."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from meta.nas import create_nb201_search_space, make_space


@pytest.mark.parametrize("shape", [(0, 32, 32), (3, -1, 32), (3, 32, 0)])
def test_a_size_below_one_is_refused(shape: tuple[int, int, int]) -> None:
    match = rf"input_shape must be \(C, H, W\) with positive sizes, got \({shape[0]}, {shape[1]}, {shape[2]}\)"
    with pytest.raises(ValidationError, match=match):
        create_nb201_search_space(shape)
    with pytest.raises(ValidationError, match=match):
        make_space({"kind": "nb201_cell", "input_shape": shape})


def test_the_smallest_images_are_taken() -> None:
    assert create_nb201_search_space((1, 1, 1)).input_shape == (1, 1, 1)
