"""``LanguageExpert.load`` refuses a file saved with another featurizer of the same kind and size
(another hashing seed or n-grams, another sentence encoder): its tasks' prototypes live in the
saved featurizer's space, and scored in another one they answered at random. Files saved before
the expert kept its featurizer's probe load as they did."""

from __future__ import annotations

from pathlib import Path

import pytest

from integrations.experts import LanguageExpert
from toolrouter.errors import CorruptStateError
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

INTENTS = {
    "weather": ["will it rain in Paris tomorrow", "forecast for Oslo this weekend", "is it sunny in Rome"],
    "maps": ["route to the airport", "directions to Berlin central station", "how do I drive to Lyon"],
}
QUERIES = ["rain in Madrid", "directions to the museum", "sunny in Oslo", "route to Lyon station"]


def _saved(path: Path, featurizer: HashingFeaturizer) -> LanguageExpert:
    expert = LanguageExpert(featurizer, lora_rank=2)
    expert.adapt(INTENTS, task="intent")
    expert.save(path)
    return expert


@pytest.mark.parametrize("other", [HashingFeaturizer(dim=64, seed=0), HashingFeaturizer(dim=64, seed=7, char_ngrams=None)])
def test_a_file_saved_with_another_featurizer_is_refused_and_the_expert_is_unchanged(tmp_path: Path, other: HashingFeaturizer) -> None:
    _saved(tmp_path / "e.safetensors", HashingFeaturizer(dim=64, seed=7))
    expert = LanguageExpert(other, lora_rank=2)
    with pytest.raises(CorruptStateError, match=r"options.features_probe: saved by an expert whose featurizer gives other features"):
        expert.load(tmp_path / "e.safetensors")
    assert expert.tasks == []


def test_the_same_featurizer_loads_and_answers_as_the_saved_expert(tmp_path: Path) -> None:
    saved = _saved(tmp_path / "e.safetensors", HashingFeaturizer(dim=64, seed=7))
    expert = LanguageExpert(HashingFeaturizer(dim=64, seed=7), lora_rank=2)
    expert.load(tmp_path / "e.safetensors")
    assert expert.predict(QUERIES, task="intent") == saved.predict(QUERIES, task="intent")


def test_a_file_saved_without_the_probe_loads_unchecked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = LanguageExpert._config
    monkeypatch.setattr(LanguageExpert, "_config", lambda self: {k: v for k, v in config(self).items() if k != "features_probe"})
    saved = _saved(tmp_path / "e.safetensors", HashingFeaturizer(dim=64, seed=7))
    monkeypatch.undo()
    expert = LanguageExpert(HashingFeaturizer(dim=64, seed=7), lora_rank=2)
    assert "features_probe" not in expert.load(tmp_path / "e.safetensors")
    assert expert.predict(QUERIES, task="intent") == saved.predict(QUERIES, task="intent")
