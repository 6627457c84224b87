"""True/False class labels work as any other labels do: training, prediction (in the support's
label values) and evaluation; they raised NotImplementedError from torch.searchsorted."""

from __future__ import annotations

import torch
from torch import nn

from meta import FewShotLearner

SUPPORT_X = torch.tensor([[1.0], [1.2], [-1.0], [-1.2]])
QUERY_X = torch.tensor([[0.9], [-0.8], [1.1]])


def test_bool_labels_train_predict_and_evaluate() -> None:
    support_y, query_y = torch.tensor([True, True, False, False]), torch.tensor([True, False, True])
    learner = FewShotLearner("prototypical", encoder=nn.Identity())
    assert learner.predict(SUPPORT_X, support_y, QUERY_X).tolist() == [True, False, True]
    assert learner.evaluate([(SUPPORT_X, support_y, QUERY_X, query_y)])["accuracy"] == 1.0
    trained = FewShotLearner("relation", encoder=nn.Linear(1, 4))
    assert trained.train_episode(SUPPORT_X, support_y, QUERY_X, query_y)["loss"] > 0
    # a query labelled as integers against True/False support labels: 1 is True, 0 is False
    assert learner.evaluate([(SUPPORT_X, support_y, QUERY_X, query_y.long())])["accuracy"] == 1.0
