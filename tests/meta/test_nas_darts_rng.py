"""run_darts seeds its supernet from config.seed alone: the caller's global torch generator is left as it was."""

from __future__ import annotations

import numpy as np
import torch

from meta.nas import create_nb201_search_space, make_space
from meta.nas.darts import DARTSConfig, run_darts


def _data() -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(8, 1, 4, 4, generator=g), torch.randint(0, 10, (8,), generator=g)
    return x, y, x, y


def test_run_darts_leaves_the_global_generator_alone_and_depends_on_its_seed_only() -> None:
    space = make_space(create_nb201_search_space((1, 4, 4), 10, channels=2))
    alphas = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)
        before = torch.get_rng_state()
        alphas.append(run_darts(space, _data(), DARTSConfig(epochs=1, batch_size=4, seed=7)).alphas)
        assert torch.equal(torch.get_rng_state(), before)
    np.testing.assert_array_equal(alphas[0], alphas[1])
