"""``LanguageExpert.meta_train`` refuses episodes of one label on every path: their loss is 0, so a
learner trained nothing and reported success (a loss of 0, an accuracy of 1), where the selector
refused them, naming ``n_way`` or ``examples``."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import ExpertInputError, LanguageExpert
from meta import MAML, FewShotLearner
from toolrouter.features import HashingFeaturizer

EXAMPLES = {"flights": ["book a flight", "flight to Rome"], "music": ["play jazz", "play a song"]}


def _expert(learner: str | None) -> LanguageExpert:
    expert = LanguageExpert(HashingFeaturizer(dim=32), lora_rank=2)
    if learner == "MAML":
        expert.add_meta_learning(MAML(expert.model, vectorize="loop"))
    elif learner == "FewShotLearner":
        expert.add_meta_learning(FewShotLearner("prototypical", encoder=expert.model))
    return expert


@pytest.mark.parametrize("learner", [None, "MAML", "FewShotLearner"])
@pytest.mark.parametrize(("examples", "options", "message"), [
    (EXAMPLES, {"n_way": 1}, "n_way: expected an integer >= 2, got 1"),
    ({"flights": EXAMPLES["flights"]}, {}, r"examples: meta-training needs at least 2 labels, got 1 \(\['flights'\]\)"),
])
def test_one_label_episodes_are_refused_before_training(learner, examples, options, message) -> None:
    expert = _expert(learner)
    before = {k: v.clone() for k, v in expert.model.state_dict().items()}
    with pytest.raises(ValueError, match=message):
        expert.meta_train(examples, episodes=1, k_shot=1, queries=1, **options)
    assert all(torch.equal(before[k], v) for k, v in expert.model.state_dict().items())


def test_the_missing_label_is_an_expert_input_error() -> None:
    with pytest.raises(ExpertInputError):
        _expert("MAML").meta_train({"flights": EXAMPLES["flights"]}, episodes=1)
