"""EpisodeSampler over torch Datasets and sequences: labels held in tensors, episodes without queries."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import TensorDataset

from meta.data.episodes import EpisodeSampler

X, Y = torch.randn(60, 3), torch.arange(60) % 6


@pytest.mark.parametrize(
    "data, labels",
    [
        (TensorDataset(X, Y), None),  # items are (x, 0-d tensor) pairs
        (X, list(Y)),  # a list of 0-d tensors
        (X, list(Y.numpy())),  # numpy scalars
        (X, [np.array([int(y)]) for y in Y]),  # one-element arrays
    ],
)
def test_labels_held_in_tensors_count_by_their_value(data, labels) -> None:  # type: ignore[no-untyped-def]
    # a tensor hashes by identity: every example was a class of its own, and no class had enough
    sampler = EpisodeSampler(data, labels, n_way=3, k_shot=2, n_query=3, seed=0)
    assert sorted(sampler.classes) == list(range(6))
    reference = EpisodeSampler(X, Y, n_way=3, k_shot=2, n_query=3, seed=0)
    got, expected = sampler.sample(), reference.sample()
    for a, b in zip(got.as_tuple(), expected.as_tuple()):
        assert torch.equal(a, b)


def test_a_label_of_several_values_is_named() -> None:
    with pytest.raises(TypeError, match=r"labels\[0\] holds 2 values"):
        EpisodeSampler(X, [torch.tensor([0, 1])] * 60, n_way=1, k_shot=1, n_query=1)


def test_episodes_without_query_examples_from_a_sequence_of_pairs() -> None:
    pairs = [(X[i], int(Y[i])) for i in range(60)]
    episode = EpisodeSampler(pairs, n_way=3, k_shot=2, n_query=0, seed=0).sample()
    assert episode.support_x.shape == (6, 3) and episode.query_x.shape == (0, 3)
    assert episode.query_x.dtype == episode.support_x.dtype and episode.query_y.shape == (0,)
