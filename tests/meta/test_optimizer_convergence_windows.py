"""AdaptiveOptimizer judges convergence on whole windows of the losses it is given, not of steps: with
a loss given every other step and an even window, the step count at a loss never fell on a window's
end, and a loss that had stopped changing was never declared converged. A state saved before the
losses were counted loads and goes on as it did."""

from __future__ import annotations

import torch

from meta.optimizer import AdaptiveOptimizer


def _train(opt: AdaptiveOptimizer, x: torch.nn.Parameter, steps: int, every: int) -> None:
    for i in range(steps):
        opt.zero_grad()
        loss = (x - 1).pow(2).sum()
        loss.backward()
        opt.step(loss.item() if i % every == 0 else None)


def _optimizer() -> tuple[AdaptiveOptimizer, torch.nn.Parameter]:
    x = torch.nn.Parameter(torch.zeros(1))
    opt = AdaptiveOptimizer([x], "sgd", learning_rate=0.1, window=4, convergence_patience=2, plateau_patience=1000)
    return opt, x


def test_a_loss_every_other_step_is_judged_in_windows_of_losses() -> None:
    opt, x = _optimizer()
    _train(opt, x, 200, every=2)
    stats = opt.get_optimization_stats()
    assert stats["converged"] and stats["converged_at_step"] % 2 == 1


def test_a_state_saved_before_losses_were_counted_goes_on_as_it_did() -> None:
    opt, x = _optimizer()
    _train(opt, x, 30, every=1)
    state = opt.state_dict()
    assert state["losses_seen"] == 30
    del state["losses_seen"]
    resumed, y = _optimizer()
    with torch.no_grad():
        y.copy_(x)
    resumed.load_state_dict(state)
    _train(opt, x, 100, every=1)
    _train(resumed, y, 100, every=1)
    assert resumed.get_optimization_stats() == opt.get_optimization_stats()
    assert opt.get_optimization_stats()["converged_at_step"] == 80  # a loss every step: windows as before


def test_a_count_of_losses_the_state_cannot_have_seen_is_refused() -> None:
    opt, x = _optimizer()
    _train(opt, x, 6, every=1)
    state = opt.state_dict()
    for bad in (7, 3, "6"):
        try:
            opt.load_state_dict({**state, "losses_seen": bad})
        except ValueError as exc:
            assert str(exc).startswith("losses_seen: expected an integer in [6, 6]")
        else:
            raise AssertionError(f"losses_seen={bad!r} was taken")
    assert opt.state_dict()["losses_seen"] == 6
