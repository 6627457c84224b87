"""A mutation stays inside the space: in a space of one architecture it is that architecture, never one with fewer layers."""

from __future__ import annotations

import numpy as np
import pytest

from meta.nas import create_nas_search_space, make_space


@pytest.mark.parametrize("layers", [1, 2])
def test_mutating_the_only_architecture_of_a_layer_space_gives_it_back(layers: int) -> None:
    space = make_space(
        create_nas_search_space((4,), 2, max_layers=layers, min_layers=layers, operations=("dense",), widths=(8,), activations=("relu",))
    )
    assert space.size == 1
    arch = space.sample(np.random.default_rng(0))
    rng = np.random.default_rng(0)
    for _ in range(20):
        child = space.mutate(arch, rng)
        assert space.key(child) == space.key(arch)
        assert space.decode(space.to_params(child)) == arch
    # The generic rule (neighbours listed) agrees.
    assert type(space).__mro__[1].mutate(space, arch, rng) == arch


def test_a_depth_only_space_mutates_within_its_bounds() -> None:
    space = make_space(create_nas_search_space((4,), 2, max_layers=2, operations=("dense",), widths=(8,), activations=("relu",)))
    rng = np.random.default_rng(0)
    for depth in (1, 2):
        arch = space.decode({**space.to_params(space.sample(rng)), "num_layers": depth})
        assert len(space.mutate(arch, rng)["layers"]) == 3 - depth
