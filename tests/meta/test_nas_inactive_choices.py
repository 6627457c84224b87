"""A pooling or skip layer has no width and no activation: architectures that differ only there build
the same network, so the layer space counts, keys, encodes and evaluates them as one."""

from __future__ import annotations

import numpy as np

from meta.nas import NeuralArchitectureSearch, build_model_from_architecture, create_nas_search_space, make_space

SPACE = create_nas_search_space((1, 4, 4), 2, max_layers=2, operations=("max_pool", "skip", "conv1x1"), widths=(2, 3), activations=("relu", "tanh"))


def _networks(space) -> set[str]:
    """Every distinct network of the space, told apart by its parameter shapes and its modules."""
    found = set()
    for n in (1, 2):
        for ops in np.ndindex(*(3,) * n):
            for widths in np.ndindex(*(2,) * n):
                for acts in np.ndindex(*(2,) * n):
                    layers = [
                        {"op": space.config.operations[o], "width": space.config.widths[w], "activation": space.config.activations[a]}
                        for o, w, a in zip(ops, widths, acts)
                    ]
                    found.add(repr(build_model_from_architecture(space._arch(layers))))
    return found


def test_the_size_counts_distinct_networks() -> None:
    space = make_space(SPACE)
    # per layer: max_pool, skip, and conv1x1 with 2 widths x 2 activations
    assert space.size == 6 + 6**2 == len(_networks(space))


def test_a_search_never_evaluates_the_same_network_twice_and_stops_when_all_are_done() -> None:
    networks: list[str] = []

    def evaluate(arch: dict) -> float:
        networks.append(repr(build_model_from_architecture(arch)))
        return float(len(networks))

    nas = NeuralArchitectureSearch(SPACE, "random", seed=0)
    nas.search_architecture(evaluate, num_evaluations=60)
    assert len(networks) == len(set(networks)) == 42


def test_neighbours_and_mutations_change_the_network() -> None:
    space = make_space(SPACE)
    pool = {"op": "max_pool", "width": 2, "activation": "relu"}
    arch = space._arch([pool, {"op": "conv1x1", "width": 3, "activation": "tanh"}])
    assert space.key(arch) == space.key(space._arch([{**pool, "width": 3, "activation": "tanh"}, arch["layers"][1]]))
    rng = np.random.default_rng(0)
    children = space.neighbours(arch) + [space.mutate(arch, rng) for _ in range(30)]
    assert all(space.key(c) != space.key(arch) for c in children)
    twin = space._arch([{**pool, "width": 3}, arch["layers"][1]])
    np.testing.assert_array_equal(space.encode(arch), space.encode(twin))
