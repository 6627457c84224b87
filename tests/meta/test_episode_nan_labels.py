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


def test_labels_from_a_generator_are_read_in_order_and_an_unordered_set_is_refused() -> None:
    x = torch.randn(6, 3)
    # a generator has no len(): torch's TypeError named neither labels nor the fix
    sampler = EpisodeSampler(x, (c for c in [0, 0, 1, 1, 2, 2]), n_way=3, k_shot=1, n_query=1, seed=0)
    episode = sampler.sample()
    rows = [[int((x == r).all(1).nonzero()) for r in t] for t in (episode.support_x, episode.query_x)]
    assert {frozenset(pair) for pair in zip(*rows)} == {frozenset({0, 1}), frozenset({2, 3}), frozenset({4, 5})}
    # a set's order is not the examples': its labels were paired with examples at random, without a word
    with pytest.raises(TypeError, match="labels: expected one label per example, in order .*, got a set"):
        EpisodeSampler(x, {10, 11, 12, 13, 14, 15}, n_way=2, k_shot=1, n_query=0)
