"""NAS-Bench-201: a header that names a column twice is refused naming it. The rows kept the last
of the repeated cells without a word (with ``dataset`` given), and without ``dataset`` the error
said the file had columns for datasets ['cifar10', 'cifar10'] and asked to name the one to read,
which could not help."""

from __future__ import annotations

from pathlib import Path

import pytest

from meta.data.nasbench201 import NASBenchFormatError, cell_to_str, load_nasbench201


@pytest.mark.parametrize("dataset", [None, "cifar10"])
def test_a_repeated_column_is_named(tmp_path: Path, dataset: str | None) -> None:
    path = tmp_path / "nb201.csv"
    path.write_text(f"cellstr,cifar10-val,cifar10-test,cifar10-val\n{cell_to_str((0,) * 6)},50.0,51.0,90.0\n", encoding="utf-8")
    with pytest.raises(NASBenchFormatError, match=r"nb201.csv' names the columns \['cifar10-val'\] more than once$"):
        load_nasbench201(path, dataset)
