"""An EpisodeSampler takes a ``TensorDataset(x)`` with the labels given apart: its items are
``(example,)`` tuples, which were stacked whole and failed the first sample with torch's "only one
element tensors can be converted to Python scalars"."""

from __future__ import annotations

import torch
from torch.utils.data import TensorDataset

from meta import EpisodeSampler


def test_the_examples_of_one_element_tuples_are_taken() -> None:
    x, y = torch.randn(40, 3, generator=torch.Generator().manual_seed(0)), torch.arange(40) % 4
    from_dataset = EpisodeSampler(TensorDataset(x), y, n_way=2, k_shot=2, n_query=1, seed=0).sample()
    from_tensor = EpisodeSampler(x, y, n_way=2, k_shot=2, n_query=1, seed=0).sample()
    assert torch.equal(from_dataset.support_x, from_tensor.support_x)
    assert torch.equal(from_dataset.query_x, from_tensor.query_x)
