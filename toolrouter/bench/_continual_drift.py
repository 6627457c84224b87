"""The drift scenario: a reward model meets a new region of (features, utility) and must keep the old."""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from meta.continual import DriftAdapter

VARIANTS: dict[str, dict[str, Any]] = {
    "naive fine-tuning": {"ewc_lambda": 0.0, "buffer_size": 0},
    "EWC only": {"buffer_size": 0},
    "replay only": {"ewc_lambda": 0.0},
    "EWC + replay (default)": {},
}


def _region(centre: float, weight: torch.Tensor, n: int, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.randn(n, weight.shape[0], generator=gen) * 0.5 + centre
    return x, torch.tanh(x @ weight)


def run_drift(seed: int, batches: int = 6, batch_size: int = 64, dim: int = 8) -> dict[str, dict[str, float]]:
    """MSE on the old and the new region after adapting to ``batches`` old then ``batches`` new batches."""
    gen = torch.Generator().manual_seed(seed)
    w_old, w_new = torch.randn(dim, generator=gen), torch.randn(dim, generator=gen)
    old = [_region(-1.5, w_old, batch_size, gen) for _ in range(batches)]
    new = [_region(+1.5, w_new, batch_size, gen) for _ in range(batches)]
    old_test, new_test = _region(-1.5, w_old, 512, gen), _region(+1.5, w_new, 512, gen)
    torch.manual_seed(seed)
    base = nn.Sequential(nn.Linear(dim, 64), nn.Tanh(), nn.Linear(64, 1))
    out: dict[str, dict[str, float]] = {}
    for name, kwargs in VARIANTS.items():
        adapter = DriftAdapter(copy.deepcopy(base), seed=seed, **kwargs)
        for x, u in old:
            adapter.adapt(x, u)
        before = adapter.mse(*old_test)
        for x, u in new:
            adapter.adapt(x, u)
        out[name] = {"old_before_shift": before, "old_after_shift": adapter.mse(*old_test), "new": adapter.mse(*new_test)}
    return out
