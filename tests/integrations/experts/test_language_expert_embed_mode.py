"""Serving or learning a task leaves a LanguageExpert's model in the mode it was found in."""

from __future__ import annotations

from integrations.experts import LanguageExpert
from toolrouter.features import HashingFeaturizer


def test_embedding_restores_the_models_mode():
    expert = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)
    expert.model.train()
    expert.adapt({"greet": ["hi there"], "leave": ["bye now"]}, task="chat")
    assert expert.model.training
    assert expert.predict(["hi there again"], task="chat") == ["greet"]
    assert expert.model.training
    expert.model.eval()
    expert.predict(["hi there again"], task="chat")
    assert not expert.model.training
