"""ContinualLearner.predict: one forward pass per call, with the same answers and errors as before."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta.continual import ContinualLearner


class _Counting(nn.Sequential):
    """An MLP that counts the rows it is given."""

    rows = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.rows += x.shape[0]
        return super().forward(x)


@pytest.mark.parametrize("setting", ["class", "task"])
def test_predict_runs_the_model_once_on_the_inputs(setting: str) -> None:
    torch.manual_seed(0)
    model = _Counting(nn.Linear(6, 16), nn.ReLU(), nn.Linear(16, 4))
    learner = ContinualLearner(model, strategy="naive", setting=setting)
    x = torch.randn(20, 6)
    learner.train_task((x, (x[:, 0] > 0).long()), 0)
    model.rows = 0
    predicted = learner.predict(x, task_id=0)
    assert model.rows == 20  # no extra one-row pass to check x first
    with torch.no_grad():
        logits = nn.Sequential(*model)(x)
    if setting == "task":
        logits[:, 2:] = float("-inf")
    assert torch.equal(predicted, logits.argmax(dim=1))
    with pytest.raises(ValueError, match=r"x: the model cannot take x of shape \(20, 5\) and dtype torch.float32"):
        learner.predict(x[:, :5], task_id=0)
    if setting == "task":
        with pytest.raises(ValueError, match=r"x: the model cannot take x of shape \(20, 5\)"):
            learner.predict(x[:, :5])  # a bad x is named before a missing task id, as always
        with pytest.raises(ValueError, match="task_id: required in the 'task' setting, got None"):
            learner.predict(x)
