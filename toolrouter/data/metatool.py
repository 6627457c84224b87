"""MetaTool (Huang et al., 2024): user requests labelled with the one tool that serves them.

The folder holds ``tools.json`` (a JSON object: tool name -> description) and ``queries.csv``
(columns ``query,tool``). The copy in ``shared/data/metatool`` has 100 tools and about 10,200
requests, very unevenly spread: from 12 requests for one tool to over 1,000 for another, so
sample per tool (not per request) when you draw few-shot episodes, and report accuracy averaged
per tool beside the accuracy over requests.

Example:
    >>> data = load_metatool("../shared/data/metatool")  # doctest: +SKIP
    >>> len(data.tools), len(data)  # doctest: +SKIP
    (100, 10173)
    >>> train, held_out = data.split_tools(seed=0, held_out=30)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from toolrouter.errors import DataError

__all__ = ["MetaToolData", "load_metatool"]


@dataclass(frozen=True)
class MetaToolData:
    """Tools with their descriptions, and requests labelled with a tool.

    ``tools`` maps each tool name to its description (in the file's order); ``queries[i]`` is
    served by ``labels[i]``, a key of ``tools``. Every label is a known tool; a tool may have no
    request.
    """

    tools: dict[str, str]
    queries: tuple[str, ...]
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.queries)

    @property
    def tool_names(self) -> list[str]:
        """Tool names in the file's order."""
        return list(self.tools)

    def queries_by_tool(self) -> dict[str, list[str]]:
        """Tool -> its requests (in file order); every tool is a key, possibly with no request."""
        out: dict[str, list[str]] = {t: [] for t in self.tools}
        for query, tool in zip(self.queries, self.labels):
            out[tool].append(query)
        return out

    def counts(self) -> dict[str, int]:
        """Tool -> number of requests."""
        return {t: len(qs) for t, qs in self.queries_by_tool().items()}

    def split_tools(
        self, seed: int, held_out: int | float = 0.3, *, min_queries: int = 1
    ) -> tuple[list[str], list[str]]:
        """``(train, held_out)`` tool names, a deterministic function of ``seed``, each sorted.

        ``held_out`` is a count (int) or a fraction in (0, 1) of the tools that have at least
        ``min_queries`` requests (the others are left out of both lists). Both parts are non-empty.
        """
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed: must be an integer >= 0, got {seed!r}")
        if isinstance(min_queries, bool) or not isinstance(min_queries, int) or min_queries < 0:
            raise ValueError(f"min_queries: must be an integer >= 0, got {min_queries!r}")
        counts = self.counts()
        eligible = sorted(t for t in self.tools if counts[t] >= min_queries)
        if isinstance(held_out, bool) or not isinstance(held_out, (int, float, np.integer, np.floating)):
            raise TypeError(f"held_out: expected a count or a fraction, got {held_out!r}")
        if isinstance(held_out, (int, np.integer)):
            n_held = int(held_out)
        elif 0 < held_out < 1:
            n_held = int(round(held_out * len(eligible)))
        else:
            raise ValueError(f"held_out: a fraction must lie in (0, 1), got {held_out!r}")
        if not 1 <= n_held < len(eligible):
            raise ValueError(
                f"held_out: {held_out!r} leaves {n_held} of {len(eligible)} eligible tools held out; both parts must be non-empty"
            )
        order = np.random.default_rng(int(seed)).permutation(len(eligible))
        held = sorted(eligible[i] for i in order[:n_held])
        train = sorted(eligible[i] for i in order[n_held:])
        return train, held

    def subset(self, tool_names: Iterable[str]) -> "MetaToolData":
        """Only the named tools and their requests (for example one side of a split)."""
        names = list(tool_names)
        unknown = [t for t in names if t not in self.tools]
        if unknown:
            raise KeyError(f"tool_names: unknown tools {unknown[:5]!r}")
        keep = set(names)
        rows = [(q, t) for q, t in zip(self.queries, self.labels) if t in keep]
        return MetaToolData(
            tools={t: self.tools[t] for t in names},
            queries=tuple(q for q, _ in rows),
            labels=tuple(t for _, t in rows),
        )


def _read_tools(file: Path) -> dict[str, str]:
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataError(f"{file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(raw, dict) or not raw:
        raise DataError(f"{file}: expected a non-empty JSON object tool name -> description, got {type(raw).__name__}")
    for name, description in raw.items():
        if not name.strip():
            raise DataError(f"{file}: a tool name is empty")
        if not isinstance(description, str) or not description.strip():
            raise DataError(f"{file}: tool {name!r}: description must be a non-empty string, got {description!r}")
    return dict(raw)


def load_metatool(path: str | Path, *, drop_duplicates: bool = True) -> MetaToolData:
    """Load ``tools.json`` and ``queries.csv`` from the folder ``path`` (the shared copy or yours).

    Rows that repeat a (query, tool) pair are dropped with ``drop_duplicates`` (the shared copy has
    34 such rows, repeats of 27 requests; kept, a repeat can land in both the support set and the
    test set). Raises
    ``FileNotFoundError`` naming the missing folder or file, and :class:`~toolrouter.errors.DataError`
    (a ``ValueError``) naming the file, row and field for a malformed file: invalid JSON, an empty
    description, a missing column, an empty query, a query whose tool is not in ``tools.json``, or
    one query labelled with two tools.
    """
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"path: no MetaTool folder at {str(root)!r}")
    tools_file, queries_file = root / "tools.json", root / "queries.csv"
    for file in (tools_file, queries_file):
        if not file.is_file():
            raise FileNotFoundError(f"path: no file {str(file)!r}")
    tools = _read_tools(tools_file)

    queries: list[str] = []
    labels: list[str] = []
    seen: dict[str, str] = {}
    with queries_file.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("query", "tool") if c not in (reader.fieldnames or [])]
        if missing:
            raise DataError(f"{queries_file}: missing column(s) {missing}; the header must hold query,tool")
        for row_no, row in enumerate(reader, start=2):
            query, tool = row["query"], row["tool"]
            if query is None or tool is None:
                raise DataError(f"{queries_file}: row {row_no}: expected the fields query,tool, got {row!r}")
            if not query.strip():
                raise DataError(f"{queries_file}: row {row_no}: field query is empty")
            if tool not in tools:
                raise DataError(f"{queries_file}: row {row_no}: field tool {tool!r} is not in {tools_file.name}")
            if query in seen:
                if seen[query] != tool:
                    raise DataError(
                        f"{queries_file}: row {row_no}: query {query!r} is labelled {tool!r} here and {seen[query]!r} earlier"
                    )
                if drop_duplicates:
                    continue
            seen[query] = tool
            queries.append(query)
            labels.append(tool)
    if not queries:
        raise DataError(f"{queries_file}: no queries")
    return MetaToolData(tools=tools, queries=tuple(queries), labels=tuple(labels))
