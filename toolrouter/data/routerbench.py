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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["RouterBenchData", "load_routerbench", "EVALS", "SPLITS"]

EVALS = ("mbpp", "winogrande")
SPLITS = ("train", "test")


@dataclass(frozen=True)
class RouterBenchData:
    """Prompts and, per prompt and model, the answer's quality in [0, 1] and its cost in dollars.

    ``quality`` and ``cost`` have shape ``(len(prompts), len(models))``.
    """

    sample_ids: tuple[str, ...]
    eval_names: tuple[str, ...]
    prompts: tuple[str, ...]
    models: tuple[str, ...]
    quality: np.ndarray
    cost: np.ndarray

    def __len__(self) -> int:
        return len(self.prompts)

    def utility(self, cost_weight: float) -> np.ndarray:
        """``quality - cost_weight * cost`` per prompt and model (the router's reward)."""
        if not np.isfinite(cost_weight) or cost_weight < 0:
            raise ValueError(f"cost_weight must be a finite number >= 0, got {cost_weight!r}")
        return self.quality - cost_weight * self.cost

    def take(self, indices: Sequence[int] | np.ndarray) -> "RouterBenchData":
        """The rows at ``indices``, in that order (for shuffled replays and slices)."""
        idx = np.asarray(indices, dtype=np.intp)
        return RouterBenchData(
            sample_ids=tuple(self.sample_ids[i] for i in idx),
            eval_names=tuple(self.eval_names[i] for i in idx),
            prompts=tuple(self.prompts[i] for i in idx),
            models=self.models,
            quality=self.quality[idx],
            cost=self.cost[idx],
        )


def _prompt_text(raw: str) -> str:
    """The prompt column holds a Python list of strings (the conversation turns); join them."""
    try:
        value = ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return "\n".join(value)
    return raw


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise ValueError(f"{path}: empty file") from None
        return header, list(reader)


def load_routerbench(
    path: str | Path,
    evals: Sequence[str] = EVALS,
    splits: Sequence[str] = SPLITS,
    *,
    limit: int | None = None,
) -> RouterBenchData:
    """Load ``<eval>_<split>.csv`` files from the folder ``path``, concatenated in the order given.

    ``limit`` keeps the first rows of each file (for tests). A missing folder or file raises
    ``FileNotFoundError`` naming it; a malformed file (other models, non-finite or out-of-range
    values) raises ``ValueError`` naming the file, row and column.
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"path: no RouterBench folder at {str(root)!r}")
    for name, given, known in (("evals", evals, EVALS), ("splits", splits, SPLITS)):
        if isinstance(given, str) or not given:
            raise ValueError(f"{name}: expected a non-empty list from {list(known)}, got {given!r}")
        unknown = [g for g in given if g not in known]
        if unknown:
            raise ValueError(f"{name}: unknown {unknown!r}; choose from {list(known)}")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit!r}")

    models: tuple[str, ...] | None = None
    ids: list[str] = []
    names: list[str] = []
    prompts: list[str] = []
    quality: list[np.ndarray] = []
    cost: list[np.ndarray] = []
    for ev in evals:
        for split in splits:
            file = root / f"{ev}_{split}.csv"
            if not file.is_file():
                raise FileNotFoundError(f"path: no file {str(file)!r}")
            header, rows = _read(file)
            q_cols = [i for i, c in enumerate(header) if c.startswith("quality:")]
            c_cols = [i for i, c in enumerate(header) if c.startswith("cost:")]
            file_models = tuple(header[i].split(":", 1)[1] for i in q_cols)
            if tuple(header[i].split(":", 1)[1] for i in c_cols) != file_models or not file_models:
                raise ValueError(f"{file}: quality: and cost: columns must name the same models")
            if models is None:
                models = file_models
            elif file_models != models:
                raise ValueError(f"{file}: models {file_models} differ from {models}")
            try:
                base = [header.index(c) for c in ("sample_id", "eval_name", "prompt")]
            except ValueError:
                raise ValueError(f"{file}: needs the columns sample_id, eval_name, prompt") from None
            for r, row in enumerate(rows[:limit] if limit else rows, start=2):
                try:
                    q = np.array([float(row[i]) for i in q_cols])
                    c = np.array([float(row[i]) for i in c_cols])
                except (ValueError, IndexError):
                    raise ValueError(f"{file}: row {r}: quality and cost must be numbers") from None
                if not (np.all(np.isfinite(q)) and np.all((q >= 0) & (q <= 1))):
                    raise ValueError(f"{file}: row {r}: quality must lie in [0, 1], got {q.tolist()}")
                if not (np.all(np.isfinite(c)) and np.all(c >= 0)):
                    raise ValueError(f"{file}: row {r}: cost must be finite and >= 0, got {c.tolist()}")
                ids.append(row[base[0]])
                names.append(row[base[1]])
                prompts.append(_prompt_text(row[base[2]]))
                quality.append(q)
                cost.append(c)
    assert models is not None
    return RouterBenchData(
        sample_ids=tuple(ids),
        eval_names=tuple(names),
        prompts=tuple(prompts),
        models=models,
        quality=np.array(quality),
        cost=np.array(cost),
    )
