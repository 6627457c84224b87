"""A cell given to the NAS-Bench-201 lookups must name 6 operations of the space; anything else is refused naming the ops."""

from __future__ import annotations

import pytest

from meta.data.nasbench201 import NB201_OPS
from meta.nas import CellSearchSpace


@pytest.mark.parametrize(
    "arch",
    [{"ops": ["nor_conv_3x3"] * 5}, {"ops": ["nor_conv_3x3"] * 5 + ["conv"]}, {"ops": "skip_connect"}, {"layers": []}, None],
)
def test_a_cell_that_is_not_six_operations_of_the_space_is_refused(arch: object) -> None:
    space = CellSearchSpace()
    with pytest.raises(ValueError, match=r"architecture: a cell's 'ops' are 6 names from \('none', "):
        space.op_indices(arch)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="architecture: a cell's 'ops'"):
        space.encode(arch)  # type: ignore[arg-type]


def test_a_cell_of_the_space_gives_its_indices() -> None:
    ops = list(NB201_OPS) + ["none"]
    assert CellSearchSpace().op_indices(CellSearchSpace().cell_arch(ops)) == (0, 1, 2, 3, 4, 0)
