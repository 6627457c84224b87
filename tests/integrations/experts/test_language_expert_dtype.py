"""LanguageExpert.meta_train without a learner on a model that is not float32."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
import torch

from integrations.experts import LanguageExpert
from toolrouter.features import HashingFeaturizer

EXAMPLES = {f"label{i}": [f"request {i} about topic{i} number {j}" for j in range(4)] for i in range(6)}


def test_meta_train_without_a_learner_trains_a_float64_model_and_keeps_its_dtype() -> None:
    expert = LanguageExpert(HashingFeaturizer(dim=64))
    expert.model.double()
    before = {k: v.clone() for k, v in expert.model.state_dict().items()}
    expert.meta_train(EXAMPLES, episodes=3, n_way=3)
    after = expert.model.state_dict()
    assert {p.dtype for p in expert.model.parameters()} == {torch.float64}
    assert any(not torch.equal(before[k], after[k]) for k in before)  # it trained
    expert.adapt(EXAMPLES["label0"][:2] + EXAMPLES["label1"][:2], ["a", "a", "b", "b"], task="t")
    assert expert.predict([EXAMPLES["label0"][3]], task="t") == ["a"]


class _FailsWhenArmed(HashingFeaturizer):
    armed = False

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        if self.armed:
            raise RuntimeError("featurizer down")
        return super().transform(texts)


def test_a_failed_meta_train_gives_the_float64_model_back_exactly() -> None:
    featurizer = _FailsWhenArmed(dim=64)
    expert = LanguageExpert(featurizer)
    expert.model.double()
    with torch.no_grad():  # values a float32 round trip would change
        for p in expert.model.parameters():
            p.add_(1e-12)
    before = {k: v.clone() for k, v in expert.model.state_dict().items()}
    featurizer.armed = True
    with pytest.raises(RuntimeError, match="featurizer down"):
        expert.meta_train(EXAMPLES, episodes=3, n_way=3)
    after = expert.model.state_dict()
    assert all(after[k].dtype == v.dtype and torch.equal(after[k], v) for k, v in before.items())
