"""Interleaved timing for the adapters suite: fair ratios on a machine shared with other work.

``median_time_s`` in ``_report`` times one function at a time; when the machine's load changes
between two such runs, their ratio drifts. Here every repetition times each candidate once, in
turn (A, B, C, A, B, C, ...), so that slow and fast periods hit all candidates alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any


def interleaved_samples_s(
    candidates: Mapping[str, Callable[[], Any]], repeats: int, warmup: int = 3
) -> dict[str, list[float]]:
    """Wall times in seconds of each candidate over ``repeats`` interleaved rounds, in round order."""
    if repeats < 1:
        raise ValueError(f"repeats: must be at least 1, got {repeats}")
    for _ in range(warmup):
        for fn in candidates.values():
            fn()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return samples


def median_s(samples: list[float]) -> float:
    """The median of one candidate's samples."""
    return statistics.median(samples)


def paired_ratio(samples: Mapping[str, list[float]], numerator: str, denominator: str) -> float:
    """Median over rounds of ``numerator``'s time over ``denominator``'s time in the same round.

    Pairing by round cancels load that changes between rounds; list the two candidates next to
    each other so that they also share the load within a round.
    """
    return statistics.median(a / b for a, b in zip(samples[numerator], samples[denominator]))
