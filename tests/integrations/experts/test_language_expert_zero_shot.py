"""``LanguageExpert.meta_train`` with ``k_shot=0``: episodes that learn each label from its
description alone, with a learner attached as without one (a learner's episodes were given one
example per label all the same), and refused, before any training, where a label has none."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import ExpertInputError, LanguageExpert
from meta import FewShotLearner, MAMLFirstOrder
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TRAIN = {f"label{i}": [f"request {j} on subject {i} with word w{i}" for j in range(4)] for i in range(4)}
DESCRIPTIONS = {label: f"requests about subject {i}" for i, label in enumerate(TRAIN)}


def expert(learner: str) -> LanguageExpert:
    e = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)
    if learner == "maml":
        e.add_meta_learning(MAMLFirstOrder(e.model, lr_inner=0.1))
    elif learner == "few_shot":
        e.add_meta_learning(FewShotLearner("prototypical", encoder=e.model, lr=0.01))
    return e


@pytest.mark.parametrize("learner", ["none", "maml", "few_shot"])
def test_zero_shot_episodes_without_a_description_for_every_label_are_refused(learner: str) -> None:
    e = expert(learner)
    before = {k: v.clone() for k, v in e.model.state_dict().items()}
    with pytest.raises(ExpertInputError, match=r"^k_shot: 0-shot episodes need a description for every label; missing for \['label3'\]$"):
        e.meta_train(TRAIN, {k: v for k, v in DESCRIPTIONS.items() if k != "label3"}, episodes=2, n_way=3, k_shot=[1, 0])
    assert all(torch.equal(v, before[k]) for k, v in e.model.state_dict().items())


def test_a_learners_zero_shot_episodes_hold_the_descriptions_alone() -> None:
    e = expert("few_shot")
    learner, supports = e.meta_learner, []
    train_episode = learner.train_episode

    def recorded(support_x, support_y, *rest):  # type: ignore[no-untyped-def]
        supports.append(len(support_x))
        return train_episode(support_x, support_y, *rest)

    learner.train_episode = recorded
    e.meta_train(TRAIN, DESCRIPTIONS, episodes=2, n_way=3, k_shot=0)
    assert supports == [3, 3]  # one description per label, no example
