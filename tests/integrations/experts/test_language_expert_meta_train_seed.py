"""``LanguageExpert.meta_train`` checks ``seed`` as it checks its other options, whichever learner
trains: a seed that is not an integer from 0 to 2**64 - 1 is named before any training, and the
model is left as it was."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import LanguageExpert
from meta import MAML, FewShotLearner
from toolrouter.features import HashingFeaturizer

DATA = {f"l{i}": [f"request {i} about topic{i} number {j}" for j in range(3)] for i in range(4)}


def _expert(kind: str) -> LanguageExpert:
    expert = LanguageExpert(HashingFeaturizer(dim=32), lora_rank=2)
    if kind == "maml":
        expert.add_meta_learning(MAML(expert.model))
    elif kind == "few_shot":
        expert.add_meta_learning(FewShotLearner("prototypical", encoder=expert.model))
    return expert


@pytest.mark.parametrize("kind", ["selector", "maml", "few_shot"])
@pytest.mark.parametrize(("seed", "error"), [("7", TypeError), (1.5, TypeError), (True, TypeError), (-1, ValueError), (2**64, ValueError)])
def test_a_bad_seed_is_named_and_trains_nothing(kind: str, seed: object, error: type[Exception]) -> None:
    expert = _expert(kind)
    before = {k: v.clone() for k, v in expert.model.state_dict().items()}
    with pytest.raises(error, match=f"seed: expected an integer.*got {seed!r}"):
        expert.meta_train(DATA, episodes=1, n_way=2, seed=seed)  # type: ignore[arg-type]
    assert all(torch.equal(before[k], v) for k, v in expert.model.state_dict().items())
