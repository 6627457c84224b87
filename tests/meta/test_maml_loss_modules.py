"""torch's loss modules are checked as the loss functions they stand for: targets that would
broadcast against the predictions, and class labels the model does not score, are named."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML
from meta.base import TaskShapeError


@pytest.mark.parametrize("loss", [nn.MSELoss(), nn.L1Loss(), nn.MSELoss(reduction="sum")])
@pytest.mark.parametrize("vectorize", ["loop", "vmap"])
def test_regression_targets_shaped_unlike_the_predictions_are_refused(loss: nn.Module, vectorize: str) -> None:
    learner = MAML(nn.Linear(2, 1), loss_fn=loss, vectorize=vectorize)  # type: ignore[arg-type]
    before = [p.detach().clone() for p in learner.parameters()]
    # targets (5,) against predictions (5, 1): a (5, 5) loss, with nothing but torch's warning
    task = (torch.randn(5, 2), torch.randn(5), torch.randn(5, 2), torch.randn(5))
    with pytest.raises(TaskShapeError, match=rf"shape \(5,\) per task but the model predicts shape \(5, 1\): loss_fn={type(loss).__name__}"):
        learner.meta_train_step([task])
    assert all(torch.equal(a, b) for a, b in zip(before, learner.parameters()))


def test_class_labels_beyond_the_scores_are_named_and_the_module_s_ignore_index_passes() -> None:
    learner = MAML(nn.Linear(2, 3), loss_fn=nn.CrossEntropyLoss(ignore_index=-1), vectorize="loop")
    assert learner.classification
    bad = (torch.randn(4, 2), torch.tensor([0, 1, 2, 5]), torch.randn(4, 2), torch.tensor([0, 1, 2, 1]))
    with pytest.raises(TaskShapeError, match="support_y holds class label 5 but the model scores 3 classes"):
        learner.meta_train_step([bad])
    ignored = (torch.randn(4, 2), torch.tensor([0, 1, 2, -1]), torch.randn(4, 2), torch.tensor([0, -1, -1, -1]))
    metrics = learner.meta_train_step([ignored])
    # one query position counts: its accuracy is 0 or 1, never a share of the ignored ones
    assert metrics["query_accuracy"] in (0.0, 1.0)
