"""An AdaptiveOptimizer on LBFGS or Adafactor saves and loads its state: LBFGS keeps its state flat,
over all the parameters, in the first one's entry, Adafactor factored row and column variances, and
load_state_dict refused both as moments of the wrong shape ("base.state[0]['d']: shape (4,), the
parameter's is (1, 3)"). A moment of another shape is still refused."""

from __future__ import annotations

import pytest
import torch

from meta.checkpoint import load_state, save_state
from meta.optimizer import AdaptiveOptimizer


def _model_and_optimizer(base: type[torch.optim.Optimizer] | str = torch.optim.LBFGS) -> tuple[torch.nn.Linear, AdaptiveOptimizer]:
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    return model, AdaptiveOptimizer(model, base, learning_rate=0.5, use_meta_learning=False, max_lr=1.0)


def _steps(model: torch.nn.Linear, opt: AdaptiveOptimizer, n: int) -> list[float]:
    x, y = torch.arange(12.0).reshape(4, 3) / 10, torch.tensor([[1.0], [0.0], [2.0], [1.0]])

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        loss.backward()
        return loss

    return [opt.step(closure).item() for _ in range(n)]


@pytest.mark.parametrize("base", [torch.optim.LBFGS, torch.optim.Adafactor])
def test_the_state_loads_and_training_goes_on_as_if_it_had_not_stopped(tmp_path, base: type[torch.optim.Optimizer]) -> None:
    model, opt = _model_and_optimizer(base)
    _steps(model, opt, 2)
    save_state(tmp_path / "opt.safetensors", "AdaptiveOptimizer", opt.state_dict())
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    straight = _steps(model, opt, 3)
    resumed_model, resumed = _model_and_optimizer(base)
    resumed_model.load_state_dict(weights)
    resumed.load_state_dict(load_state(tmp_path / "opt.safetensors", "AdaptiveOptimizer"))
    assert _steps(resumed_model, resumed, 3) == straight


def test_a_moment_of_another_shape_is_still_refused() -> None:
    model, opt = _model_and_optimizer("adam")
    _steps(model, opt, 1)
    state = opt.state_dict()
    state["base"]["state"][0]["exp_avg"] = torch.zeros(2)
    with pytest.raises(ValueError, match=r"base.state\[0\]\['exp_avg'\]: shape \(2,\), the parameter's is \(1, 3\) \(a factored"):
        opt.load_state_dict(state)


def test_an_lbfgs_state_of_complex_parameters_loads() -> None:
    z = torch.nn.Parameter(torch.tensor([1.0 + 2.0j, -0.5j, 3.0]))
    opt = AdaptiveOptimizer([z], torch.optim.LBFGS, learning_rate=0.5)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = (z - 1).abs().pow(2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    state = opt.state_dict()
    assert state["base"]["state"][0]["d"].shape == (6,)  # flat over the real and imaginary parts
    opt.load_state_dict(state)
    opt.step(closure)
