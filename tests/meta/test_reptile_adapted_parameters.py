"""Reptile moves only the parameters its inner loop adapts: a trainable parameter left out of
adapt_parameters would never be trained, so it is refused."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import Reptile


def test_a_trainable_parameter_that_is_not_adapted_is_refused_naming_it() -> None:
    with pytest.raises(ValueError, match=r"adapt_parameters: .*\['weight'\] require grad and are not adapted"):
        Reptile(nn.Linear(2, 1), adapt_parameters=["bias"])


def test_a_frozen_parameter_left_out_is_fine_and_stays_as_it_was() -> None:
    torch.manual_seed(0)
    model = nn.Linear(2, 1)
    model.weight.requires_grad_(False)
    learner = Reptile(model, adapt_parameters=["bias"], vectorize="loop")
    weight, bias = model.weight.clone(), model.bias.clone()
    task = (torch.randn(5, 2), torch.randn(5, 1), torch.randn(5, 2), torch.randn(5, 1))
    learner.meta_train_step([task, task])
    assert torch.equal(model.weight, weight) and not torch.equal(model.bias, bias)
