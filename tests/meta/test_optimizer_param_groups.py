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


def _train(opt: AdaptiveOptimizer, params: list[torch.Tensor], steps: int) -> None:
    for _ in range(steps):
        opt.zero_grad()
        opt.step(sum((p - 1.0).pow(2).sum() for p in params))


@pytest.mark.parametrize("on_base", [False, True])
def test_a_group_added_mid_training_has_its_rate_learned_and_is_saved(on_base: bool) -> None:
    first, later = torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2))
    opt = AdaptiveOptimizer([first], base_optimizer="sgd", learning_rate=0.01, meta_learning_rate=0.1)
    _train(opt, [first], 3)
    (opt.optimizer if on_base else opt).add_param_group({"params": [later], "lr": 0.02})
    _train(opt, [first, later], 10)
    # successive steps on (p - 1)^2 agree, so both rates grow
    assert opt.param_groups[1]["lr"] > 0.02 and opt.param_groups[0]["lr"] > 0.01
    state = opt.state_dict()
    assert [len(g) for g in state["prev_direction"]] == [1, 1] and len(state["hypergradients"]) == 2
    resumed = AdaptiveOptimizer([first], base_optimizer="sgd", learning_rate=0.01, meta_learning_rate=0.1)
    resumed.add_param_group({"params": [later], "lr": 0.02})
    resumed.load_state_dict(state)
    assert [g["lr"] for g in resumed.param_groups] == [g["lr"] for g in opt.param_groups]


def test_a_refused_group_is_not_added() -> None:
    first, later = torch.nn.Parameter(torch.zeros(3)), torch.nn.Parameter(torch.zeros(2))
    opt = AdaptiveOptimizer([first], base_optimizer="sgd", learning_rate=0.01)
    with pytest.raises(ValueError, match=r"param_groups\[1\]\['lr'\]: expected a finite number in .*got 3.0"):
        opt.add_param_group({"params": [later], "lr": 3.0})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": [later]})  # the constructor's rate
    assert opt.param_groups[1]["lr"] == 0.01


def test_lr_among_the_base_optimiser_options_points_to_learning_rate() -> None:
    # passed on, torch said only "got multiple values for keyword argument 'lr'"
    with pytest.raises(TypeError, match=r"lr: the initial rate is learning_rate=\.\.\., got lr=0.1"):
        AdaptiveOptimizer(torch.nn.Linear(2, 1), lr=0.1)
