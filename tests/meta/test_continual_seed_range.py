"""A seed torch's generators cannot take is refused naming the seed (torch said only "Overflow when
unpacking long long"); the extremes of the range are seeds."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import EWC, ContinualLearner, DriftAdapter, ExperienceReplay, Progressive, create_meta_batch


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1])
def test_a_seed_out_of_the_generators_range_is_named(seed: int) -> None:
    makers = [
        lambda: EWC(seed=seed),
        lambda: ExperienceReplay(seed=seed),
        lambda: Progressive(seed=seed),
        lambda: DriftAdapter(nn.Linear(3, 1), seed=seed),
        lambda: create_meta_batch([(torch.zeros(1, 1),) * 4] * 3, batch_size=2, seed=seed),
    ]
    for make in makers:
        with pytest.raises(ValueError, match=f"seed: expected an integer in .*, got {seed}"):
            make()
    with pytest.raises(ValueError, match="seed"):
        ContinualLearner(nn.Linear(3, 2), seed=seed)


def test_the_ends_of_the_range_are_seeds() -> None:
    for seed in (2**64 - 1, -(2**63)):
        ContinualLearner(nn.Linear(3, 2), strategy="ewc+replay", seed=seed)
