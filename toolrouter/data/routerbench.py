"""RouterBench (Hu et al., 2024): per-prompt quality and cost of 11 LLMs, for routing replays.

The files are ``<eval>_<split>.csv`` with columns ``sample_id, eval_name, prompt, quality:<model>...,
cost:<model>...`` (the zero-shot split as published by RouterDC). Each model is a "tool" whose
outcome on every prompt is known, so an online router can be replayed on real outcomes: it sees
only the outcome of the model it picked, and regret is measured against the per-prompt oracle.

Example:
    >>> data = load_routerbench("../shared/data/routerbench", evals=["mbpp"], splits=["test"])  # doctest: +SKIP
    >>> data.quality.shape  # doctest: +SKIP
    (128, 11)
"""

from __future__ import annotations

import ast
import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from meta._checks import check_flag
from toolrouter._checks import check_count, check_real
from toolrouter.data._text import ENCODING, NOT_A_LITERAL, reading, refuse_repeated_columns
from toolrouter.errors import DataError
from toolrouter.logging import EventLog
from toolrouter.serialization import checked_path, short_repr

__all__ = ["RouterBenchData", "load_routerbench", "EVALS", "SPLITS"]

EVALS = ("mbpp", "winogrande")
SPLITS = ("train", "test")
#: Bad rows listed in full in a loading error; the rest are counted.
MAX_LISTED = 10

log = EventLog(__name__)


# equal only to itself, as its arrays are: a field-wise == compares arrays elementwise and raised
@dataclass(frozen=True, eq=False)
class RouterBenchData:
    """Prompts and, per prompt and model, the answer's quality in [0, 1] and its cost in dollars.

    ``quality`` and ``cost`` have shape ``(len(prompts), len(models))``; ``dropped_rows`` counts the
    rows of the files that ``load_routerbench(..., skip_incomplete=True)`` left out (a count of
    the files: ``take`` keeps it).
    """

    sample_ids: tuple[str, ...]
    eval_names: tuple[str, ...]
    prompts: tuple[str, ...]
    models: tuple[str, ...]
    quality: np.ndarray
    cost: np.ndarray
    dropped_rows: int = 0

    def __len__(self) -> int:
        return len(self.prompts)

    def utility(self, cost_weight: float) -> np.ndarray:
        """``quality - cost_weight * cost`` per prompt and model (the router's reward)."""
        # one check of a number: a bool was taken as 0 or 1, and a string raised numpy's TypeError
        cost_weight = check_real("cost_weight", cost_weight, low=0)
        return self.quality - cost_weight * self.cost

    def take(self, indices: Sequence[int] | np.ndarray) -> "RouterBenchData":
        """The rows at ``indices``, in that order (for shuffled replays and slices); negative
        indices count from the end. Indices that are not whole numbers (a boolean mask, floats)
        or lie outside the rows raise ``ValueError`` naming them."""
        raw = np.asarray(indices)
        # a cast would read a mask [True, False] as the rows [1, 0] and 1.7 as row 1
        if raw.ndim != 1 or (raw.size and raw.dtype.kind not in "iu"):
            raise ValueError(f"indices: expected a list of row numbers, got {short_repr(indices)}")
        idx = raw.astype(np.intp)
        outside = idx[(idx < -len(self)) | (idx >= len(self))]
        if outside.size:
            raise ValueError(f"indices: {outside[:5].tolist()} outside the {len(self)} rows")
        return replace(  # what is not per row (the models, what the loader dropped) carries over
            self,
            sample_ids=tuple(self.sample_ids[i] for i in idx),
            eval_names=tuple(self.eval_names[i] for i in idx),
            prompts=tuple(self.prompts[i] for i in idx),
            quality=self.quality[idx],
            cost=self.cost[idx],
        )


def _prompt_text(raw: str) -> str:
    """The prompt column holds a Python list of strings (the conversation turns); join them."""
    try:
        value = ast.literal_eval(raw)
    except NOT_A_LITERAL:  # a prompt that is not a list is its own text
        return raw
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    return raw


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with reading(path), path.open(newline="", encoding=ENCODING) as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise DataError(f"{path}: empty file (expected a header row)")
        return header, list(reader)


