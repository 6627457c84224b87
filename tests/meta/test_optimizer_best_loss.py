"""AdaptiveOptimizer's best_loss is the lowest loss ever passed to step, not the lowest of the losses
its bounded window still keeps; it travels in the state_dict, and a state saved without it loads."""

from __future__ import annotations

import pytest
import torch

from meta.checkpoint import load_state, save_state
from meta.optimizer import AdaptiveOptimizer


def _trained(losses: list[float]) -> tuple[AdaptiveOptimizer, torch.nn.Parameter]:
    x = torch.nn.Parameter(torch.ones(2))
    opt = AdaptiveOptimizer([x], base_optimizer="sgd", learning_rate=0.01, window=2)  # keeps 20 losses
    for loss in losses:
        opt.zero_grad()
        x.sum().backward()
        opt.step(loss)
    return opt, x


def test_best_loss_is_the_best_ever_and_survives_a_state_dict(tmp_path) -> None:
    opt, x = _trained([0.5] + [1.0 + i for i in range(30)])
    assert len(opt.losses) == 20 and 0.5 not in opt.losses
    assert opt.get_optimization_stats()["best_loss"] == 0.5
    path = tmp_path / "opt.safetensors"
    save_state(path, "AdaptiveOptimizer", opt.state_dict())
    resumed = AdaptiveOptimizer([x], base_optimizer="sgd", learning_rate=0.01, window=2)
    resumed.load_state_dict(load_state(path, "AdaptiveOptimizer"))
    assert resumed.get_optimization_stats() == opt.get_optimization_stats()


def test_a_state_saved_without_best_loss_takes_the_best_kept_loss() -> None:
    opt, x = _trained([3.0, 2.0, 4.0])
    state = opt.state_dict()
    del state["best_loss"]
    resumed = AdaptiveOptimizer([x], base_optimizer="sgd", learning_rate=0.01, window=2)
    resumed.load_state_dict(state)
    assert resumed.get_optimization_stats()["best_loss"] == 2.0
    assert AdaptiveOptimizer([x], base_optimizer="sgd").get_optimization_stats()["best_loss"] is None


@pytest.mark.parametrize("bad", [float("nan"), "low", 2.5])
def test_a_damaged_best_loss_is_refused_and_changes_nothing(bad) -> None:
    opt, x = _trained([3.0, 2.0, 4.0])
    state = opt.state_dict()
    state["best_loss"] = bad
    fresh = AdaptiveOptimizer([x], base_optimizer="sgd", learning_rate=0.01, window=2)
    before = fresh.get_optimization_stats()
    with pytest.raises(ValueError, match="best_loss"):
        fresh.load_state_dict(state)
    assert fresh.get_optimization_stats() == before
