"""``load`` sets the options it restores (a ``VisionExpert``'s distance, a ``LanguageExpert``'s
description weight) under the expert's lock, with the weights and tasks: they were set after the
lock was released, so an input served in between met the loaded tasks with the options before."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn

from integrations.experts import LanguageExpert, VisionExpert
from integrations.experts.base import Expert
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class WatchedLock:
    """An expert's own lock, calling ``look`` each time it is let go (its outermost hold ends):
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


def _seen_while_loading(expert: Expert, path: Path, option: Callable[[], Any]) -> list[tuple[list[str], Any]]:
    seen: list[tuple[list[str], Any]] = []
    expert._lock = WatchedLock(expert._lock, lambda: seen.append((expert.tasks, option())))
    expert.load(path)
    return seen


def test_a_vision_expert_sets_the_loaded_distance_with_the_tasks(tmp_path: Path) -> None:
    image = torch.eye(3)[None]
    saved = VisionExpert(nn.Flatten(), image_shape=(1, 3, 3), distance="cosine")
    saved.adapt({"eye": [image], "blank": [torch.zeros(1, 3, 3)]}, task="t")
    saved.save(tmp_path / "v.safetensors")
    expert = VisionExpert(nn.Flatten(), image_shape=(1, 3, 3))
    seen = _seen_while_loading(expert, tmp_path / "v.safetensors", lambda: expert.distance)
    assert seen and all(distance == "cosine" for tasks, distance in seen if tasks == ["t"]), seen
    assert expert.distance == "cosine"


def test_a_language_expert_sets_the_loaded_description_weight_with_the_tasks(tmp_path: Path) -> None:
    saved = LanguageExpert(HashingFeaturizer(dim=64))
    with torch.no_grad():
        saved.selector.network.log_description_weight.fill_(1.5)
    saved.adapt({"yes": ["yes please"], "no": ["no thanks"]}, task="t", descriptions={"yes": "agreeing"})
    saved.save(tmp_path / "l.safetensors")
    expert = LanguageExpert(HashingFeaturizer(dim=64))

    def weight() -> float:
        return round(float(expert.selector.network.log_description_weight.detach()), 4)

    seen = _seen_while_loading(expert, tmp_path / "l.safetensors", weight)
    assert seen and all(w == 1.5 for tasks, w in seen if tasks == ["t"]), seen
    assert weight() == 1.5
