"""Learners step their optimiser once per computed gradient: an optimiser whose step needs a closure
(torch's LBFGS) is refused when it is built, naming the argument, rather than failing at the first step."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML, FewShotLearner


def _lbfgs(params):  # type: ignore[no-untyped-def]
    return torch.optim.LBFGS(params, lr=0.1)


def test_maml_refuses_lbfgs_as_its_meta_optimiser() -> None:
    with pytest.raises(ValueError, match=r"meta_optimizer returned LBFGS, whose step needs a closure"):
        MAML(nn.Linear(3, 1), meta_optimizer=_lbfgs)


def test_few_shot_learner_refuses_lbfgs_before_its_first_episode_changes_anything() -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(4, 8), optimizer=_lbfgs)
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    sx, sy = torch.randn(4, 4), torch.tensor([0, 0, 1, 1])
    with pytest.raises(ValueError, match=r"optimizer returned LBFGS, whose step needs a closure"):
        learner.train_episode(sx, sy, torch.randn(2, 4), torch.tensor([0, 1]))
    assert learner.episodes_trained == 0
    assert all(torch.equal(v, learner.state_dict()[k]) for k, v in before.items())


def test_an_optimiser_with_an_optional_closure_is_taken() -> None:
    maml = MAML(nn.Linear(3, 1), meta_optimizer=lambda ps: torch.optim.SGD(ps, lr=0.1))
    task = (torch.randn(5, 3), torch.randn(5, 1), torch.randn(5, 3), torch.randn(5, 1))
    assert maml.meta_train_step([task])["meta_loss"] >= 0
