"""An EpisodeSampler without labels reads them from ``(example, label)`` pairs only: given a tensor
or an array, it read each example's second feature as its label (and, from a tensor, took the rows
whole as the examples), so integer data trained on one of its own features as the class."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from meta import EpisodeSampler

# 40 examples of 3 integer features, the second of which takes 4 values 10 times each
_ROWS = torch.arange(120).reshape(40, 3) % 4


@pytest.mark.parametrize("data", [_ROWS, _ROWS.numpy(), list(_ROWS)])
def test_data_that_holds_no_labels_is_refused_naming_labels(data: object) -> None:
    with pytest.raises(TypeError, match=r"labels: None reads each item of data as an \(example, label\) pair"):
        EpisodeSampler(data, n_way=2, k_shot=2, n_query=1)


def test_pairs_without_labels_still_give_their_labels() -> None:
    x = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    pairs = [(x[i], i % 4) for i in range(40)]
    episode = EpisodeSampler(pairs, n_way=2, k_shot=2, n_query=1, seed=0).sample()
    given = EpisodeSampler(torch.as_tensor(x), [i % 4 for i in range(40)], n_way=2, k_shot=2, n_query=1, seed=0).sample()
    assert torch.equal(episode.support_x, given.support_x)
