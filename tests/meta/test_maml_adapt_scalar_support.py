"""adapt_to_task refuses a 0-d support_x or support_y (one example without its example dimension)
with a TaskShapeError naming it: the empty query it cut from them failed first, with torch's
"slice() cannot be applied to a 0-dim tensor"."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from meta import MAML
from meta.base import TaskShapeError


@pytest.mark.parametrize("field", ["support_x", "support_y"])
def test_a_scalar_support_tensor_is_refused_naming_it(field: str) -> None:
    tensors = {"support_x": torch.ones(3, 1), "support_y": torch.ones(3, 1)}
    tensors[field] = torch.tensor(1.0)
    with pytest.raises(TaskShapeError, match=f"{field} must have an example dimension"):
        MAML(nn.Linear(1, 1)).adapt_to_task(tensors["support_x"], tensors["support_y"])
