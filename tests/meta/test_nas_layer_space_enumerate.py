"""A layer space small enough to have a ``size`` lists its architectures, one per distinct network,
as the cell space does: ``enumerate`` said "too large to enumerate" for a space of 42 networks, so
the Bayesian search could not score every unseen one as it does on cells, and the samplers' draw of
an unseen architecture missed the last few and gave back one already evaluated."""

from __future__ import annotations

import numpy as np
import pytest

from meta.nas.samplers import SurrogateSampler
from meta.nas.space import create_nas_search_space, make_space

SPACES = [
    # residual layers of another width than their input's build dense ones
    create_nas_search_space((4,), 2, 2, widths=(4, 8), activations=("relu", "tanh")),
    # one row: pooling reduces the length until it is 1, then builds a skip
    create_nas_search_space((1, 1, 7), 2, 3, min_layers=2, widths=(2,), activations=("relu",)),
]


@pytest.mark.parametrize("config", SPACES, ids=["vector", "image"])
def test_a_small_layer_space_lists_each_of_its_networks_once(config) -> None:
    space = make_space(config)
    archs = list(space.enumerate())
    keys = [space.key(a) for a in archs]
    assert len(archs) == len(set(keys)) == space.size
    assert all(space.decode(space.to_params(a)) == a for a in archs)
    rng = np.random.default_rng(0)
    assert {space.key(space.sample(rng)) for _ in range(2000)} <= set(keys)
    listed, codes, arch_at = space.catalogue()
    assert listed == keys and codes.shape[0] == space.size and arch_at(3) == archs[3]


def test_the_last_unseen_architecture_is_found() -> None:
    space = make_space(SPACES[0])
    rng = np.random.default_rng(0)
    keys = sorted({space.key(space.sample(rng)) for _ in range(2000)})
    assert len(keys) == space.size
    sampler = SurrogateSampler(space, seed=0)
    for last in keys[:5]:
        assert space.key(sampler.random_unseen(set(keys) - {last})) == last


def test_a_space_too_large_for_a_size_still_refuses_to_enumerate() -> None:
    space = make_space(create_nas_search_space((3, 32, 32), 10, 20))
    assert space.size is None
    with pytest.raises(NotImplementedError, match="too large to enumerate"):
        next(space.enumerate())
