"""``LanguageExpert.load`` names the LoRA rank when a file was saved by an expert of another rank:
the error named a weight of the encoder and two shapes, which said nothing of the argument to
change (``lora_rank``); the expert is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.experts import LanguageExpert
from toolrouter.errors import CorruptStateError
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_a_file_saved_with_another_lora_rank_is_refused_naming_it(tmp_path: Path) -> None:
    saved = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)
    saved.adapt({"yes": ["yes please", "sure"], "no": ["no thanks", "nope"]}, task="answer")
    saved.save(tmp_path / "e.safetensors")
    expert = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=4)
    with pytest.raises(CorruptStateError, match=r"options.lora_rank: saved by an expert with lora_rank=2, this one has lora_rank=4"):
        expert.load(tmp_path / "e.safetensors")
    assert expert.tasks == []
    LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2).load(tmp_path / "e.safetensors")  # the same rank loads
