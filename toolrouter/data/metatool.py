"""MetaTool (Huang et al., 2024): user requests labelled with the one tool that serves them.

The folder holds ``tools.json`` (a JSON object: tool name -> description) and ``queries.csv``
(columns ``query,tool``). The copy in ``shared/data/metatool`` has 100 tools and about 10,200
requests, very unevenly spread: from 12 requests for one tool to over 1,000 for another, so
sample per tool (not per request) when you draw few-shot episodes, and report accuracy averaged
per tool beside the accuracy over requests.

Example:
    >>> data = load_metatool("../shared/data/metatool")  # doctest: +SKIP
    >>> len(data.tools), len(data)  # doctest: +SKIP
    (100, 10167)
    >>> train, held_out = data.split_tools(seed=0, held_out=30)  # doctest: +SKIP

A request labelled with two tools is refused by default; ``load_metatool(path, multi_label="keep")``
keeps it (served by either tool: ``MetaToolData.served_by``) and ``multi_label="drop"`` drops it
and counts it (``MetaToolData.multi_label_dropped``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from meta._checks import check_flag
from toolrouter._checks import check_count
from toolrouter.data._text import ENCODING, reading, refuse_repeated_columns
from toolrouter.errors import DataError
from toolrouter.logging import EventLog
from toolrouter.serialization import checked_path

__all__ = ["MetaToolData", "load_metatool"]

log = EventLog(__name__)


@dataclass(frozen=True)
class MetaToolData:
    """Tools with their descriptions, and requests labelled with a tool.

    ``tools`` maps each tool name to its description (in the file's order); ``queries[i]`` is
    served by ``labels[i]``, a key of ``tools`` (for a request kept with several labels, the first
    in the file), and by the tools in ``also_served_by[i]`` (empty unless loaded with
    ``multi_label="keep"``). Every label is a known tool; a tool may have no request.
    ``multi_label_dropped`` counts the requests dropped with ``multi_label="drop"`` (a count of
    the files: ``subset`` keeps it).
    """

    tools: dict[str, str]
    queries: tuple[str, ...]
    labels: tuple[str, ...]
    also_served_by: tuple[tuple[str, ...], ...] = ()
    multi_label_dropped: int = 0

    def __post_init__(self) -> None:
        if not self.also_served_by:  # the common case: one label per request
            object.__setattr__(self, "also_served_by", ((),) * len(self.queries))
        if not len(self.queries) == len(self.labels) == len(self.also_served_by):
            raise ValueError(
                f"queries, labels, also_served_by: lengths differ ({len(self.queries)}, {len(self.labels)}, "
                f"{len(self.also_served_by)})"
            )

    def served_by(self, i: int) -> tuple[str, ...]:
        """Every tool that serves ``queries[i]``: its label first, then any others it was kept with."""
        return (self.labels[i], *self.also_served_by[i])

    def __len__(self) -> int:
        return len(self.queries)

    @property
    def tool_names(self) -> list[str]:
        """Tool names in the file's order."""
        return list(self.tools)

    def queries_by_tool(self) -> dict[str, list[str]]:
        """Tool -> its requests (in file order; a request under its first label only); every tool
        is a key, possibly with no request."""
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
        seed = check_count("seed", seed)
        min_queries = check_count("min_queries", min_queries)
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
        """Only the named tools and their requests (for example one side of a split); one name
        given as a string is that tool (not its letters). An unknown name raises ``KeyError``."""
        names = [tool_names] if isinstance(tool_names, str) else list(tool_names)
        unknown = [t for t in names if t not in self.tools]
        if unknown:
            raise KeyError(f"tool_names: unknown tools {unknown[:5]!r}")
        keep = set(names)
        rows = [i for i, t in enumerate(self.labels) if t in keep]
        return replace(  # what is not per tool or request (what the loader dropped) carries over
            self,
            tools={t: self.tools[t] for t in names},
            queries=tuple(self.queries[i] for i in rows),
            labels=tuple(self.labels[i] for i in rows),
            also_served_by=tuple(tuple(t for t in self.also_served_by[i] if t in keep) for i in rows),
        )


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object's (name, value) pairs in order, repeats included."""


def _name_key(name: str) -> str:
    """Names equal up to case and white space are one tool's name written twice."""
    return "".join(name.split()).casefold()


def _query_key(query: str) -> str:
    """Requests equal up to case and spacing (a trailing blank, "Ethereum" and "ethereum") are one
    request written twice."""
    return " ".join(query.split()).casefold()


def _read_tools(file: Path) -> dict[str, str]:
    try:
        with reading(file):
            text = file.read_text(encoding=ENCODING)
        pairs = json.loads(text, object_pairs_hook=_Pairs)  # keeps repeated names
    except json.JSONDecodeError as exc:
        raise DataError(f"{file}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:  # arrays or objects nested deeper than the decoder goes: no tool list either
        raise DataError(f"{file}: not valid JSON (nested too deeply)") from None
    if not isinstance(pairs, _Pairs) or not pairs:
        kind = "dict" if isinstance(pairs, _Pairs) else type(pairs).__name__
        raise DataError(f"{file}: expected a non-empty JSON object tool name -> description, got {kind}")
    raw: dict[str, str] = {}
    by_key: dict[str, str] = {}
    for name, description in pairs:
        if not name.strip():
            raise DataError(f"{file}: a tool name is empty")
        if not isinstance(description, str) or not description.strip():
            raise DataError(f"{file}: tool {name!r}: description must be a non-empty string, got {description!r}")
        other = by_key.setdefault(_name_key(name), name)
        if other != name or name in raw:
            raise DataError(f"{file}: tool names {other!r} and {name!r} differ only in case or spacing (or not at all)")
        raw[name] = description
    return raw


def load_metatool(
    path: str | Path,
    *,
    drop_duplicates: bool = True,
    multi_label: Literal["error", "keep", "drop"] = "error",
) -> MetaToolData:
    """Load ``tools.json`` and ``queries.csv`` from the folder ``path`` (the shared copy or yours).

    Requests equal up to case and spacing are one request (the first row's text is kept). Rows that
    repeat a (query, tool) pair are dropped with ``drop_duplicates`` (the shared copy has 40 such
    rows, repeats of 32 requests; kept, a repeat can land in both the support set and the test set).
    A request labelled with two or more tools (on separate rows) is handled by
    ``multi_label``: ``"error"`` (default) refuses the file; ``"keep"`` keeps the request once,
    served by any of its tools (``labels`` holds the first, ``also_served_by`` the others);
    ``"drop"`` drops every row of it and counts the requests in ``multi_label_dropped`` (the shared
    copy has none).

    Raises ``FileNotFoundError`` naming the missing folder or file, ``ValueError`` for an unknown
    ``multi_label``, ``TypeError`` for a ``drop_duplicates`` that is not a bool, and :class:`~toolrouter.errors.DataError` (a ``ValueError``) naming the file,
    row and field for a malformed file: invalid JSON, an empty description, two tool names that
    differ only in case or spacing (both named), text that is not UTF-8, a missing or repeated column, a
    row with more cells than the header, an empty query, a query whose tool is not in ``tools.json``,
    or (by default) one query labelled with two tools.
    """
    if multi_label not in ("error", "keep", "drop"):
        raise ValueError(f"multi_label: expected 'error', 'keep' or 'drop', got {multi_label!r}")
    drop_duplicates = check_flag("drop_duplicates", drop_duplicates, error=TypeError)  # "no" is true: it dropped
    root = checked_path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"path: no MetaTool folder at {str(root)!r}")
    tools_file, queries_file = root / "tools.json", root / "queries.csv"
    for file in (tools_file, queries_file):
        if not file.is_file():
            raise FileNotFoundError(f"path: no file {str(file)!r}")
    tools = _read_tools(tools_file)

    rows: list[tuple[str, str]] = []
    seen: dict[str, list[str]] = {}  # query's key -> its distinct tools, in file order
    with reading(queries_file), queries_file.open(newline="", encoding=ENCODING) as fh:
        reader = csv.DictReader(fh)
        columns = list(reader.fieldnames or [])
        missing = [c for c in ("query", "tool") if c not in columns]
        if missing:
            raise DataError(f"{queries_file}: missing column(s) {missing}; the header must hold query,tool")
        refuse_repeated_columns(queries_file, columns)
        for row_no, row in enumerate(reader, start=2):
            query, tool = row["query"], row["tool"]
            if query is None or tool is None:
                raise DataError(f"{queries_file}: row {row_no}: expected the fields query,tool, got {row!r}")
            if None in row:  # more cells than the header names: an unquoted comma, most likely
                raise DataError(
                    f"{queries_file}: row {row_no}: {len(reader.fieldnames or []) + len(row[None])} cells, the header names "
                    f"{len(reader.fieldnames or [])} (quote a query that holds a comma); extra cells {row[None]!r:.80}"
                )
            if not query.strip():
                raise DataError(f"{queries_file}: row {row_no}: field query is empty")
            if tool not in tools:
                raise DataError(f"{queries_file}: row {row_no}: field tool {tool!r} is not in {tools_file.name}")
            tools_of = seen.setdefault(_query_key(query), [])
            if tools_of and tool not in tools_of and multi_label == "error":
                raise DataError(
                    f"{queries_file}: row {row_no}: query {query!r} is labelled {tool!r} here and {tools_of[0]!r} earlier "
                    "(load with multi_label='keep' or 'drop')"
                )
            if tool in tools_of and drop_duplicates:
                continue
            if tool not in tools_of:
                tools_of.append(tool)
            rows.append((query, tool))
    multi = {key for key, ts in seen.items() if len(ts) > 1}
    if multi:
        log.info("metatool_multi_label", requests=len(multi), handling=multi_label)
    queries: list[str] = []
    labels: list[str] = []
    also: list[tuple[str, ...]] = []
    placed: set[str] = set()
    for query, tool in rows:
        key = _query_key(query)
        if key in multi:
            if multi_label == "drop" or key in placed:
                continue  # a kept multi-label request appears once, at its first row
            placed.add(key)
        queries.append(query)
        labels.append(tool)
        also.append(tuple(t for t in seen[key] if t != tool) if key in multi else ())
    if not queries:
        raise DataError(f"{queries_file}: no queries" + (f" ({len(multi)} multi-label requests dropped)" if multi else ""))
    dropped = len(multi) if multi_label == "drop" else 0
    return MetaToolData(tools=tools, queries=tuple(queries), labels=tuple(labels), also_served_by=tuple(also),
                        multi_label_dropped=dropped)
