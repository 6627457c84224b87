"""CalibrationEpisodes refuse rows that do not fit, naming the field: they failed deep in torch
(an IndexError, a size mismatch), were called a diverged fit (zero weights, a label no softmax
gives), or were fitted without a word to the opposite of their labels (negative weights)."""

from __future__ import annotations

import pytest
import torch

from toolrouter.calibration import CalibrationEpisodes, CountCalibration


def episodes(**change) -> CalibrationEpisodes:
    g = torch.Generator().manual_seed(0)
    given = {
        "scores": torch.rand(4, 2, generator=g), "counts": torch.tensor([[0, 30]] * 4),
        "registered": torch.ones(4, 2, dtype=torch.bool), "labels": torch.tensor([0, 1, 2, 0]), "weights": torch.ones(4),
    }
    return CalibrationEpisodes(**{**given, **change})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weights": -torch.ones(4)}, r"weights: expected 4 finite numbers >= 0, not all zero"),
        ({"weights": torch.zeros(4)}, r"weights: expected 4 finite numbers >= 0, not all zero"),
        ({"weights": torch.ones(3)}, r"weights: expected 4 finite numbers"),
        ({"labels": torch.tensor([0, 1, 5, 0])}, r"labels: expected tool indices 0 to 2 \(2 is 'none'\), got \[0, 1, 5\]"),
        ({"labels": torch.tensor([0, 1, 2])}, r"labels: expected int64 of shape \(4,\)"),
        ({"registered": torch.tensor([[False, True]] * 4)}, r"labels: row 0's label is tool 0, which is not registered"),
        ({"scores": torch.rand(3, 2)}, r"counts: expected integers of shape \(3, 2\) \(as scores\)"),
        ({"scores": torch.full((4, 2), float("nan"))}, r"scores: expected finite floats"),
        ({"counts": torch.tensor([[-1, 3]] * 4)}, r"counts: expected numbers of examples >= 0, got -1"),
        ({"registered": torch.ones(4, 2)}, r"registered: expected bools of shape \(4, 2\)"),
        ({"labels": [0, 1, 2, 0]}, r"labels: expected a tensor, got list"),
    ],
)
def test_episodes_that_do_not_fit_are_refused_naming_the_field(change, message) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        episodes(**change)


def test_fitting_episodes_fit() -> None:
    calibration = CountCalibration(2.0)
    assert calibration.fit(episodes(), steps=5) > 0 and calibration.fitted
