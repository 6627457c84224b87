"""RouterBench's AIQ (average improvement in quality, Hu et al., 2024): the area under a router's
quality-against-cost curve, normalised by the width of a common cost interval.

A router swept over its cost weight gives points ``(cost, quality)``. Its curve is the
**non-decreasing upper convex hull** of those points and of ``(0, 0)`` (not answering at all): the
upper convex hull because every mixture of two operating points is reachable by flipping a biased
coin per prompt, cut at its highest-quality vertex and continued flat to the right of it (spending
more than needed is never forced). On a common interval ``[lo, hi]`` (in the benchmark: the
cheapest and the dearest single model's mean cost on test):

    AIQ = 1 / (hi - lo) * integral_lo^hi curve(c) dc

``(0, 0)`` matters only left of the router's cheapest useful point: a router that never gets as
cheap as ``lo`` is mixed with not answering there, so being expensive earns no area, and adding an
operating point never lowers the AIQ. A single point ``(c, q)`` with ``c <= lo`` has AIQ ``q``.

Example:
    >>> aiq([(1.0, 0.5), (3.0, 0.9)], lo=1.0, hi=3.0)
    0.7
    >>> round(aiq([(1.0, 0.5), (2.0, 0.5), (3.0, 0.9)], lo=1.0, hi=5.0), 6)  # flat after 3
    0.8
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["upper_hull", "aiq"]


def _points(points: Sequence[tuple[float, float]] | np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape[0] == 0:
        raise ValueError(f"points: expected a non-empty sequence of (cost, quality) pairs, got shape {p.shape}")
    if not np.all(np.isfinite(p)):
        raise ValueError("points: costs and qualities must be finite")
    if np.any(p[:, 0] < 0):
        raise ValueError(f"points: costs must be >= 0, got min {float(p[:, 0].min())!r}")
    return p


def upper_hull(points: Sequence[tuple[float, float]] | np.ndarray) -> np.ndarray:
    """Vertices ``(k, 2)`` of the non-decreasing upper convex hull of ``(cost, quality)`` points,
    by increasing cost: Andrew's monotone chain (upper part), cut at the highest quality.

    Example:
        >>> upper_hull([(0, 0), (1, 0.2), (2, 1), (3, 0.5)]).tolist()
        [[0.0, 0.0], [2.0, 1.0]]
    """
    p = _points(points)
    # by cost, and at equal cost the best quality first, so that the dominated ones are dropped
    order = np.lexsort((-p[:, 1], p[:, 0]))
    hull: list[np.ndarray] = []
    for q in p[order]:
        if hull and q[0] == hull[-1][0]:
            continue  # same cost, lower or equal quality
        # pop while the last vertex lies on or below the chord from the one before it to q
        while len(hull) >= 2:
            o, a = hull[-2], hull[-1]
            if (a[0] - o[0]) * (q[1] - o[1]) - (a[1] - o[1]) * (q[0] - o[0]) >= 0:
                hull.pop()
            else:
                break
        hull.append(q)
    h = np.array(hull)
    top = int(np.argmax(h[:, 1]))  # first vertex of highest quality: beyond it the hull falls
    return h[: top + 1]


def aiq(points: Sequence[tuple[float, float]] | np.ndarray, *, lo: float, hi: float) -> float:
    """Area under the non-decreasing upper convex hull of ``points`` over ``[lo, hi]``, divided by
    ``hi - lo`` (see the module docstring for the definition at the edges)."""
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo < hi):
        raise ValueError(f"lo, hi: need 0 <= lo < hi, both finite, got lo={lo!r}, hi={hi!r}")
    h = upper_hull(np.vstack([_points(points), [[0.0, 0.0]]]))
    xs, ys = h[:, 0], h[:, 1]
    grid = np.concatenate([[lo], xs[(xs > lo) & (xs < hi)], [hi]])
    # np.interp continues flat past the last vertex; the curve is linear between grid points, so
    # the trapezoid rule is exact
    vals = np.interp(grid, xs, ys)
    return float(np.sum((grid[1:] - grid[:-1]) * (vals[1:] + vals[:-1]) / 2.0) / (hi - lo))
