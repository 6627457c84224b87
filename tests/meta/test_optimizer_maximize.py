"""AdaptiveOptimizer minimises: a base optimiser told to maximise (torch's maximize=True) learned its
rate backwards and read a rising objective as a plateau, so it is refused wherever a group gets it."""

from __future__ import annotations

import pytest
import torch

from meta.optimizer import AdaptiveOptimizer

MESSAGE = r"param_groups\[{}\]\['maximize'\]: got True, but AdaptiveOptimizer minimises"


def test_maximize_is_refused_in_the_options_and_in_a_group() -> None:
    model = torch.nn.Linear(2, 1)
    with pytest.raises(ValueError, match=MESSAGE.format(0)):
        AdaptiveOptimizer(model, base_optimizer="sgd", learning_rate=0.1, maximize=True)
    with pytest.raises(ValueError, match=MESSAGE.format(1)):
        AdaptiveOptimizer([{"params": [model.weight]}, {"params": [model.bias], "maximize": True}], base_optimizer="adam")


def test_a_maximising_group_added_later_is_refused_and_not_added() -> None:
    model = torch.nn.Linear(2, 1)
    opt = AdaptiveOptimizer([model.weight], base_optimizer="sgd", learning_rate=0.1)
    with pytest.raises(ValueError, match=MESSAGE.format(1)):
        opt.add_param_group({"params": [model.bias], "maximize": True})
    assert len(opt.param_groups) == 1
    opt.optimizer.add_param_group({"params": [model.bias], "maximize": True})  # on the base: refused at the next step
    model(torch.ones(3, 2)).sum().backward()
    before = model.weight.detach().clone()
    with pytest.raises(ValueError, match=MESSAGE.format(1)):
        opt.step()
    assert torch.equal(model.weight.detach(), before) and opt.step_count == 0


def test_a_minimising_twin_still_learns_its_rate() -> None:
    model = torch.nn.Linear(2, 1)
    opt = AdaptiveOptimizer([{"params": [model.weight], "maximize": False}], base_optimizer="sgd", learning_rate=0.1)
    assert opt.param_groups[0]["lr"] == 0.1
