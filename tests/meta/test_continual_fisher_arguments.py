"""fisher_diagonal refuses arguments it cannot estimate from, naming them, instead of returning a
NaN Fisher or failing inside range()."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from torch import nn

from meta import ContinualLearner
from meta.continual import fisher_diagonal


@pytest.mark.parametrize(
    ("rows", "options", "match"),
    [
        ((0, 0, 0), {}, r"x, y, task_ids: expected tensors of the same number of samples, at least 1, got \{'x': 0, 'y': 0, 'task_ids': 0\}"),
        ((3, 2, 3), {}, r"got \{'x': 3, 'y': 2, 'task_ids': 3\}"),
        ((3, 3, 3), {"chunk_size": 0}, r"chunk_size: expected an integer >= 1, got 0"),
        ((3, 3, 3), {"kind": "true", "temperature": "2"}, r"temperature: expected a finite number > 0, got '2'"),
    ],
)
def test_what_no_fisher_can_come_from_is_refused(rows: tuple[int, int, int], options: dict[str, Any], match: str) -> None:
    learner = ContinualLearner(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2)), strategy="naive")
    x, y, t = torch.randn(rows[0], 4), torch.zeros(rows[1], dtype=torch.long), torch.zeros(rows[2], dtype=torch.long)
    with pytest.raises(ValueError, match=match):
        fisher_diagonal(learner, x, y, t, **options)
