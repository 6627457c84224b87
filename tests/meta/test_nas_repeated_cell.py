"""NAS-Bench-201: a cell listed twice (the same operations, however its cell string is spaced) is
refused naming the cell string and both rows; the error said only that the file "lists a cell more
than once", leaving the user to search 15,625 rows for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from meta.data.nasbench201 import NASBenchFormatError, cell_to_str, load_nasbench201


def test_a_repeated_cell_is_named_with_both_rows(tmp_path: Path) -> None:
    a, b = cell_to_str((0, 1, 2, 3, 4, 0)), cell_to_str((1, 1, 1, 1, 1, 1))
    path = tmp_path / "nb201.csv"
    rows = [f"{a},50.0,51.0", f"{b},60.0,61.0", f" {a} ,70.0,71.0"]  # row 4: row 2's cell, padded
    path.write_text("cellstr,cifar10-val,cifar10-test\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(NASBenchFormatError, match=r"nb201.csv: row 4: cellstr ' \|none~0\|.*' repeats row 2$"):
        load_nasbench201(path)
    path.write_text("cellstr,cifar10-val,cifar10-test\n" + "\n".join(rows[:2]) + "\n", encoding="utf-8")
    assert load_nasbench201(path).query((1,) * 6) == (60.0, 61.0)
