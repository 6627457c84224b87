"""After ``LanguageExpert.meta_train``, the router's capabilities (the task served when none is
named) are described again under the new encoder before any input is served: the cached task was
dropped only after the expert's lock was let go, so an input served in between was scored against
prototypes of the encoder before."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import LanguageExpert
from meta.few_shot import FewShotLearner
from tests.integrations.experts.test_expert_load_options_under_lock import WatchedLock
from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_the_capabilities_task_is_dropped_with_the_training() -> None:
    expert = LanguageExpert(HashingFeaturizer(dim=64))
    expert.add_meta_learning(FewShotLearner("prototypical", encoder=expert.model, lr=0.1))  # a quick training
    expert.add_tool_optimization(ToolMetaLearner([
        ToolProfile(tool_id="web", capabilities=["search"], description="search the web for news and pages"),
        ToolProfile(tool_id="calc", capabilities=["math"], description="calculator arithmetic sums products"),
    ], seed=0))
    expert.predict(["sum of two numbers"])  # served with the capabilities, described under this encoder
    described = expert._capabilities
    assert described is not None
    before = {n: p.detach().clone() for n, p in expert.model.named_parameters()}
    stale: list[bool] = []
    expert._lock = WatchedLock(expert._lock, lambda: stale.append(expert._capabilities is described))
    train = {f"label{i}": [f"request {j} on subject {i} with word w{i}" for j in range(4)] for i in range(5)}
    expert.meta_train(train, episodes=1, n_way=3, k_shot=1)
    assert any(not torch.equal(p, before[n]) for n, p in expert.model.named_parameters())
    assert stale and not any(stale), stale
