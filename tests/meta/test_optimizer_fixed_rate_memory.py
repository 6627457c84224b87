"""With use_meta_learning=False the rate is fixed, so AdaptiveOptimizer keeps no previous update
direction: it copied every parameter at each step and carried the copy in every state_dict."""

from __future__ import annotations

import torch

from meta.optimizer import AdaptiveOptimizer


def _train(opt: AdaptiveOptimizer, model: torch.nn.Module, steps: int) -> None:
    x, y = torch.ones(8, 4), torch.zeros(8, 1)
    for _ in range(steps):
        opt.zero_grad()
        opt.step(torch.nn.functional.mse_loss(model(x), y))


def test_a_fixed_rate_keeps_no_direction_and_a_learned_one_starts_afresh_when_switched_on() -> None:
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = AdaptiveOptimizer(model, base_optimizer="sgd", use_meta_learning=False, learning_rate=0.01, meta_learning_rate=0.5)
    _train(opt, model, 3)
    assert opt.state_dict()["prev_direction"] == [[None, None]]
    assert opt.param_groups[0]["lr"] == 0.01
    opt.use_meta_learning = True
    _train(opt, model, 1)  # no direction yet: the rate stays, the direction is kept from now on
    assert opt.param_groups[0]["lr"] == 0.01
    assert all(d is not None for d in opt.state_dict()["prev_direction"][0])
    _train(opt, model, 1)
    assert opt.param_groups[0]["lr"] > 0.01  # successive gradients agree
