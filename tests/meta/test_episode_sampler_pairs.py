"""An EpisodeSampler given a dataset of ``(example, label)`` pairs and the labels as well takes the
example of each pair: it stacked the whole pair, which put the label into the input of a
one-feature dataset (examples of shape (2,)) and failed with torch's error for wider ones."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import TensorDataset

from meta import EpisodeSampler


def _data(features: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(40, features, generator=torch.Generator().manual_seed(0)), torch.arange(40) % 4


def test_the_examples_of_pairs_are_taken_when_labels_are_given_too() -> None:
    for features in (1, 3):
        x, y = _data(features)
        from_pairs = EpisodeSampler(TensorDataset(x, y), y, n_way=2, k_shot=2, n_query=1, seed=0).sample()
        from_tensor = EpisodeSampler(x, y, n_way=2, k_shot=2, n_query=1, seed=0).sample()
        assert torch.equal(from_pairs.support_x, from_tensor.support_x)
        assert torch.equal(from_pairs.query_x, from_tensor.query_x)


def test_examples_that_are_not_pairs_are_taken_whole() -> None:
    x, y = _data(2)
    points = [tuple(row.tolist()) for row in x]  # a point as a tuple of two numbers is one example
    arrays = [np.asarray(row) for row in x]
    for data in (points, arrays):
        episode = EpisodeSampler(data, y, n_way=2, k_shot=2, n_query=1, seed=0).sample()
        assert torch.allclose(episode.support_x, EpisodeSampler(x, y, n_way=2, k_shot=2, n_query=1, seed=0).sample().support_x)
