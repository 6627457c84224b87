"""Metrics on the accuracy matrix, and collapse detection."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from meta.continual import (
    AccuracyMatrix,
    average_accuracy,
    backward_transfer,
    detect_collapse,
    forgetting,
    forward_transfer,
)

R3 = [
    [0.90, 0.20, 0.10],
    [0.70, 0.95, 0.30],
    [0.60, 0.80, 0.85],
]


def test_hand_computed_metrics() -> None:
    assert average_accuracy(R3) == pytest.approx((0.60 + 0.80 + 0.85) / 3)
    assert backward_transfer(R3) == pytest.approx(((0.60 - 0.90) + (0.80 - 0.95)) / 2)
    # task 0's best before the end was 0.90 (stage 0), task 1's 0.95 (stage 1)
    assert forgetting(R3) == pytest.approx(((0.90 - 0.60) + (0.95 - 0.80)) / 2)
    assert forward_transfer(R3, baseline=[0.1, 0.1, 0.1]) == pytest.approx(((0.20 - 0.1) + (0.30 - 0.1)) / 2)


def test_the_metric_functions_take_the_learners_accuracy_matrix_too() -> None:
    # ContinualLearner.accuracy_matrix() returns an AccuracyMatrix; float() of it failed inside
    R = AccuracyMatrix.square(R3, baseline=[0.1, 0.1, 0.1])
    assert average_accuracy(R) == average_accuracy(R3) and backward_transfer(R) == backward_transfer(R3)
    assert forgetting(R) == forgetting(R3)
    assert forward_transfer(R) == forward_transfer(R3, baseline=[0.1, 0.1, 0.1])
    with pytest.raises(TypeError, match="baseline: forward_transfer of a plain matrix needs"):
        forward_transfer(R3)
    with pytest.raises(ValueError, match="baseline: an AccuracyMatrix carries its own baseline"):
        forward_transfer(R, baseline=[0.1, 0.1, 0.1])


def test_forgetting_uses_the_best_earlier_accuracy_not_the_first() -> None:
    R = [[0.5, 0.0, 0.0], [0.9, 0.8, 0.0], [0.6, 0.8, 0.9]]  # task 0 improved at stage 1, then dropped
    assert forgetting(R) == pytest.approx(((0.9 - 0.6) + 0.0) / 2)
    assert backward_transfer(R) == pytest.approx(((0.6 - 0.5) + 0.0) / 2)


def test_revisited_tasks_and_missing_entries() -> None:
    # stages train tasks 0, 1, 0; the third stage relearns task 0
    R = AccuracyMatrix(np.array([[0.9, np.nan], [0.4, 0.9], [0.95, 0.7]]), [0, 1], [[0, 2], [1]])
    assert R.backward_transfer() == pytest.approx(0.7 - 0.9)  # only task 1 was trained before the end
    assert R.forgetting() == pytest.approx(0.2)
    assert math.isnan(R.forward_transfer())  # no baseline and no probe of task 1 before stage 1
    d = R.to_dict()
    assert d["matrix"][0][1] is None and d["forward_transfer"] is None


def test_one_task_has_no_transfer() -> None:
    assert math.isnan(backward_transfer([[0.9]])) and math.isnan(forgetting([[0.9]]))
    assert average_accuracy([[0.9]]) == pytest.approx(0.9)
    with pytest.raises(ValueError, match="square"):
        average_accuracy([[0.9, 0.1]])


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 6).flatmap(lambda n: st.lists(st.lists(st.floats(0, 1), min_size=n, max_size=n), min_size=n, max_size=n)))
def test_forgetting_bounds_backward_transfer(rows: list[list[float]]) -> None:
    # the best accuracy since training is at least the accuracy right after training
    assert forgetting(rows) >= -backward_transfer(rows) - 1e-12
    assert -1.0 <= forgetting(rows) <= 1.0  # negative when accuracy only rose (backward transfer)
    assert 0.0 <= average_accuracy(rows) <= 1.0


def test_collapse_detection() -> None:
    labels = torch.arange(100) % 10
    report = detect_collapse(torch.full((100,), 4), labels)
    assert report.collapsed and report.majority_class == 4 and report.majority_fraction == 1.0
    assert not detect_collapse(labels, labels).collapsed
    # a task whose labels are nearly all one class may legitimately be predicted that way
    assert not detect_collapse(torch.zeros(10, dtype=torch.long), torch.tensor([0] * 9 + [1])).collapsed
    almost = torch.cat([torch.full((89,), 3), torch.arange(4, 15)])
    assert not detect_collapse(almost, labels, threshold=0.9).collapsed
    with pytest.raises(ValueError, match="threshold"):
        detect_collapse(labels, labels, threshold=0.0)
