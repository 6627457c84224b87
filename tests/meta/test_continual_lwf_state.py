"""LwF.load_state_dict takes only distinct class labels as the classes it distils, and only a
teacher whose weights fit the model."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import ContinualLearner
from meta.continual import LwF


@pytest.mark.parametrize(
    ("old_classes", "match"),
    [
        ([0, -1], r"lwf: old_classes\[1\]: expected an integer >= 0, got -1"),
        ([0, 1.5], r"lwf: old_classes\[1\]: expected an integer >= 0, got 1.5"),
        ([1, 1], r"lwf: old_classes repeat, got \[1, 1\]"),
        ("01", r"lwf: old_classes must be a list of class labels, got str"),
    ],
)
def test_old_classes_that_are_not_class_labels_are_refused(old_classes: object, match: str) -> None:
    torch.manual_seed(0)
    lwf = LwF()
    learner = ContinualLearner(nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4)), strategy=lwf)
    learner.train_task((torch.randn(8, 3), torch.randint(0, 2, (8,))), 0)
    kept = lwf.state_dict()
    with pytest.raises(ValueError, match=match):
        lwf.load_state_dict({**kept, "old_classes": old_classes}, learner)
    assert lwf.old_classes == [0, 1]


@pytest.mark.parametrize(
    ("teacher", "match"),
    [
        (5, r"^lwf: teacher must map parameter names to tensors, got int$"),
        ({"0.weight": 3}, r"^lwf: teacher\['0.weight'\]: expected a tensor, got int 3$"),
        ({"0.weight": torch.zeros(8, 3)}, r"^lwf: teacher does not fit the model: .*Missing key"),
    ],
)
def test_a_teacher_that_does_not_fit_is_refused_naming_it(teacher: object, match: str) -> None:
    # torch's own errors named neither the strategy nor the field (a TypeError, a RuntimeError)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4))
    lwf = LwF()
    learner = ContinualLearner(model, strategy=lwf)
    with pytest.raises(ValueError, match=match):
        lwf.load_state_dict({"teacher": teacher, "old_classes": [0]}, learner)
    assert lwf.teacher is None and lwf.old_classes == []
