"""On an input of one row, a signal laid out (C, 1, L), a pooling layer still halves the length: the
layer space and the builder judged pooling by the image's smaller side, so every pooling layer of
such an input was built as an identity and keyed as a skip, and the search could never pool."""

from __future__ import annotations

import itertools

import torch

from meta.nas import build_model_from_architecture, create_nas_search_space, make_space

SPACE = make_space(
    create_nas_search_space((2, 1, 16), 3, 2, operations=("conv3x3", "max_pool", "skip"), widths=(4,), activations=("relu",))
)


def _chain(*ops: str) -> dict:
    return SPACE._arch([{"op": op, "width": 4, "activation": "relu"} for op in ops])


def test_a_pooling_layer_on_one_row_halves_the_length() -> None:
    model = build_model_from_architecture(_chain("max_pool"))
    assert isinstance(model[0], torch.nn.MaxPool2d)
    assert model[0](torch.zeros(1, 2, 1, 16)).shape == (1, 2, 1, 8)
    assert SPACE.key(_chain("max_pool")) != SPACE.key(_chain("skip"))


def test_the_space_counts_the_pooled_networks_once_each() -> None:
    chains = [_chain(*ops) for n in (1, 2) for ops in itertools.product(SPACE.config.operations, repeat=n)]
    networks = {SPACE.key(a): repr(build_model_from_architecture(a)) for a in chains}
    # conv, pool or skip, then one of them after each: 3 + 9 networks, all built apart
    assert SPACE.size == len(networks) == len(set(networks.values())) == 12
