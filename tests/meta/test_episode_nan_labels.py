"""EpisodeSampler refuses NaN labels: NaN equals nothing, itself included, so each example
labelled NaN was a class of its own, and episodes were drawn from them without a word."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from meta.data.episodes import EpisodeSampler


@pytest.mark.parametrize(
    "labels",
    [
        torch.tensor([0.0, 0.0, float("nan"), float("nan"), 1.0, 1.0]),
        [0, 0, float("nan"), float("nan"), 1, 1],
        [0, 0, np.float32("nan"), np.float64("nan"), 1, 1],
    ],
    ids=["tensor", "list", "numpy"],
)
def test_nan_labels_are_refused_naming_the_first(labels: object) -> None:
    with pytest.raises(ValueError, match=r"labels\[2\] is NaN"):
        EpisodeSampler(torch.randn(6, 3), labels, n_way=2, k_shot=1, n_query=0)


def test_float_labels_that_are_numbers_still_make_classes() -> None:
    sampler = EpisodeSampler(torch.randn(6, 3), [0.5, 0.5, 1.5, 1.5, 2.5, 2.5], n_way=3, k_shot=1, n_query=1)
    assert sorted(sampler.classes) == [0.5, 1.5, 2.5]
