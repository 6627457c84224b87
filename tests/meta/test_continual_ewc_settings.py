"""EWC's ewc_lambda and max_stiffness set after a consolidation take effect at the next step: the
penalty was cached with the old values until the next consolidation. A bad value is refused naming
it, and the strategy keeps what it had."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import ContinualLearner
from meta.continual import EWC


def _consolidated_and_moved() -> tuple[EWC, ContinualLearner]:
    torch.manual_seed(0)
    ewc = EWC(ewc_lambda=5.0)
    learner = ContinualLearner(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), strategy=ewc)
    learner.train_task((torch.randn(20, 4), torch.randint(0, 2, (20,))), 0)
    with torch.no_grad():  # away from the anchor, so that the penalty is not 0
        for p in learner.model.parameters():
            p.add_(0.1)
    return ewc, learner


def _penalty(ewc: EWC, learner: ContinualLearner) -> float:
    return float(ewc.penalty_value(learner).detach())


def test_a_new_ewc_lambda_scales_the_penalty_at_once() -> None:
    ewc, learner = _consolidated_and_moved()
    before = _penalty(ewc, learner)
    ewc.ewc_lambda = 10.0
    assert _penalty(ewc, learner) == pytest.approx(2 * before)


def test_a_new_max_stiffness_caps_the_penalty_at_once() -> None:
    ewc, learner = _consolidated_and_moved()
    before = _penalty(ewc, learner)
    ewc.max_stiffness = 1e-6
    assert _penalty(ewc, learner) < before / 100
    ewc.max_stiffness = None
    assert _penalty(ewc, learner) == pytest.approx(before)


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("ewc_lambda", -1.0, "ewc_lambda: expected a finite number >= 0, got -1.0"),
        ("ewc_lambda", "5", "ewc_lambda: expected a finite number >= 0, got '5'"),
        ("max_stiffness", 0.0, r"max_stiffness: expected a finite number > 0, got 0.0"),
    ],
)
def test_a_bad_value_set_later_is_refused_and_changes_nothing(field, value, match) -> None:
    ewc, learner = _consolidated_and_moved()
    before = (_penalty(ewc, learner), getattr(ewc, field))
    with pytest.raises(ValueError, match=match):
        setattr(ewc, field, value)
    assert (_penalty(ewc, learner), getattr(ewc, field)) == before
