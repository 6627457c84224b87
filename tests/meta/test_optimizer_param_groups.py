"""AdaptiveOptimizer's parameter groups and settings: every group's rate is checked against the
bounds, and a setting that is not what it claims to be is refused naming the field."""

from __future__ import annotations

import pytest
import torch

from meta.optimizer import AdaptiveOptimizer


def test_a_group_rate_outside_the_bounds_is_refused_naming_the_group() -> None:
    model = torch.nn.Linear(2, 1)
    groups = [{"params": [model.weight]}, {"params": [model.bias], "lr": 5.0}]
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['lr'\]: expected a finite number in \[1e-07, 1.0\], got 5.0"):
        AdaptiveOptimizer(groups, base_optimizer="sgd", learning_rate=0.1, max_lr=1.0)
    opt = AdaptiveOptimizer(groups[:1] + [{"params": [model.bias], "lr": 0.5}], base_optimizer="sgd", learning_rate=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]


@pytest.mark.parametrize(
    ("settings", "match"),
    [
        ({"min_lr": "a"}, r"min_lr: expected a finite number > 0, got 'a'"),
        ({"max_lr": "1"}, r"max_lr: expected a finite number >= 1e-07, got '1'"),
        ({"use_meta_learning": "no"}, r"use_meta_learning: expected True or False, got 'no'"),
        ({"use_meta_learning": 0}, r"use_meta_learning: expected True or False, got 0"),
    ],
)
def test_settings_of_the_wrong_type_name_the_field(settings: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        AdaptiveOptimizer(torch.nn.Linear(2, 1), **settings)
