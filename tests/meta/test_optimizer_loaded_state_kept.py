"""AdaptiveOptimizer.load_state_dict takes a copy of the state it is given: the steps after it leave
that state as it was, so one snapshot can be rolled back to again, or loaded into several optimisers."""

from __future__ import annotations

import torch

from meta.optimizer import AdaptiveOptimizer


def _steps(opt: AdaptiveOptimizer, x: torch.nn.Parameter, n: int) -> list[float]:
    losses = []
    for _ in range(n):
        opt.zero_grad()
        loss = (x - torch.arange(3.0)).pow(2).sum()
        opt.step(loss)
        losses.append(loss.item())
    return losses


def test_steps_after_a_load_leave_the_loaded_state_as_it_was() -> None:
    x = torch.nn.Parameter(torch.ones(3))
    opt = AdaptiveOptimizer([x], "adam", learning_rate=0.05, meta_learning_rate=0.01)
    _steps(opt, x, 3)
    snapshot, weights = opt.state_dict(), x.detach().clone()
    saved = {key: value.clone() for key, value in snapshot["base"]["state"][0].items()}
    opt.load_state_dict(snapshot)
    first = _steps(opt, x, 4)
    for key, value in saved.items():
        assert torch.equal(snapshot["base"]["state"][0][key], value), key
    # rolled back to the same snapshot, training goes the same way again
    with torch.no_grad():
        x.copy_(weights)
    opt.load_state_dict(snapshot)
    assert _steps(opt, x, 4) == first
