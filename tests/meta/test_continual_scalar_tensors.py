"""A 0-d tensor where a batch is expected (one sample given without its batch dimension, a scalar
label or utility) is refused naming the field, and nothing changes: it failed with a bare
IndexError, "tuple index out of range"."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import ContinualLearner, DriftAdapter


def _learner() -> ContinualLearner:
    torch.manual_seed(0)
    return ContinualLearner(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3)), strategy="naive")


@pytest.mark.parametrize(
    ("data", "field"),
    [((torch.tensor(1.0), torch.tensor(0)), "x"), ((torch.randn(1, 4), torch.tensor(1)), "y")],
)
def test_task_data_of_0d_tensors_is_refused_naming_them(data, field) -> None:
    learner = _learner()
    before = {k: v.clone() for k, v in learner.model.state_dict().items()}
    with pytest.raises(ValueError, match=rf"task_data: {field} is a 0-d tensor"):
        learner.train_task(data, 0)
    with pytest.raises(ValueError, match=rf"test_data\[0\]: {field} is a 0-d tensor"):
        learner.evaluate_all_tasks([data], include_untrained=True)
    assert learner.trained_tasks == [] and all(torch.equal(v, before[k]) for k, v in learner.model.state_dict().items())


def test_predict_refuses_a_0d_input_naming_it() -> None:
    with pytest.raises(ValueError, match="x: a 0-d tensor"):
        _learner().predict(torch.tensor(1.0))


def test_drift_adapter_refuses_a_0d_utility_naming_it_and_changes_nothing() -> None:
    torch.manual_seed(0)
    adapter = DriftAdapter(nn.Linear(3, 1), steps=2)
    before = [p.detach().clone() for p in adapter.model.parameters()]
    with pytest.raises(ValueError, match="utility: a 0-d tensor"):
        adapter.adapt(torch.randn(1, 3), torch.tensor(0.5))  # one observation, its utility a scalar
    with pytest.raises(ValueError, match="features: a 0-d tensor"):
        adapter.mse(torch.tensor(1.0), torch.tensor(0.5))
    assert adapter.batches_seen == 0 and len(adapter.replay) == 0
    assert all(torch.equal(p, q) for p, q in zip(adapter.model.parameters(), before))
    assert adapter.adapt(torch.randn(1, 3), torch.tensor([0.5]))["batches_seen"] == 1.0  # as a batch of one


def test_drift_adapter_predict_refuses_a_0d_input_naming_it() -> None:
    # the model's own error named neither: "both arguments to linear need to be at least 1D"
    with pytest.raises(ValueError, match="features: a 0-d tensor"):
        DriftAdapter(nn.Linear(3, 1)).predict(torch.tensor(1.0))
