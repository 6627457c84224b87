"""detect_collapse checks its threshold as every number argument is checked: True passed for 1.0
and a threshold given as a string failed with the bare "'<' not supported between float and str"."""

from __future__ import annotations

import pytest
import torch

from meta import detect_collapse


@pytest.mark.parametrize("threshold", [True, "0.9"])
def test_a_threshold_that_is_no_number_in_range_is_refused_naming_it(threshold: object) -> None:
    with pytest.raises(ValueError, match=r"threshold: expected a finite number in \(0, 1\], got"):
        detect_collapse(torch.tensor([1, 1, 1, 0]), torch.tensor([0, 1, 2, 3]), threshold=threshold)  # type: ignore[arg-type]
