"""LanguageExpert.meta_train takes a numpy integer k_shot, as its own check does, on every path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from integrations.experts.language import LanguageExpert
from meta import FewShotLearner, MAMLFirstOrder
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TRAIN = {f"label{i}": [f"request {j} on subject {i} with word w{i}" for j in range(4)] for i in range(4)}


@pytest.mark.parametrize("kind", ["maml", "few_shot"])
def test_a_numpy_k_shot_trains_as_the_same_int_does(kind: str) -> None:
    trained = []
    for k_shot in (2, np.int64(2)):
        e = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2, seed=0)
        # one execution path: "auto" picks by timing, and the two paths differ in the last bits
        learner = MAMLFirstOrder(e.model, lr_inner=0.1, vectorize="loop") if kind == "maml" else FewShotLearner("prototypical", encoder=e.model, lr=0.01)
        e.add_meta_learning(learner)
        # np.int64 passed the check and then failed with "'numpy.int64' object is not iterable"
        metrics = e.meta_train(TRAIN, episodes=2, n_way=3, k_shot=k_shot, tasks_per_step=1)
        trained.append((metrics, {n: p.detach().clone() for n, p in e.model.named_parameters()}))
    (metrics_int, params_int), (metrics_np, params_np) = trained
    assert metrics_np == metrics_int
    assert all(torch.equal(params_np[n], params_int[n]) for n in params_int)
