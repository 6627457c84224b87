"""A NaN class label (a missing value in a float label column) is refused by name, not taken for
a class of its own that predict would return."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import FewShotLearner

X = torch.randn(4, 3)
LABELS = torch.tensor([0.0, 0.0, 1.0, 1.0])
NAN = torch.tensor([0.0, 0.0, 1.0, float("nan")])


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ("train support", "support_y"),
        ("train query", "query_y"),
        ("predict", "support_y"),
        ("evaluate", "support_y"),
    ],
)
def test_a_nan_label_is_refused_by_name(call: str, field: str) -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(3, 4))
    before = {k: v.clone() for k, v in learner.state_dict().items()}
    run = {
        "train support": lambda: learner.train_episode(X, NAN, X, LABELS),
        "train query": lambda: learner.train_episode(X, LABELS, X, NAN),
        "predict": lambda: learner.predict(X, NAN, X),
        "evaluate": lambda: learner.evaluate([(X, NAN, X, LABELS)]),
    }[call]
    with pytest.raises(ValueError, match=rf"{field} holds NaN labels \(at \[3\]\)"):
        run()
    assert learner.episodes_trained == 0
    assert all(torch.equal(v, learner.state_dict()[k]) for k, v in before.items())


def test_float_labels_without_nan_still_train_and_predict() -> None:
    learner = FewShotLearner("prototypical", encoder=nn.Linear(3, 4))
    learner.train_episode(X, LABELS, X, LABELS)
    assert set(learner.predict(X, LABELS, X).tolist()) <= {0.0, 1.0}
