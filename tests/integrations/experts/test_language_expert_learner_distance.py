"""A ``LanguageExpert`` with a ``FewShotLearner`` attached scores a task as the learner's network
scores it, with the network's distance: a cosine network's tasks were scored by euclidean distance
to its prototypes, not by what the encoder was trained for. The distance is kept with each task,
through save and load."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from integrations.experts import LanguageExpert
from meta import FewShotLearner
from toolrouter.features import HashingFeaturizer

SUPPORT = {"greet": ["hi there", "hello friend"], "leave": ["bye now", "see you later"]}
QUERIES = ["hello", "bye", "hi now", "see there"]


@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
def test_a_task_is_scored_as_the_learners_network_scores_it(distance: str, tmp_path: Path) -> None:
    expert = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)
    learner = FewShotLearner("prototypical", encoder=expert.model, distance=distance)
    expert.add_meta_learning(learner)
    expert.adapt(SUPPORT, task="chat")
    _, probs = expert.predict_proba(QUERIES, task="chat")
    with torch.no_grad():
        logits = learner.network(expert._rows(SUPPORT["greet"] + SUPPORT["leave"]), torch.tensor([0, 0, 1, 1]), expert._rows(QUERIES))
    torch.testing.assert_close(probs, torch.softmax(logits.double(), -1).float())
    expert.save(tmp_path / "e.safetensors")
    loaded = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)  # no learner: the task says how it scores
    loaded.load(tmp_path / "e.safetensors")
    torch.testing.assert_close(loaded.predict_proba(QUERIES, task="chat")[1], probs)
