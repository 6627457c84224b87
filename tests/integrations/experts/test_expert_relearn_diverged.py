"""Learning the tasks again under weights that diverged (NaN) is refused, and the tasks are kept:
relearned, every input of every task failed. A meta-training that ends so leaves the model as it was."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from integrations.experts import ExpertOutputError, LanguageExpert, VisionExpert
from meta.protonet_recipe import ProtoNetRecipe
from toolrouter.features import HashingFeaturizer


def _poison(model: nn.Module) -> None:
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(float("nan"))


def test_relearning_under_nan_weights_keeps_the_tasks() -> None:
    expert = LanguageExpert(HashingFeaturizer(dim=64), lora_rank=2)
    expert.adapt({"greet": ["hi there"], "leave": ["bye now"]}, task="chat")
    before = expert.task("chat").tensors["prototypes"].clone()
    _poison(expert.model)
    with pytest.raises(ExpertOutputError, match="support: .*'chat', which is kept as it was"):
        expert.relearn_tasks()
    torch.testing.assert_close(expert.task("chat").tensors["prototypes"], before)


def test_a_meta_training_that_diverged_leaves_the_model_and_tasks_as_they_were() -> None:
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(64, 8))
    expert = VisionExpert(encoder, image_shape=(1, 8, 8))
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(16, 1, 8, 8, generator=g), torch.arange(4).repeat_interleave(4)
    expert.adapt(list(x[:4]), [0, 1, 2, 3], task="digits")
    weights = {k: v.clone() for k, v in encoder.state_dict().items()}
    with pytest.raises(ExpertOutputError):
        expert.meta_train(x, y, ProtoNetRecipe(n_way=4, n_query=2, episodes=1, rotation_classes=False, augment=False),
                          on_episode=lambda episode, metrics: _poison(encoder))
    for k, v in encoder.state_dict().items():
        torch.testing.assert_close(v, weights[k])
    assert expert.predict(list(x[:4]), task="digits") == [0, 1, 2, 3]
