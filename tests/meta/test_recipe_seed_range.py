"""Seeds a torch generator cannot take are refused, naming the seed, where a recipe or a DARTS run is
set up: ProtoNetRecipe took 2**64 - 1 (its augmentation seeds seed + 1) and any larger seed, and
DARTSConfig any seed, and both failed later with torch's "Overflow when unpacking long long",
DARTS inside a search whose study was already open."""

from __future__ import annotations

import pytest
import torch

from meta import NeuralArchitectureSearch, create_nb201_search_space
from meta.nas.darts import DARTSConfig
from meta.protonet_recipe import ProtoNetRecipe


@pytest.mark.parametrize("seed", [2**64 - 1, 2**70, -(2**63) - 1])
def test_a_protonet_recipe_refuses_a_seed_out_of_range(seed: int) -> None:
    with pytest.raises(ValueError, match="seed"):
        ProtoNetRecipe(seed=seed)


def test_a_protonet_recipe_takes_the_largest_seed_its_augmentation_can_add_one_to() -> None:
    assert ProtoNetRecipe(seed=2**64 - 2).seed + 1 == 2**64 - 1


def test_darts_options_with_a_seed_out_of_range_are_refused_when_the_search_is_made() -> None:
    space = create_nb201_search_space((1, 4, 4), 2, channels=2)
    data = (torch.rand(4, 16), torch.tensor([0, 1, 0, 1]), torch.rand(4, 16), torch.tensor([0, 1, 0, 1]))
    with pytest.raises(ValueError, match="seed"):
        NeuralArchitectureSearch(space, "darts", darts_data=data, darts_options={"seed": 2**64})
    assert DARTSConfig(seed=2**64 - 1).seed == 2**64 - 1
