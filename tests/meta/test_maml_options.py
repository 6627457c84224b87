"""The MAML family's options: flags that are not bools and meta-optimisers that cannot train the
learner are refused when the learner is built, naming the option."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML, MetaSGD


@pytest.mark.parametrize("flag", ["first_order", "torch_compile"])
@pytest.mark.parametrize("bad", ["no", "false", 0, 1, None])
def test_a_flag_that_is_not_a_bool_is_named(flag: str, bad: object) -> None:
    # bool("no") and bool("false") are True: taken as they were, they switched the option on
    with pytest.raises(ValueError, match=f"{flag}: expected True or False, got {bad!r}"):
        MAML(nn.Linear(2, 1), **{flag: bad})  # type: ignore[arg-type]


def test_a_meta_optimizer_factory_must_return_an_optimizer() -> None:
    with pytest.raises(TypeError, match="meta_optimizer must return a torch.optim.Optimizer, got list"):
        MAML(nn.Linear(2, 1), meta_optimizer=lambda params: list(params))


def test_a_meta_optimizer_that_leaves_meta_parameters_out_is_refused() -> None:
    model = nn.Linear(2, 1)
    # model.parameters() instead of the factory's argument: MetaSGD's learned rates would never move
    with pytest.raises(ValueError, match="meta_optimizer returned an optimiser that leaves 2 of the 4 parameters to train out"):
        MetaSGD(model, meta_optimizer=lambda params: torch.optim.SGD(model.parameters(), lr=0.1))


def test_a_meta_optimizer_over_the_given_parameters_is_kept() -> None:
    learner = MetaSGD(nn.Linear(2, 1), meta_optimizer=lambda params: torch.optim.SGD(params, lr=0.1))
    assert isinstance(learner.meta_optimizer, torch.optim.SGD) and learner.first_order is False


def test_a_meta_optimizer_that_is_not_a_factory_is_named() -> None:
    with pytest.raises(TypeError, match="meta_optimizer must be a factory params -> torch.optim.Optimizer, got 'adam'"):
        MAML(nn.Linear(2, 1), meta_optimizer="adam")  # type: ignore[arg-type]
