"""Two architectures of a layer space that build the same network have one key and one code, and two
that build different networks have different keys: a residual dense layer of another width than its
input's builds a plain dense one, and pooling at 1x1 resolution builds the identity, as a skip does.
The space's size counts networks, so a search evaluates each once and stops when all are done."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from meta.nas import NeuralArchitectureSearch, build_model_from_architecture, create_nas_search_space, make_space

SPACES = {
    "vector": create_nas_search_space((2,), 2, max_layers=2, widths=(2, 3), activations=("relu", "tanh")),
    # 2x3 images: a third pooling layer meets 1x1 (3 -> 2 -> 1); no 'skip' among the ops, so the identity has no name
    "image": create_nas_search_space((1, 2, 3), 2, max_layers=3, operations=("max_pool", "avg_pool", "conv1x1"), widths=(2,), activations=("relu",)),
    "image_with_skip": create_nas_search_space((1, 2, 2), 2, max_layers=2, operations=("max_pool", "skip", "conv1x1"), widths=(2, 3), activations=("relu",)),
}


def _every_architecture(space):
    cfg = space.config
    layer_choices = [
        {"op": o, "width": w, "activation": a} for o, w, a in itertools.product(cfg.operations, cfg.widths, cfg.activations)
    ]
    for n in range(cfg.min_layers, cfg.max_layers + 1):
        for layers in itertools.product(layer_choices, repeat=n):
            yield space._arch([dict(x) for x in layers])


@pytest.mark.parametrize("name", sorted(SPACES))
def test_keys_are_equal_exactly_when_the_networks_are(name: str) -> None:
    space = make_space(SPACES[name])
    network_of_key: dict[str, str] = {}
    key_of_network: dict[str, str] = {}
    codes: dict[str, np.ndarray] = {}
    for arch in _every_architecture(space):
        network, key = repr(build_model_from_architecture(arch)), space.key(arch)
        assert network_of_key.setdefault(key, network) == network, key
        assert key_of_network.setdefault(network, key) == key, network
        np.testing.assert_array_equal(codes.setdefault(key, space.encode(arch)), space.encode(arch))
    assert space.size == len(key_of_network)


def test_a_residual_layer_of_another_width_is_the_dense_layer() -> None:
    space = make_space(SPACES["vector"])
    residual = space._arch([{"op": "residual_dense", "width": 3, "activation": "relu"}])
    dense = space._arch([{"op": "dense", "width": 3, "activation": "relu"}])
    same_width = space._arch([{"op": "residual_dense", "width": 2, "activation": "relu"}])
    assert space.key(residual) == space.key(dense) != space.key(same_width)
    assert all(space.key(n) != space.key(residual) for n in space.neighbours(residual))


def test_a_search_evaluates_each_network_once_and_stops_when_all_are_done() -> None:
    space = make_space(SPACES["image"])
    networks: list[str] = []

    def evaluate(arch: dict) -> float:
        networks.append(repr(build_model_from_architecture(arch)))
        return float(len(networks))

    NeuralArchitectureSearch(space, "random", seed=0).search_architecture(evaluate, num_evaluations=500)
    assert len(networks) == len(set(networks)) == space.size
