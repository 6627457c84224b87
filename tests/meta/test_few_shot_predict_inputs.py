"""predict refuses a query that is no batch (a 0-d tensor) or labels that are no tensor naming the
field, as train_episode does: it failed with "len() of a 0-d tensor" and an AttributeError."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import FewShotLearner
from meta.base import TaskShapeError


def _learner() -> FewShotLearner:
    torch.manual_seed(0)
    return FewShotLearner("prototypical", nn.Linear(4, 8))


def test_a_0d_query_is_refused_naming_query_x() -> None:
    with pytest.raises(TaskShapeError, match="query_x must have an example dimension"):
        _learner().predict(torch.randn(2, 4), torch.tensor([0, 1]), torch.tensor(1.0))


def test_support_labels_that_are_no_tensor_are_refused_naming_support_y() -> None:
    with pytest.raises(TypeError, match="support_y must be a torch.Tensor, got list"):
        _learner().predict(torch.randn(2, 4), [0, 1], torch.randn(3, 4))


def test_a_batch_of_one_query_is_predicted() -> None:
    assert _learner().predict(torch.randn(2, 4), torch.tensor([3, 7]), torch.randn(1, 4)).shape == (1,)
