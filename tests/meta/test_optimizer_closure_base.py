"""AdaptiveOptimizer.step(closure) hands the closure on to the base optimiser: LBFGS, which needs one
and evaluates it several times, steps exactly as torch's own LBFGS does; others evaluate it once."""

from __future__ import annotations

import pytest
import torch

from meta.optimizer import AdaptiveOptimizer


def _problem() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return torch.randn(16, 3, generator=g), torch.randn(16, generator=g)


def test_lbfgs_steps_as_torch_lbfgs_does() -> None:
    a, b = _problem()
    ours, theirs = torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(3))
    opt = AdaptiveOptimizer([ours], base_optimizer=torch.optim.LBFGS, use_meta_learning=False, learning_rate=1.0, max_iter=5)
    reference = torch.optim.LBFGS([theirs], lr=1.0, max_iter=5)
    calls = {"ours": 0, "theirs": 0}

    def closure_of(x: torch.Tensor, o, name: str):
        def closure() -> torch.Tensor:
            calls[name] += 1
            o.zero_grad()
            loss = ((a @ x - b) ** 2).mean()
            loss.backward()
            return loss

        return closure

    for _ in range(2):
        returned = opt.step(closure_of(ours, opt, "ours"))
        expected = reference.step(closure_of(theirs, reference, "theirs"))
        assert returned.item() == pytest.approx(expected.item())
    torch.testing.assert_close(ours.detach(), theirs.detach())
    assert calls["ours"] == calls["theirs"] > 2  # LBFGS re-evaluated it, and the first call was not repeated
    assert opt.step_count == 2 and opt.get_optimization_stats()["last_loss"] == pytest.approx(expected.item())


@pytest.mark.parametrize("base", ["sgd", "adam"])
def test_an_optimiser_that_evaluates_the_closure_once_gets_it_called_once(base: str) -> None:
    a, b = _problem()
    x = torch.nn.Parameter(torch.zeros(3))
    opt = AdaptiveOptimizer([x], base_optimizer=base, learning_rate=0.01)
    calls = []

    def closure() -> torch.Tensor:
        calls.append(1)
        opt.zero_grad()
        return ((a @ x - b) ** 2).mean()

    for _ in range(3):
        opt.step(closure)
    assert len(calls) == 3
