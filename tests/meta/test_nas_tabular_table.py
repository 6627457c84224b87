"""NASBench201Benchmark needs every cell of the space: a search may ask for any of them, and with a
partial table every trial that asked for a missing cell failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from meta.data.nasbench201 import NASBenchFormatError, load_nasbench201
from meta.nas import NASBench201Benchmark


def test_a_partial_table_is_refused(tmp_path: Path) -> None:
    table = tmp_path / "two.csv"
    table.write_text(
        "cellstr,cifar10-val,cifar10-test\n"
        "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|,50,60\n"
        "|skip_connect~0|+|none~0|none~1|+|none~0|none~1|none~2|,40,45\n",
        encoding="utf-8",
    )
    with pytest.raises(NASBenchFormatError, match=r"^table: 2 of the 15625 cells of the space; a tabular benchmark needs every cell"):
        NASBench201Benchmark(load_nasbench201(table))
    with pytest.raises(NASBenchFormatError, match="2 of the 15625 cells"):
        NASBench201Benchmark.from_csv(table)
