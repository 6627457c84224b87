"""A finite loss whose gradient is NaN is refused before the step, as a NaN loss is: the learners
checked the loss alone, so a step wrote NaN into the weights without a word (the unselected branch
of torch.where(a > 0, a.sqrt(), 0) has a NaN gradient at a negative a), and no later refusal could
put them back. MAML checks its meta-gradient already."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import ContinualLearner, DriftAdapter, FewShotLearner
from meta.base import NonFiniteLossError


class NaNGradient(nn.Module):
    """A linear map plus zero, whose parameter ``a`` gets a NaN gradient."""

    def __init__(self, features: int, out: int) -> None:
        super().__init__()
        self.linear = nn.Linear(features, out)
        self.a = nn.Parameter(torch.tensor(-1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x) + torch.where(self.a > 0, self.a.sqrt(), torch.zeros(()))


def _state(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in module.state_dict().items()}


def _same(module: nn.Module, before: dict[str, torch.Tensor]) -> bool:
    return all(torch.equal(v, before[k]) for k, v in module.state_dict().items())


def test_a_few_shot_episode_with_a_nan_gradient_is_refused_and_changes_nothing() -> None:
    torch.manual_seed(0)
    learner = FewShotLearner("prototypical", NaNGradient(4, 8))
    before = _state(learner)
    with pytest.raises(NonFiniteLossError, match="a gradient is NaN or infinite at episode 1"):
        learner.train_episode(torch.randn(4, 4), torch.tensor([0, 0, 1, 1]), torch.randn(2, 4), torch.tensor([0, 1]))
    assert _same(learner, before) and learner.episodes_trained == 0


def test_a_continual_task_with_a_nan_gradient_is_refused_and_changes_nothing() -> None:
    torch.manual_seed(0)
    learner = ContinualLearner(NaNGradient(4, 2), strategy="naive")
    before = _state(learner.model)
    with pytest.raises(FloatingPointError, match="gradients: a gradient is NaN or infinite"):
        learner.train_task((torch.randn(8, 4), torch.arange(8) % 2), task_id=0)
    assert _same(learner.model, before) and learner.trained_tasks == []


def test_a_drift_batch_with_a_nan_gradient_is_refused_and_changes_nothing() -> None:
    torch.manual_seed(0)
    adapter = DriftAdapter(NaNGradient(3, 1), steps=2)
    before = _state(adapter.model)
    with pytest.raises(FloatingPointError, match="gradients: a gradient is NaN or infinite at step 0"):
        adapter.adapt(torch.randn(8, 3), torch.randn(8))
    assert _same(adapter.model, before) and adapter.batches_seen == 0


def test_a_protonet_recipe_episode_with_a_nan_gradient_is_refused() -> None:
    from meta.protonet_recipe import ProtoNetRecipe, train_protonet

    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Flatten(), NaNGradient(16, 4))
    before = _state(encoder)
    recipe = ProtoNetRecipe(n_way=2, n_query=1, episodes=1, rotation_classes=False, augment=False, channels_last=False)
    with pytest.raises(NonFiniteLossError, match="a gradient is NaN or infinite at episode 1"):
        train_protonet(torch.rand(8, 1, 4, 4), torch.arange(8) % 4, recipe, encoder=encoder)
    assert _same(encoder, before)
