"""Interleaved, paired timing for the adapters suite: fair ratios on a machine shared with other work.

``median_time_s`` in ``_report`` times one function at a time; when the machine's load changes
between two such runs, their ratio drifts. Here every round times each candidate right after its
reference (R, A, R, B, R, C, ...), and a ratio is the median over rounds of ``A / R`` taken from
adjacent calls, so that load changes between and within rounds hit both sides of a ratio alike.
Every other round calls the candidate first (A, R, B, R, ...), so that whatever the second call of
a pair gains or loses from the first (warm caches, allocator state) cancels out too.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class PairedSamples:
    """Per candidate: its times and the times of its reference measured just before, in seconds."""

    candidate_s: dict[str, list[float]] = field(default_factory=dict)
    reference_s: dict[str, list[float]] = field(default_factory=dict)

    def median_s(self, name: str) -> float:
        """Median time of one candidate."""
        return statistics.median(self.candidate_s[name])

    def ratio(self, name: str) -> float:
        """Median over rounds of candidate time / adjacent reference time."""
        return statistics.median(c / r for c, r in zip(self.candidate_s[name], self.reference_s[name]))


def paired_samples_s(
    candidates: Mapping[str, tuple[Callable[[], Any], Callable[[], Any]]], repeats: int, warmup: int = 3
) -> PairedSamples:
    """Time each ``name -> (reference, candidate)`` pair ``repeats`` times, round-robin, adjacent calls,
    the reference first in even rounds and second in odd ones.

    Example:
        >>> samples = paired_samples_s({"noop": (lambda: None, lambda: None)}, repeats=3, warmup=0)
        >>> len(samples.candidate_s["noop"])
        3
    """
    if repeats < 1:
        raise ValueError(f"repeats: must be at least 1, got {repeats}")
    for _ in range(warmup):
        for reference, candidate in candidates.values():
            reference()
            candidate()
    out = PairedSamples({name: [] for name in candidates}, {name: [] for name in candidates})
    for round_index in range(repeats):
        for name, (reference, candidate) in candidates.items():
            first, second = (reference, candidate) if round_index % 2 == 0 else (candidate, reference)
            start = time.perf_counter()
            first()
            middle = time.perf_counter()
            second()
            end = time.perf_counter()
            first_s, second_s = middle - start, end - middle
            reference_s, candidate_s = (first_s, second_s) if round_index % 2 == 0 else (second_s, first_s)
            out.reference_s[name].append(reference_s)
            out.candidate_s[name].append(candidate_s)
    return out
