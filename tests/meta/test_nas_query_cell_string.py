"""NASBench201Table.query names a cell that is not a sequence of operation indices: a cell string,
the file's own spelling of a cell, was read as its characters and reported as the cell ('|', 'n',
'o', ...) not in the table, and a number as "'int' object is not iterable"."""

from __future__ import annotations

import numpy as np
import pytest

from meta.data.nasbench201 import NASBench201Table, cell_to_str, parse_cell


@pytest.mark.parametrize("cell", [cell_to_str((0, 1, 2, 3, 4, 0)), 5, None])
def test_a_cell_that_is_no_indices_is_named(cell: object) -> None:
    table = NASBench201Table([(0, 1, 2, 3, 4, 0)], np.array([60.0]), np.array([61.0]))
    with pytest.raises(TypeError, match=r"^cell: expected 6 operation indices \(parse_cell reads a cell string\), got "):
        table.query(cell)  # type: ignore[arg-type]
    assert table.query(parse_cell(cell_to_str((0, 1, 2, 3, 4, 0)))) == (60.0, 61.0)
