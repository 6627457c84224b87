"""A model whose forward returns no tensor (a tuple, as many wrappers do) is refused naming the model
(or the encoder) and what it returned, before anything changes: the learners failed deep inside with
"'tuple' object has no attribute 'dim'" ('reshape', 'shape', 'flatten')."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import ContinualLearner


class TupleOutput(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.linear(x),)


def test_a_model_returning_a_tuple_is_refused_naming_the_model() -> None:
    learner = ContinualLearner(TupleOutput(), strategy="naive")
    with pytest.raises(ValueError, match=r"model: expected logits of shape \(n, classes\), got a tuple"):
        learner.train_task((torch.randn(6, 4), torch.arange(6) % 3), task_id=0)
    with pytest.raises(ValueError, match=r"got a tuple"):
        learner.predict(torch.randn(2, 4))
    assert learner.trained_tasks == []


def test_a_drift_model_returning_a_tuple_is_refused_naming_the_model() -> None:
    from meta import DriftAdapter

    adapter = DriftAdapter(TupleOutput(), steps=1)
    with pytest.raises(ValueError, match=r"model: expected utilities as a tensor, got a tuple"):
        adapter.adapt(torch.randn(6, 4), torch.randn(6, 3))
    assert adapter.batches_seen == 0


def test_a_maml_model_returning_a_tuple_is_refused_naming_the_model() -> None:
    from meta import MAML

    learner = MAML(TupleOutput(), loss_fn="mse")
    before = learner.model.linear.weight.detach().clone()
    task = (torch.randn(4, 4), torch.randn(4, 3), torch.randn(4, 4), torch.randn(4, 3))
    with pytest.raises(TypeError, match=r"model: returned a tuple"):
        learner.meta_train_step([task, task])
    assert torch.equal(learner.model.linear.weight, before) and learner.meta_step_count == 0


def test_a_few_shot_encoder_returning_a_tuple_is_refused_naming_it() -> None:
    from meta import FewShotLearner

    learner = FewShotLearner("prototypical", TupleOutput())
    with pytest.raises(TypeError, match=r"encoder: returned a tuple"):
        learner.train_episode(torch.randn(4, 4), torch.tensor([0, 0, 1, 1]), torch.randn(2, 4), torch.tensor([0, 1]))


def test_a_maml_loss_of_ones_own_may_take_a_models_tuple() -> None:
    from meta import MAML

    learner = MAML(TupleOutput(), loss_fn=lambda out, y: torch.nn.functional.mse_loss(out[0], y))
    task = (torch.randn(4, 4), torch.randn(4, 3), torch.randn(4, 4), torch.randn(4, 3))
    assert learner.meta_train_step([task, task])["meta_loss"] >= 0
