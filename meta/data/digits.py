"""scikit-learn's bundled 8x8 digits: the small real dataset for continual-learning and NAS runs.

Shipped inside scikit-learn, so nothing is downloaded. Pixels are scaled to [0, 1] and split 70/30,
stratified, with ``random_state=0`` unless told otherwise, so every benchmark sees the same split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from meta._checks import check_count, check_real


# equal only to itself, as its tensors are: a field-wise == compares tensors elementwise and raised
@dataclass(frozen=True, eq=False)
class DigitsSplit:
    """Train and test tensors: x as float32 (n, 64) in [0, 1], y as int64 (n,)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_digits_split(test_size: float = 0.3, random_state: int = 0) -> DigitsSplit:
    """The digits dataset, scaled to [0, 1], in a stratified train/test split.

    Raises ImportError with the install hint when scikit-learn is missing, and ValueError naming
    ``test_size`` unless a number in (0, 1), or ``random_state`` unless an integer in [0, 2**32 - 1]
    (scikit-learn's range; a bool is no seed).
    """
    test_size = check_real("test_size", test_size, low=0, high=1, low_open=True, high_open=True)
    random_state = check_count("random_state", random_state, high=2**32 - 1)
    try:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
    except ImportError as exc:  # scikit-learn is an optional (dev/bench) dependency
        raise ImportError("the digits dataset needs scikit-learn: pip install scikit-learn") from exc
    data = load_digits()
    x = (data.data / 16.0).astype(np.float32)
    y = data.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=test_size, stratify=y, random_state=random_state
    )
    return DigitsSplit(
        torch.from_numpy(x_tr), torch.from_numpy(y_tr), torch.from_numpy(x_te), torch.from_numpy(y_te)
    )
