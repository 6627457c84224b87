"""Models and small statistics shared by the parts of the ``meta`` benchmark suite."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import torch
from torch import nn

from meta.backbones import conv4

__all__ = ["conv4", "mean_ci95", "path_options", "sinusoid_mlp", "train_for"]


def sinusoid_mlp(hidden: int = 40, init: str = "torch") -> nn.Module:
    """The MAML paper's regressor: 1-40-40-1 with ReLU.

    ``init="torch"`` keeps PyTorch's default initialisation; ``"maml"`` is the MAML paper's code:
    weights from a normal with sd 0.01 truncated at two sd, biases zero.
    """
    model = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
    if init == "maml":
        for layer in model:
            if isinstance(layer, nn.Linear):
                nn.init.trunc_normal_(layer.weight, std=0.01, a=-0.02, b=0.02)
                nn.init.zeros_(layer.bias)
    elif init != "torch":
        raise ValueError(f"init: expected 'torch' or 'maml', got {init!r}")
    return model


def path_options(path: str) -> dict[str, object]:
    """``MAML`` keyword arguments for a benchmark path name: ``loop``, ``vmap``, ``auto`` or
    ``vmap+compile`` (the vmap path with ``torch_compile=True``)."""
    if path == "vmap+compile":
        return {"vectorize": "vmap", "torch_compile": True}
    return {"vectorize": path}


def mean_ci95(values: torch.Tensor) -> tuple[float, float]:
    """Mean and the half-width of its normal 95% interval."""
    v = values.double().flatten()
    half = 1.96 * float(v.std()) / math.sqrt(len(v)) if len(v) > 1 else float("nan")
    return float(v.mean()), half


def train_for(step: Callable[[int], dict], seconds: float, max_steps: int | None = None, log_every_s: float = 60.0, label: str = "") -> tuple[int, float]:
    """Call ``step(i)`` until ``seconds`` of wall time (or ``max_steps``) pass; returns (steps, seconds)."""
    t0 = time.perf_counter()
    next_log = t0 + log_every_s
    i = 0
    while True:
        now = time.perf_counter()
        if now - t0 >= seconds or (max_steps is not None and i >= max_steps):
            break
        metrics = step(i)
        i += 1
        if now >= next_log:
            shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}
            print(f"  [{label}] step {i} t={now - t0:.0f}s {shown}", flush=True)
            next_log = now + log_every_s
    return i, time.perf_counter() - t0
