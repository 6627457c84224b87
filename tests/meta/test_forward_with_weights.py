"""Predicting with adapted weights: weights that do not belong to the model are named, not used."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML
from meta.base import TaskShapeError


def _learner() -> MAML:
    torch.manual_seed(0)
    return MAML(nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1)), vectorize="loop")


def test_a_name_that_is_not_the_model_s_is_refused() -> None:
    learner = _learner()
    # a typo used to predict with the meta-learned weights, as if nothing had been adapted
    with pytest.raises(KeyError, match=r"weights names \['0.wieght'\] that are not parameters or buffers"):
        learner._forward_with_weights(torch.randn(3, 2), {"0.wieght": torch.zeros(4, 2)})


def test_a_tensor_of_another_shape_is_refused_naming_it() -> None:
    learner = _learner()
    # a bias of 3 entries broadcasts: the prediction had shape (3, 3) instead of (3, 1), without a word
    with pytest.raises(TaskShapeError, match=r"weights\['2.bias'\] has shape \(3,\) but the model's 2.bias has shape \(1,\)"):
        learner._forward_with_weights(torch.randn(3, 2), {"2.bias": torch.zeros(3)})
    with pytest.raises(TypeError, match=r"weights\['2.bias'\] must be a torch.Tensor, got float"):
        learner._forward_with_weights(torch.randn(3, 2), {"2.bias": 0.5})  # type: ignore[dict-item]


def test_inputs_of_another_dtype_are_named() -> None:
    with pytest.raises(TypeError, match="x has dtype torch.float64"):
        _learner()._forward_with_weights(torch.randn(3, 2, dtype=torch.float64), {})


def test_adapted_weights_and_buffers_of_the_model_are_used() -> None:
    learner = _learner()
    learner.model.eval()
    x = torch.randn(3, 2)
    weights = learner.adapt_to_task(torch.randn(5, 2), torch.randn(5, 1))
    weights["1.running_mean"] = torch.ones(4)
    expected = torch.func.functional_call(learner.model, weights, (x,))
    torch.testing.assert_close(learner._forward_with_weights(x, weights), expected)


def test_a_model_taking_other_inputs_than_a_tensor_still_runs() -> None:
    class Pair(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.linear = nn.Linear(2, 1)

        def forward(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
            return self.linear(inputs["a"] + inputs["b"])

    learner = MAML(Pair(), vectorize="loop")
    out = learner._forward_with_weights({"a": torch.ones(3, 2), "b": torch.ones(3, 2)}, {"linear.bias": torch.zeros(1)})  # type: ignore[arg-type]
    assert out.shape == (3, 1)
