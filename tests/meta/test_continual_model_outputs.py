"""A model whose forward returns no tensor (a tuple, as many wrappers do) is refused naming the model
and what it returned, before anything changes: it failed with "'tuple' object has no attribute 'dim'"."""

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
