"""An expert puts each module of its model back in the mode it found it in: a BatchNorm frozen in
evaluation mode inside a model in training mode (fine-tuning's usual set-up) stays frozen after an
input is served, a task learned, or a meta-training, finished or stopped midway."""

from __future__ import annotations

import pytest
import torch

from integrations.experts import LanguageExpert, VisionExpert
from meta import MAML, FewShotLearner
from meta.backbones import conv4
from meta.protonet_recipe import ProtoNetRecipe
from toolrouter.features import HashingFeaturizer

pytestmark = pytest.mark.usefixtures("one_torch_thread")


class Stop(Exception):
    pass


def _frozen_norms(model: torch.nn.Module) -> list[torch.nn.Module]:
    """``model`` in training mode with its BatchNorms frozen in evaluation mode."""
    model.train()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms
    for m in norms:
        m.eval()
    return norms


def test_a_vision_expert_leaves_a_frozen_batchnorm_frozen() -> None:
    torch.manual_seed(0)
    expert = VisionExpert(conv4(4), image_shape=(1, 16, 16))
    norms = _frozen_norms(expert.model)
    images = torch.rand(60, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    expert.adapt({"a": [images[0]], "b": [images[10]]}, task="t")
    expert.predict(images[:4], task="t")
    assert expert.model.training and not any(m.training for m in norms)

    def stop(episode: int, metrics: dict) -> None:
        raise Stop

    with pytest.raises(Stop):
        expert.meta_train(images, torch.arange(6).repeat_interleave(10), ProtoNetRecipe(n_way=3, episodes=5), on_episode=stop)
    assert expert.model.training and not any(m.training for m in norms)


def test_a_vision_expert_keeps_frozen_norms_frozen_through_a_second_meta_training() -> None:
    # train_protonet returns the encoder all in eval mode: left so, the second training took it
    # for a model serving, and trained the norms
    torch.manual_seed(0)
    expert = VisionExpert(conv4(4), image_shape=(1, 16, 16))
    norms = _frozen_norms(expert.model)
    images = torch.rand(24, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    recipe = ProtoNetRecipe(n_way=3, n_query=1, episodes=2, rotation_classes=False, precision="float32")
    for _ in range(2):
        expert.meta_train(images, torch.arange(6).repeat_interleave(4), recipe)
        assert expert.model.training and not any(m.training for m in norms)
    assert all(int(m.num_batches_tracked) == 0 for m in norms)


def test_a_language_expert_leaves_a_module_frozen_in_eval_mode_so() -> None:
    expert = LanguageExpert(HashingFeaturizer(dim=32), lora_rank=2)
    expert.model.train()
    frozen = next(m for m in expert.model.modules() if m is not expert.model)
    frozen.eval()
    expert.adapt({"a": ["hi there", "hello"], "b": ["bye now", "see you"]}, task="t")
    expert.predict(["hello you"], task="t")
    assert expert.model.training and not frozen.training


@pytest.mark.parametrize("learner", ["MAML", "FewShotLearner"])
def test_a_language_expert_meta_trains_with_a_frozen_module_left_frozen(learner) -> None:
    # the learners' loop put every module in training mode: the frozen one trained from the first
    # episode on (without a learner, the selector's fit: tests/toolrouter/test_selector_frozen_modules.py)
    expert = LanguageExpert(HashingFeaturizer(dim=32), lora_rank=2)
    if learner == "MAML":
        expert.add_meta_learning(MAML(expert.model, vectorize="loop"))
    else:
        expert.add_meta_learning(FewShotLearner("prototypical", encoder=expert.model))
    expert.model.train()
    frozen = dict(expert.model.named_modules())["shared.base_model.proj"]  # the adapted layer
    frozen.eval()
    modes: list[bool] = []
    frozen.register_forward_hook(lambda module, args, out: modes.append(module.training))
    examples = {f"label{i}": [f"request {i} number {j}" for j in range(2)] for i in range(14)}
    for _ in range(2):  # the second training as the first
        expert.meta_train(examples, episodes=2, n_way=4, k_shot=1, queries=1, tasks_per_step=2)
        assert expert.model.training and not frozen.training
    assert modes and not any(modes)
