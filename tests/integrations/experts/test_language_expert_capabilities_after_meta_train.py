"""After ``LanguageExpert.meta_train``, the router's capabilities (the task served when none is
named) are described again under the new encoder before any input is served: the cached task was
dropped only after the expert's lock was let go, so an input served in between was scored against
prototypes of the encoder before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

from integrations.experts import LanguageExpert
from toolrouter import ToolMetaLearner, ToolProfile
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class _Watched:
    """The expert's own lock, calling ``look`` each time it is let go (its outermost hold ends):
    what a thread waiting on it sees when it comes in."""

    def __init__(self, lock: Any, look: Callable[[], None]) -> None:
        self._lock, self._look, self._depth = lock, look, 0

    def __enter__(self) -> Any:
        out = self._lock.__enter__()
        self._depth += 1
        return out

    def __exit__(self, *exc: Any) -> Any:
        self._depth -= 1
        out = self._lock.__exit__(*exc)
        if self._depth == 0:
            self._look()
        return out


def test_the_capabilities_task_is_dropped_with_the_training() -> None:
    expert = LanguageExpert(HashingFeaturizer(dim=64))
    expert.add_tool_optimization(ToolMetaLearner([
        ToolProfile(tool_id="web", capabilities=["search"], description="search the web for news and pages"),
        ToolProfile(tool_id="calc", capabilities=["math"], description="calculator arithmetic sums products"),
    ], seed=0))
    expert.predict(["sum of two numbers"])  # served with the capabilities, described under this encoder
    described = expert._capabilities
    assert described is not None
    before = {n: p.detach().clone() for n, p in expert.model.named_parameters()}
    stale: list[bool] = []
    expert._lock = _Watched(expert._lock, lambda: stale.append(expert._capabilities is described))
    train = {f"label{i}": [f"request {j} on subject {i} with word w{i}" for j in range(4)] for i in range(5)}
    expert.meta_train(train, episodes=2, n_way=3, k_shot=1)
    assert any(not torch.equal(p, before[n]) for n, p in expert.model.named_parameters())
    assert stale and not any(stale), stale
