"""AdaptiveOptimizer.load_state_dict checks the running records and the base optimiser's rates of a
state as it checks its settings: a damaged one is refused naming the field, and nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from meta.optimizer import AdaptiveOptimizer


def _trained() -> tuple[torch.nn.Linear, dict[str, Any]]:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = AdaptiveOptimizer(model, learning_rate=0.01, window=3)
    for _ in range(5):
        opt.zero_grad()
        opt.step(model(torch.randn(4, 3)).pow(2).mean())
    return model, opt.state_dict()


def _base_with(state: dict[str, Any], **group: Any) -> dict[str, Any]:
    return {**state["base"], "param_groups": [{**state["base"]["param_groups"][0], **group}]}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda s: {"step_count": -3}, r"step_count: expected an integer >= 0, got -3"),
        (lambda s: {"step_count": "5"}, r"step_count: expected an integer >= 0, got '5'"),
        (lambda s: {"lr_history": 5}, r"lr_history: expected the rates of at most the 5 steps taken, got int"),
        (lambda s: {"lr_history": s["lr_history"] * 2}, r"lr_history: expected the rates of at most the 5 steps taken, got 10"),
        (lambda s: {"hypergradients": []}, r"hypergradients: 0 for this optimiser's 1 parameter groups"),
        (lambda s: {"losses": [float("nan")] * 3}, r"losses\[0\]: expected a finite number, got nan"),
        (lambda s: {"converged": "yes"}, r"converged: expected True or False, got 'yes'"),
        (lambda s: {"converged_at_step": 4}, r"converged_at_step: 4 does not go with converged=False"),
        (lambda s: {"best_window_mean": "a"}, r"best_window_mean: expected a finite number, got 'a'"),
        (lambda s: {"quiet_windows": -1}, r"quiet_windows: expected an integer >= 0, got -1"),
        (lambda s: {"base": _base_with(s, lr=-1.0)}, r"base.param_groups\[0\]\['lr'\]: expected a finite number >= 0, got -1.0"),
        (lambda s: {"base": _base_with(s, lr=float("nan"))}, r"base.param_groups\[0\]\['lr'\]: .*got nan"),
        (lambda s: {"base": {**s["base"], "state": {7: s["base"]["state"][0]}}}, r"base.state: an entry for parameter 7, this optimiser has 2"),
    ],
)
def test_a_damaged_record_is_refused_and_changes_nothing(change: Any, match: str) -> None:
    model, state = _trained()
    opt = AdaptiveOptimizer(model, learning_rate=0.01, window=3)
    with pytest.raises(ValueError, match=match):
        opt.load_state_dict({**state, **change(state)})
    assert opt.step_count == 0 and not opt.optimizer.state and opt.param_groups[0]["lr"] == 0.01
    opt.load_state_dict(state)  # the undamaged state still loads
    assert opt.step_count == 5
