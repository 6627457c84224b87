"""NAS-Bench-201 as an evaluation function: querying a cell looks up its recorded accuracy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from meta.data.nasbench201 import NB201_NUM_EDGES, NB201_OPS, NASBench201Table, NASBenchFormatError, load_nasbench201
from meta.nas.space import Architecture, CellSearchSpace, NB201SpaceConfig


class NASBench201Benchmark:
    """Tabular evaluation on NAS-Bench-201 (the table's ``dataset``, CIFAR-10 in the file that ships):
    search on validation, report test accuracy.

    Calling the benchmark with an architecture of :class:`~meta.nas.space.CellSearchSpace` returns its
    recorded validation accuracy and counts one query. The table must hold every cell of the space
    (a search may ask for any of them): a partial one raises ``NASBenchFormatError``.

    Example:
        >>> bench = NASBench201Benchmark.from_csv("../shared/data/nasbench201/nb201_cifar10.csv")  # doctest: +SKIP
        >>> arch = bench.space.cell_arch(["nor_conv_3x3"] * 6)  # doctest: +SKIP
        >>> bench(arch), bench.test_accuracy(arch), bench.queries  # doctest: +SKIP
        (69.078, 82.2, 1)
    """

    def __init__(self, table: NASBench201Table, space_config: NB201SpaceConfig | None = None) -> None:
        cells = len(NB201_OPS) ** NB201_NUM_EDGES
        if len(table) < cells:  # its cells are distinct: fewer means some are missing, and every trial asking for one failed
            raise NASBenchFormatError(f"table: {len(table)} of the {cells} cells of the space; a tabular benchmark needs every cell")
        self.table = table
        self.space = CellSearchSpace(space_config)
        self.queries = 0

    @classmethod
    def from_csv(cls, path: str | Path, dataset: str | None = None, **space_options: Any) -> NASBench201Benchmark:
        """Load the table at ``path`` for ``dataset`` (a column prefix such as ``cifar100``; needed only in
        a file with several datasets, see :func:`meta.data.nasbench201.load_nasbench201`); ``space_options``
        are :class:`~meta.nas.space.NB201SpaceConfig` fields."""
        config = NB201SpaceConfig(**space_options) if space_options else None
        return cls(load_nasbench201(path, dataset), config)

    def __call__(self, architecture: Architecture) -> float:
        val, _ = self.table.query(self.space.op_indices(architecture))
        self.queries += 1
        return val

    def test_accuracy(self, architecture: Architecture) -> float:
        """The recorded test accuracy (not a query: the search never sees it)."""
        return self.table.query(self.space.op_indices(architecture))[1]

    def best_test_accuracy(self) -> float:
        """The highest test accuracy of any cell (the oracle)."""
        return float(self.table.test_acc.max())
