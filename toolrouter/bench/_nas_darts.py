"""DARTS on scikit-learn's digits for ``toolrouter bench nas``: the found cell against random cells."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from meta.data.digits import DigitsSplit, load_digits_split
from meta.nas import CellSearchSpace, build_model_from_architecture, create_nb201_search_space
from meta.nas.darts import DARTSConfig, run_darts


def train_and_test(arch: dict, split: DigitsSplit, epochs: int, seed: int, lr: float = 1e-2) -> float:
    """Train the built cell network with Adam on the training split; accuracy on the test split."""
    torch.manual_seed(seed)
    model = build_model_from_architecture(arch)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x = split.x_train.reshape(-1, 1, 8, 8)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 64):
            idx = order[i : i + 64]
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), split.y_train[idx]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        pred = model(split.x_test.reshape(-1, 1, 8, 8)).argmax(1)
    return float((pred == split.y_test).float().mean())


def darts_versus_random(
    channels: int, search_epochs: int, train_epochs: int, n_random: int, seed: int, max_train: int | None = None
) -> dict:
    """DARTS cell and ``n_random`` random cells, each trained the same way; their test accuracies.

    ``max_train`` keeps only the first rows of the training split (for toy runs).
    """
    split = load_digits_split()
    if max_train is not None:
        split = DigitsSplit(split.x_train[:max_train], split.y_train[:max_train], split.x_test, split.y_test)
    space = CellSearchSpace(create_nb201_search_space((1, 8, 8), 10, channels=channels))
    n = len(split.x_train) // 2
    # DARTS sees only the training split (half for weights, half for architecture weights).
    data = (split.x_train[:n], split.y_train[:n], split.x_train[n:], split.y_train[n:])
    result = run_darts(space, data, DARTSConfig(epochs=search_epochs, seed=seed))
    rng = np.random.default_rng(seed)
    randoms = [space.sample(rng) for _ in range(n_random)]
    return {
        "darts_arch": result.architecture,
        "darts_test": train_and_test(result.architecture, split, train_epochs, seed),
        "random_test": [train_and_test(a, split, train_epochs, seed) for a in randoms],
        "supernet_val": result.val_accuracy_history[-1],
        "op_probabilities": result.op_probabilities,
    }
