"""detect_collapse compares predictions with the labels of the same examples: labels of another
count are refused naming them (they were compared share against share, and empty ones raised
torch's max() error)."""

from __future__ import annotations

import pytest
import torch

from meta.continual import detect_collapse


@pytest.mark.parametrize("labels", [torch.tensor([0, 1]), torch.tensor([], dtype=torch.long), torch.zeros(4, 1, dtype=torch.long)])
def test_labels_of_other_examples_are_refused(labels: torch.Tensor) -> None:
    with pytest.raises(ValueError, match=r"labels: expected one label per prediction, shape \(4,\)"):
        detect_collapse(torch.tensor([1, 1, 1, 1]), labels)
