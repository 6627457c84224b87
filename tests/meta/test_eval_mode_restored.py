"""Predictions, evaluations, a Fisher estimate and the replay memory's scoring put each module of
the model back in its own mode: ``model.train(was)`` put every module in the top one's, so a
BatchNorm frozen in eval mode inside a model in training mode (fine-tuning's usual set-up) came
back training, and updated its running statistics from the next batch on."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch
from torch import nn

from meta import ContinualLearner, DriftAdapter, ExperienceReplay, FewShotLearner
from meta.continual import fisher_diagonal

X = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
Y = torch.arange(8) % 3


def _frozen_batchnorm(outputs: int) -> nn.Sequential:
    model = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, outputs))
    model[1].eval()  # the rest trains
    return model


def _continual(call: str) -> Callable[[nn.Module], object]:
    def run(model: nn.Module) -> object:
        learner = ContinualLearner(model, strategy="naive")
        if call == "predict":
            return learner.predict(X)
        if call == "evaluate":
            return learner.evaluate_all_tasks([(X, Y)], include_untrained=True)
        if call == "fisher":
            return fisher_diagonal(learner, X, Y, torch.zeros(8, dtype=torch.long))
        replay = ExperienceReplay(buffer_size=4, policy="loss_prioritized")
        return replay.after_task(learner, 0, X, Y)

    return run


CALLS = {
    "ContinualLearner.predict": _continual("predict"),
    "ContinualLearner.evaluate_all_tasks": _continual("evaluate"),
    "fisher_diagonal": _continual("fisher"),
    "ExperienceReplay.after_task": _continual("replay"),
    "DriftAdapter.predict": lambda model: DriftAdapter(model).predict(X),
    "FewShotLearner.predict": lambda model: FewShotLearner("prototypical", encoder=model).predict(X, Y, X),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_a_module_frozen_in_eval_mode_stays_frozen(name: str) -> None:
    model = _frozen_batchnorm(3)
    modes = [m.training for m in model.modules()]
    CALLS[name](model)
    assert [m.training for m in model.modules()] == modes
