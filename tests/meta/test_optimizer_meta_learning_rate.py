"""``AdaptiveOptimizer`` takes ``meta_learning_rate`` in [0, 1): at 1 or more, any step against the
previous one set the rate to ``1 - beta`` times itself, 0 or below, clamped to ``min_lr``. A saved
state that holds such a value (made before it was refused) still loads as it was saved."""

from __future__ import annotations

import pytest
import torch

from meta.checkpoint import load_state, save_state
from meta.optimizer import AdaptiveOptimizer


def make(**options):
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    return model, AdaptiveOptimizer(model, base_optimizer="sgd", learning_rate=0.1, **options)


@pytest.mark.parametrize("rate", [1, 1.0, 2.5])
def test_a_meta_learning_rate_of_one_or_more_is_refused_naming_it(rate) -> None:
    with pytest.raises(ValueError, match=rf"^meta_learning_rate: expected a finite number in \[0, 1\), got {rate!r}$"):
        make(meta_learning_rate=rate)


def test_a_step_against_the_last_shrinks_the_rate_by_at_most_beta() -> None:
    model, opt = make(meta_learning_rate=0.9, min_lr=1e-6)
    for sign in (1.0, -1.0):  # the second gradient points against the first update
        opt.zero_grad()
        (sign * model.weight.sum()).backward()
        opt.step(1.0)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * (1 - 0.9), rel=1e-6)


def test_a_saved_state_holding_a_meta_learning_rate_of_one_or_more_still_loads(tmp_path) -> None:
    _, saved = make(meta_learning_rate=0.5)
    state = saved.state_dict()
    state["settings"]["meta_learning_rate"] = 1.5  # as an optimiser made before it was refused saved it
    save_state(tmp_path / "opt.safetensors", "AdaptiveOptimizer", state)
    _, loaded = make()
    loaded.load_state_dict(load_state(tmp_path / "opt.safetensors", "AdaptiveOptimizer"))
    assert loaded.meta_learning_rate == 1.5
    assert loaded.state_dict()["settings"] == state["settings"]