def _cell_problem(raw: str, column: str) -> tuple[float, str | None]:
    """The cell's value, and what is wrong with it (None when it is a valid quality or cost)."""
    if not raw.strip():
        return math.nan, "empty"
    try:
        value = float(raw)
    except ValueError:
        return math.nan, f"not a number ({raw!r})"
    if not math.isfinite(value):
        return value, f"{raw.strip()} is not finite"
    if column.startswith("quality:") and not 0 <= value <= 1:
        return value, f"{value:g} is outside [0, 1]"
    if column.startswith("cost:") and value < 0:
        return value, f"{value:g} is negative"
    return value, None


def _bad_rows_error(bad: list[str]) -> DataError:
    shown = "; ".join(bad[:MAX_LISTED])
    more = f"; and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
    return DataError(
        f"{len(bad)} RouterBench row(s) with too many cells or a missing, empty or invalid quality or cost: {shown}{more} "
        "(skip_incomplete=True, or --skip-incomplete on a bench, drops such rows)"
    )


def load_routerbench(
    path: str | Path,
    evals: Sequence[str] = EVALS,
    splits: Sequence[str] = SPLITS,
    *,
    limit: int | None = None,
    skip_incomplete: bool = False,
) -> RouterBenchData:
    """Load ``<eval>_<split>.csv`` files from the folder ``path``, concatenated in the order given.

    ``limit`` keeps the first rows of each file (for tests). An eval or split that is unknown or
    named twice raises ``ValueError``. A missing folder or file raises ``FileNotFoundError`` naming
    it. A malformed file raises :class:`~toolrouter.errors.DataError` (a ``ValueError``): a bad
    header names the file, a sample_id that repeats an earlier row (of its file or of another) names
    both rows, an empty prompt (or an empty list of turns) names its row;
    bad rows (more cells than the header names, or a quality or cost cell that is empty, not a
    number, not finite, or outside quality in [0, 1] / cost >= 0) are collected over every file and
    listed in one error, each with its file, row and column.
    ``skip_incomplete=True`` drops those rows instead, logs one ``routerbench_rows_dropped`` event
    per file that had any, and counts them in ``RouterBenchData.dropped_rows``. A file that gives
    no row (only its header, or only rows dropped) is a ``DataError`` naming it.
    """
    root = checked_path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"path: no RouterBench folder at {str(root)!r}")
    chosen: dict[str, list[str]] = {}
    for name, given, known in (("evals", evals, EVALS), ("splits", splits, SPLITS)):
        # a list once: a generator would be spent by these checks before the files are read
        names = [] if isinstance(given, str) else list(given)
        if not names:
            raise ValueError(f"{name}: expected a non-empty list from {list(known)}, got {given!r}")
        unknown = [g for g in names if g not in known]
        if unknown:
            raise ValueError(f"{name}: unknown {unknown!r}; choose from {list(known)}")
        repeated = sorted({g for g in names if names.count(g) > 1})
        if repeated:  # a file read twice would count each of its prompts twice
            raise ValueError(f"{name}: {repeated!r} given more than once, in {names!r}")
        chosen[name] = names
    evals, splits = chosen["evals"], chosen["splits"]
    limit = None if limit is None else check_count("limit", limit, low=1)
    skip_incomplete = check_flag("skip_incomplete", skip_incomplete, error=TypeError)  # "no" is true: it dropped

    models: tuple[str, ...] | None = None
    ids: list[str] = []
    names: list[str] = []
    prompts: list[str] = []
    quality: list[np.ndarray] = []
    cost: list[np.ndarray] = []
    bad: list[str] = []
    unused: list[str] = []  # the files that gave no row
    first_row: dict[str, tuple[Path, int]] = {}  # sample_id -> the file and row that hold it
    for ev in evals:
        for split in splits:
            file = root / f"{ev}_{split}.csv"
            if not file.is_file():
                raise FileNotFoundError(f"path: no file {str(file)!r}")
            header, rows = _read(file)
            q_cols = [i for i, c in enumerate(header) if c.startswith("quality:")]
            c_cols = [i for i, c in enumerate(header) if c.startswith("cost:")]
            file_models = tuple(header[i].split(":", 1)[1] for i in q_cols)
            cost_models = [header[i].split(":", 1)[1] for i in c_cols]
            for kind, named in (("quality", file_models), ("cost", cost_models)):
                repeated = sorted({m for m in named if named.count(m) > 1})
                if repeated:
                    raise DataError(f"{file}: model(s) {repeated} have more than one {kind}: column")
            if set(cost_models) != set(file_models) or not file_models:
                raise DataError(
                    f"{file}: quality: and cost: columns must name the same models; quality: only "
                    f"{sorted(set(file_models) - set(cost_models))}, cost: only {sorted(set(cost_models) - set(file_models))}"
                )
            if models is None:
                models = file_models
            elif set(file_models) != set(models):
                raise DataError(f"{file}: models {file_models} differ from {models}")
            # columns paired by model name, in the first file's order: a file whose columns come in
            # another order is the same table
            q_cols = [q_cols[file_models.index(m)] for m in models]
            c_cols = [c_cols[cost_models.index(m)] for m in models]
            try:
                base = [header.index(c) for c in ("sample_id", "eval_name", "prompt")]
            except ValueError:
                raise DataError(f"{file}: needs the columns sample_id, eval_name, prompt") from None
            refuse_repeated_columns(file, header)
            dropped: list[int] = []
            loaded = len(prompts)
            for r, row in enumerate(rows[:limit] if limit else rows, start=2):
                if not row:
                    continue  # a blank line holds no cells: nothing to load or to report
                values: dict[int, float] = {}
                problems: list[str] = []
                if len(row) > len(header):  # an unquoted comma, most likely: the cells no longer line up
                    problems.append(f"{len(row)} cells, the header names {len(header)}")
                for i in (*base, *q_cols, *c_cols):
                    if i >= len(row):
                        problems.append(f"{header[i]}: missing (the row has {len(row)} of {len(header)} cells)")
                        break
                    if i in base:
                        continue
                    values[i], problem = _cell_problem(row[i], header[i])
                    if problem is not None:
                        problems.append(f"{header[i]}: {problem}")
                if problems:
                    bad.append(f"{file}: row {r}: " + ", ".join(problems))
                    dropped.append(r)
                    continue
                sample_id = row[base[0]]
                if sample_id in first_row:  # rows pasted twice count each prompt twice; in a train and
                    # a test file, the prompt is trained on and tested on
                    other, other_r = first_row[sample_id]
                    where = "" if other == file else f"{other.name} "
                    raise DataError(f"{file}: row {r}: sample_id {sample_id!r} repeats {where}row {other_r}")
                prompt = _prompt_text(row[base[2]])
                if not prompt.strip():  # a router would be replayed on a request that says nothing
                    raise DataError(f"{file}: row {r}: prompt is empty ({row[base[2]]!r:.40})")
                first_row[sample_id] = (file, r)
                ids.append(sample_id)
                names.append(row[base[1]])
                prompts.append(prompt)
                quality.append(np.array([values[i] for i in q_cols]))
                cost.append(np.array([values[i] for i in c_cols]))
            if dropped and skip_incomplete:
                log.info("routerbench_rows_dropped", file=str(file), dropped=len(dropped), rows=dropped[:MAX_LISTED])
            if len(prompts) == loaded:
                unused.append(file.name)
    if bad and not skip_incomplete:
        raise _bad_rows_error(bad)
    assert models is not None
    if unused:  # a file cut to its header would leave its eval or split out of the data without a word
        raise DataError(f"{root}: no usable rows in {unused}")
    return RouterBenchData(
        sample_ids=tuple(ids),
        eval_names=tuple(names),
        prompts=tuple(prompts),
        models=models,
        quality=np.array(quality),
        cost=np.array(cost),
        dropped_rows=len(bad),
    )
