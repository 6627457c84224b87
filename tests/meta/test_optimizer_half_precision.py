"""AdaptiveOptimizer on half-precision parameters learns the rate its float32 twin learns: the
hypergradient's sums of squares overflowed float16 (past 65504) and the rate fell to min_lr."""

from __future__ import annotations

import pytest
import torch

from meta.optimizer import AdaptiveOptimizer


def _learned_rate(dtype: torch.dtype) -> tuple[float, float]:
    start = torch.randn(4000, generator=torch.Generator().manual_seed(0)) * 20  # gradient norm^2 ~ 1.6e6
    x = torch.nn.Parameter(start.to(dtype))
    opt = AdaptiveOptimizer([x], base_optimizer="sgd", learning_rate=0.001, meta_learning_rate=0.1)
    for _ in range(4):
        opt.zero_grad()
        loss = (x.float() ** 2).sum() / 2
        loss.backward()
        opt.step(loss.item())
    return opt.param_groups[0]["lr"], opt.hypergradients[0]


def test_a_float16_parameter_learns_the_rate_of_its_float32_twin() -> None:
    rate, hypergradient = _learned_rate(torch.float16)
    twin_rate, twin_hypergradient = _learned_rate(torch.float32)
    assert twin_rate > 0.001  # successive gradients agree: the rate rises
    assert rate == pytest.approx(twin_rate, rel=2e-2)  # float16 rounds each update
    assert hypergradient == pytest.approx(twin_hypergradient, rel=5e-2)
