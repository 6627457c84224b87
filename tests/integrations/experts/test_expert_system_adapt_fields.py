"""``ExpertSystem.adapt`` names the argument at fault when no expert takes what it is taught:
``modality`` when the caller gave one, else ``examples`` (whose first example sets it), not the
``input`` of ``process``, which ``adapt`` does not have."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import ExpertInputError, ExpertSystem, LanguageExpert
from toolrouter.features import HashingFeaturizer


def test_adapt_names_modality_or_examples() -> None:
    system = ExpertSystem(seed=0)
    expert = LanguageExpert(HashingFeaturizer(dim=16), lora_rank=2)
    system.add_expert("text", expert)
    with pytest.raises(ExpertInputError, match=r"^modality: no registered expert takes audio input"):
        system.adapt({"a": ["hi"]}, task="t", modality="audio")
    with pytest.raises(ExpertInputError, match=r"^examples: no registered expert takes image input"):
        system.adapt({"a": [torch.zeros(1, 28, 28)]}, task="t")
    assert expert.tasks == []
