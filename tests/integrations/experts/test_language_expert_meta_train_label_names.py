"""``LanguageExpert.meta_train`` without a learner refuses two labels with the same name (the int 1
and the string "1"): the selector knows labels by name and trained them as one label, mixing their
texts. The learners keep them apart."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import ExpertInputError, LanguageExpert
from toolrouter.features import HashingFeaturizer


def test_labels_with_the_same_name_are_refused_before_training() -> None:
    expert = LanguageExpert(HashingFeaturizer(dim=32), lora_rank=2)
    before = {k: v.clone() for k, v in expert.model.state_dict().items()}
    data = {1: ["book a flight", "flight to Rome"], "1": ["play jazz", "play a song"], 2: ["rain today", "forecast"]}
    with pytest.raises(ExpertInputError, match="examples: labels 1 and '1' have the same name"):
        expert.meta_train(data, episodes=1, n_way=2)
    assert all(torch.equal(before[k], v) for k, v in expert.model.state_dict().items())


def test_a_learner_trains_them_as_two_labels() -> None:
    from meta import FewShotLearner

    expert = LanguageExpert(HashingFeaturizer(dim=32), lora_rank=2)
    expert.add_meta_learning(FewShotLearner("prototypical", encoder=expert.model))
    data = {1: ["book a flight", "flight to Rome"], "1": ["play jazz", "play a song"], 2: ["rain today", "forecast"]}
    assert "loss" in expert.meta_train(data, episodes=1, n_way=3)
