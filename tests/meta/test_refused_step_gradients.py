"""A refused training step leaves no NaN in the parameters' ``.grad``: the continual learner and
the drift adapter put weights and buffers back but kept the gradient the step was refused for, which
the caller's next optimiser step (or ``clip_grad_norm_``) then took in; ``MAML.apply_meta_update``
kept it when it refused the loss, and the next ``compute_meta_gradients`` added to it. A refusal
is also reported without a torch warning on the way."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from meta import MAML, ContinualLearner, DriftAdapter, FewShotLearner
from meta.base import NonFiniteLossError


class NaNGradient(nn.Module):
    """BatchNorm, then a linear map plus zero, whose parameter ``a`` gets a NaN gradient."""

    def __init__(self, features: int, out: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm1d(features)
        self.linear = nn.Linear(features, out)
        self.a = nn.Parameter(torch.tensor(-1.0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(self.bn(x)) + torch.where(self.a > 0, self.a.sqrt(), torch.zeros(()))


def _left_as_it_was(model: nn.Module, before: dict[str, torch.Tensor]) -> None:
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # running statistics too
    assert [n for n, p in model.named_parameters() if p.grad is not None] == []


def test_a_refused_continual_task_leaves_no_gradient() -> None:
    torch.manual_seed(0)
    learner = ContinualLearner(NaNGradient(4, 2), strategy="naive")
    before = {k: v.clone() for k, v in learner.model.state_dict().items()}
    with pytest.raises(FloatingPointError, match="gradients: a gradient is NaN"):
        learner.train_task((torch.randn(8, 4), torch.arange(8) % 2), task_id=0)
    _left_as_it_was(learner.model, before)


def test_a_refused_drift_batch_leaves_no_gradient() -> None:
    torch.manual_seed(0)
    adapter = DriftAdapter(NaNGradient(3, 1), steps=2)
    before = {k: v.clone() for k, v in adapter.model.state_dict().items()}
    with pytest.raises(FloatingPointError, match="gradients: a gradient is NaN"):
        adapter.adapt(torch.randn(8, 3), torch.randn(8))
    _left_as_it_was(adapter.model, before)


def test_a_refused_few_shot_episode_and_meta_step_leave_no_gradient() -> None:
    torch.manual_seed(0)
    learner = FewShotLearner("prototypical", NaNGradient(4, 8))
    before = {k: v.clone() for k, v in learner.network.state_dict().items()}
    with pytest.raises(NonFiniteLossError):
        learner.train_episode(torch.randn(4, 4), torch.tensor([0, 0, 1, 1]), torch.randn(2, 4), torch.tensor([0, 1]))
    _left_as_it_was(learner.network, before)
    maml = MAML(NaNGradient(3, 1))
    before = {k: v.clone() for k, v in maml.model.state_dict().items()}
    tasks = [(torch.randn(5, 3), torch.randn(5, 1), torch.randn(5, 3), torch.randn(5, 1)) for _ in range(2)]
    with pytest.raises(NonFiniteLossError):
        maml.meta_train_step(tasks)
    _left_as_it_was(maml.model, before)


def test_a_meta_update_refused_for_its_loss_clears_the_meta_gradients() -> None:
    # compute_meta_gradients adds to .grad: the refused step's gradient was carried into the next
    torch.manual_seed(0)
    maml = MAML(nn.Linear(3, 1))
    tasks = [(torch.randn(5, 3), torch.randn(5, 1), torch.randn(5, 3), torch.randn(5, 1)) for _ in range(2)]
    maml.compute_meta_gradients(tasks)
    with pytest.raises(NonFiniteLossError, match="meta-loss is nan"):
        maml.apply_meta_update(float("nan"))
    assert [p.grad for p in maml.meta_parameters()] == [None, None] and maml.meta_step_count == 0


def test_a_drift_batch_refused_for_its_loss_reports_it_without_a_warning() -> None:
    # float() of a loss that requires grad warned "Converting a tensor with requires_grad=True"
    torch.manual_seed(0)
    adapter = DriftAdapter(nn.Linear(3, 1), steps=3, lr=1e30, ewc_lambda=0.0, buffer_size=0)
    x = torch.randn(16, 3) * 1e6
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FloatingPointError, match="loss: became (nan|inf) at step"):
            adapter.adapt(x, x.sum(dim=1))
