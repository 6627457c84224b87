"""AccuracyMatrix built directly: its baseline and the stages each task was trained at are checked."""

from __future__ import annotations

import numpy as np
import pytest

from meta.continual import AccuracyMatrix

VALUES = np.array([[0.9, 0.1], [0.6, 0.95]])


def test_a_baseline_given_as_a_list_is_taken_as_square_takes_it() -> None:
    # the constructor read baseline.size and failed with "'list' object has no attribute 'size'"
    R = AccuracyMatrix(VALUES, [0, 1], [[0], [1]], baseline=[0.1, 0.2])
    assert R.forward_transfer() == pytest.approx(0.1 - 0.2)
    assert R.baseline.tolist() == [0.1, 0.2]


def test_a_baseline_of_another_length_is_refused_naming_it() -> None:
    # it failed only in forward_transfer, with numpy's bare IndexError
    with pytest.raises(ValueError, match=r"baseline: expected 2 values"):
        AccuracyMatrix(VALUES, [0, 1], [[0], [1]], baseline=np.array([0.1]))


@pytest.mark.parametrize(
    ("trained_at", "message"),
    [
        ([[0], []], r"trained_at\[1\]: lists no stage"),  # max() of an empty list, in every metric
        ([[0], [5]], r"trained_at\[1\]\[0\]: expected an integer in \[0, 1\], got 5"),  # numpy's IndexError
        ([[0], [-1]], r"trained_at\[1\]\[0\]: expected an integer in \[0, 1\], got -1"),  # read the last row
    ],
)
def test_stages_that_are_no_row_of_the_matrix_are_refused_naming_them(trained_at: list[list[int]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        AccuracyMatrix(VALUES, [0, 1], trained_at)

