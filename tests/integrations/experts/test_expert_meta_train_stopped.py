"""A meta-training that fails or is stopped midway leaves the expert's model as it was, buffers
and mode included: its stored tasks were learned under those weights, and half-trained ones
served them with prototypes of another encoder, without a word."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import LanguageExpert, VisionExpert
from meta import MAML
from meta.backbones import conv4
from meta.protonet_recipe import ProtoNetRecipe
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Stop(Exception):
    pass


def _state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(before: dict[str, torch.Tensor], model: torch.nn.Module) -> bool:
    return all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_a_vision_meta_training_stopped_by_on_episode_changes_nothing() -> None:
    torch.manual_seed(0)
    expert = VisionExpert(conv4(4), image_shape=(1, 16, 16))
    images, labels = torch.rand(60, 1, 16, 16, generator=torch.Generator().manual_seed(0)), torch.arange(6).repeat_interleave(10)
    expert.adapt({"a": [images[0]], "b": [images[10]]}, task="t")
    before, probs, mode = _state(expert.model), expert.predict_proba(images[:20], task="t")[1], expert.model.training

    def stop(episode: int, metrics: dict) -> None:
        if episode >= 2:
            raise Stop

    with pytest.raises(Stop):
        expert.meta_train(images, labels, ProtoNetRecipe(n_way=3, episodes=5), on_episode=stop)
    assert _same(before, expert.model) and expert.model.training == mode
    assert torch.equal(expert.predict_proba(images[:20], task="t")[1], probs)


def test_a_language_meta_training_failing_midway_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    expert = LanguageExpert(HashingFeaturizer(dim=32), lora_rank=2)
    maml = MAML(expert.model)
    expert.add_meta_learning(maml)
    expert.adapt({"a": ["hi there", "hello"], "b": ["bye now", "see you"]}, task="t")
    before, probs, mode = _state(expert.model), expert.predict_proba(["hello you"], task="t")[1], expert.model.training
    step, calls = maml.meta_train_step, []

    def failing_step(tasks: list) -> dict:
        calls.append(1)
        if len(calls) == 3:
            raise Stop
        return step(tasks)

    monkeypatch.setattr(maml, "meta_train_step", failing_step)
    data = {f"l{i}": [f"request {i} about topic{i} number {j}" for j in range(3)] for i in range(4)}
    with pytest.raises(Stop):
        expert.meta_train(data, episodes=5, n_way=2)
    assert len(calls) == 3 and _same(before, expert.model) and expert.model.training == mode
    assert torch.equal(expert.predict_proba(["hello you"], task="t")[1], probs)
