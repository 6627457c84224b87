"""ProgressiveNetwork.add_column refuses a generator that is no torch.Generator, naming it, and a
refused call leaves the network as it was: its columns still train."""

from __future__ import annotations

import pytest
import torch

from meta.continual.progressive import ProgressiveNetwork


def test_a_generator_that_is_not_one_is_named_and_nothing_changes() -> None:
    net = ProgressiveNetwork(3, [4], 2)
    net.add_column(0)
    with pytest.raises(TypeError, match=r"^generator: expected a torch.Generator or None, got int$"):
        net.add_column(1, generator=5)  # type: ignore[arg-type]
    assert net.num_columns == 1 and all(p.requires_grad for p in net.parameters())
    net.add_column(1, generator=torch.Generator().manual_seed(0))
    assert net.num_columns == 2
    assert not any(p.requires_grad for p in net.columns[0].parameters())
    assert all(p.requires_grad for p in net.columns[1].parameters())
