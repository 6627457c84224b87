"""A torch scheduler on AdaptiveOptimizer.optimizer scales the learned rates, and a checkpoint
taken after a scheduler step (its rate may lie below min_lr) resumes exactly."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch

from meta.optimizer import AdaptiveOptimizer


def _run(model, opt, scheduler, steps: int) -> list[tuple[float, float]]:
    x = torch.linspace(-1, 1, 24).reshape(8, 3)
    rates = []
    for _ in range(steps):
        opt.zero_grad()
        opt.step(torch.nn.functional.mse_loss(model(x), x.sum(dim=1, keepdim=True)))
        learned = opt.param_groups[0]["lr"]
        scheduler.step()
        rates.append((learned, opt.param_groups[0]["lr"]))
    return rates


def _built(model):
    opt = AdaptiveOptimizer(model, base_optimizer="sgd", learning_rate=0.05, meta_learning_rate=0.1, min_lr=0.01)
    return opt, torch.optim.lr_scheduler.StepLR(opt.optimizer, step_size=3, gamma=0.1)


def test_a_scheduler_on_the_base_optimizer_scales_the_learned_rates_and_resumes() -> None:
    with pytest.raises(TypeError, match="not an Optimizer"):  # what the docstring sends users around
        torch.optim.lr_scheduler.StepLR(_built(torch.nn.Linear(3, 1))[0], step_size=3)
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt, scheduler = _built(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "scheduler stepped before the optimizer" warning
        rates = _run(model, opt, scheduler, 3)
    learned, scheduled = zip(*rates)
    assert learned[0] == 0.05 != learned[1] != learned[2]  # learned from the second step on
    assert scheduled[:2] == learned[:2] and scheduled[2] == pytest.approx(learned[2] * 0.1)
    assert scheduled[2] < opt.min_lr  # where a checkpoint was refused

    saved_model, saved_opt, saved_scheduler = copy.deepcopy(model.state_dict()), opt.state_dict(), scheduler.state_dict()
    expected = _run(model, opt, scheduler, 4)
    resumed = torch.nn.Linear(3, 1)
    resumed.load_state_dict(saved_model)
    opt2, scheduler2 = _built(resumed)
    opt2.load_state_dict(saved_opt)
    scheduler2.load_state_dict(saved_scheduler)
    assert _run(resumed, opt2, scheduler2, 4) == expected
    assert torch.equal(resumed.weight, model.weight)
