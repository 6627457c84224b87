"""AdaptiveOptimizer.step with the loss: a tensor is backpropagated exactly once, a float needs the
caller's backward pass, and a step refused for want of gradients changes nothing."""

from __future__ import annotations

import pytest
import torch

from meta.optimizer import AdaptiveOptimizer


def _setup() -> tuple[torch.nn.Parameter, AdaptiveOptimizer]:
    x = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    # plain SGD without meta-learning: one step moves x by exactly -0.1 * gradient
    return x, AdaptiveOptimizer([x], base_optimizer="sgd", use_meta_learning=False, learning_rate=0.1)


@pytest.mark.parametrize("set_to_none", [True, False])
def test_a_loss_tensor_is_backpropagated_whatever_zero_grad_left(set_to_none: bool) -> None:
    x, opt = _setup()
    for _ in range(2):  # the second pass starts from the gradients the first left
        before = x.detach().clone()
        opt.zero_grad(set_to_none=set_to_none)
        opt.step((x**2).sum())  # gradient 2x
        torch.testing.assert_close(x.detach(), before - 0.1 * 2 * before)


def test_a_loss_tensor_already_backpropagated_is_not_backpropagated_again() -> None:
    x, opt = _setup()
    before = x.detach().clone()
    opt.zero_grad(set_to_none=False)
    loss = (x**2).sum()
    loss.backward()
    opt.step(loss)  # a second backward would double the gradient (or fail on the freed graph)
    torch.testing.assert_close(x.detach(), before - 0.1 * 2 * before)
    assert opt.get_optimization_stats()["last_loss"] == pytest.approx(float((before**2).sum()))


def test_a_float_loss_without_a_backward_pass_is_refused_and_changes_nothing() -> None:
    x, opt = _setup()
    before = x.detach().clone()
    opt.zero_grad()
    loss = (x**2).sum()
    with pytest.raises(ValueError, match=r"call loss.backward\(\) before step\(\), or pass the loss tensor itself"):
        opt.step(loss.item())
    assert torch.equal(x.detach(), before) and opt.step_count == 0 and opt.get_optimization_stats()["last_loss"] is None


class _FailingSGD(torch.optim.SGD):
    """SGD whose step can be made to fail, as a device running out of memory would."""

    fail = False

    def step(self, closure=None):  # type: ignore[no-untyped-def]
        if self.fail:
            raise RuntimeError("out of memory")
        return super().step(closure)


def test_a_base_step_that_fails_leaves_the_learned_rates_as_they_were() -> None:
    x = torch.nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    opt = AdaptiveOptimizer([x], base_optimizer=_FailingSGD, learning_rate=0.01, meta_learning_rate=0.5)
    for _ in range(3):
        opt.zero_grad()
        opt.step((x**2).sum())
    rates, hypergradients, before = opt.get_optimization_stats()["learning_rates"], list(opt.hypergradients), x.detach().clone()
    opt.optimizer.fail = True
    opt.zero_grad()
    with pytest.raises(RuntimeError, match="out of memory"):
        opt.step((x**2).sum())  # successive gradients agree: the hypergradient would raise the rate
    assert opt.get_optimization_stats()["learning_rates"] == rates and opt.hypergradients == hypergradients
    assert torch.equal(x.detach(), before) and opt.step_count == 3
    assert x.grad is None  # the step's own backward pass is not left for the next step to take in


@pytest.mark.parametrize("backward_inside", [True, False])
def test_a_closure_is_called_and_its_loss_used_as_torch_optimisers_do(backward_inside: bool) -> None:
    x, opt = _setup()
    start = x.detach().clone()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (x**2).sum()
        if backward_inside:
            loss.backward()
        return loss

    losses = []
    for _ in range(2):
        with torch.no_grad():  # as a training framework may call it: the closure still gets gradients
            losses.append(float(opt.step(closure).detach()))
    # gradient 2x, rate 0.1: each step scales x by 0.8, with exactly one backward pass per step
    torch.testing.assert_close(x.detach(), 0.64 * start)
    assert losses == pytest.approx([float((start**2).sum()), float(((0.8 * start) ** 2).sum())])
    assert opt.get_optimization_stats()["last_loss"] == pytest.approx(losses[-1]) and opt.step_count == 2


@pytest.mark.parametrize("loss", [True, "0.5", b"0.5"])
def test_a_loss_that_is_no_number_is_refused_and_changes_nothing(loss: object) -> None:
    x, opt = _setup()
    opt.zero_grad()
    (x**2).sum().backward()
    before = x.detach().clone()
    with pytest.raises(TypeError, match=r"loss_value: expected the batch's loss as a number or a scalar tensor, got "):
        opt.step(loss)
    assert torch.equal(x.detach(), before) and opt.step_count == 0 and opt.get_optimization_stats()["last_loss"] is None
    opt.step(0.5)  # a number is taken
    assert opt.get_optimization_stats()["last_loss"] == 0.5


def test_gradients_zeroed_in_place_are_no_gradient_for_a_float_loss() -> None:
    x = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = AdaptiveOptimizer([x], base_optimizer="adam", learning_rate=0.1)
    opt.zero_grad(set_to_none=False)
    (x**2).sum().backward()
    opt.step((x**2).sum().item())
    opt.zero_grad(set_to_none=False)  # zeros, not None: Adam would still move x by its momentum
    before = x.detach().clone()
    with pytest.raises(ValueError, match=r"no parameter has a gradient .*call loss.backward\(\) before step\(\)"):
        opt.step((x**2).sum().item())
    assert torch.equal(x.detach(), before) and opt.step_count == 1
    (x**2).sum().backward()  # with the backward pass the step is taken
    opt.step((x**2).sum().item())
    assert opt.step_count == 2 and not torch.equal(x.detach(), before)


def test_a_step_refused_on_the_gradient_it_backpropagated_leaves_none_behind() -> None:
    x = torch.nn.Parameter(torch.tensor([0.0, 1.0, 4.0]))
    opt = AdaptiveOptimizer([x], base_optimizer="sgd", use_meta_learning=False, learning_rate=0.1)
    with pytest.raises(ValueError, match="gradient is NaN or infinite"):
        opt.step(x.abs().sqrt().sum())  # finite loss, non-finite gradient at 0
    assert x.grad is None and torch.equal(x.detach(), torch.tensor([0.0, 1.0, 4.0]))
    # no zero_grad in between: the next loss is backpropagated and stepped on, not the refused gradient
    opt.step((x**2).sum())
    torch.testing.assert_close(x.detach(), torch.tensor([0.0, 0.8, 3.2]))
