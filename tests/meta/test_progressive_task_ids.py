"""ProgressiveNetwork's task ids: one id as a Python or numpy integer or a one-element tensor, or a
1-d integer tensor of one id per sample; other ids are refused naming ``task_ids`` (a float id 0.5
picked task 0's column, a tensor id raised "'int' object is not iterable"), and an empty batch has
empty outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from meta.continual import ProgressiveNetwork


def _net() -> ProgressiveNetwork:
    torch.manual_seed(0)
    net = ProgressiveNetwork(4, [8], 2)
    net.add_column(0)
    net.add_column(3)
    return net


@pytest.mark.parametrize("task_id", [3, np.int64(3), torch.tensor(3), torch.tensor([3])])
def test_one_task_id_in_any_integer_form_picks_its_column(task_id: object) -> None:
    net, x = _net(), torch.randn(3, 4)
    torch.testing.assert_close(net(x, task_id), net(x, torch.tensor([3, 3, 3])))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("task_ids", "error", "message"),
    [
        (torch.tensor([0.0, 0.5, 3.0]), TypeError, "task_ids: expected integer task ids, got a torch.float32 tensor"),
        (torch.tensor(0.5), TypeError, "task_ids: expected an integer, got 0.5"),
        (torch.tensor([0, 3]), ValueError, r"task_ids: expected one id per sample, shape \(3,\), got \(2,\)"),
    ],
)
def test_ids_that_are_not_one_integer_per_sample_are_named(task_ids: torch.Tensor, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        _net()(torch.randn(3, 4), task_ids)


def test_an_empty_batch_has_empty_outputs() -> None:
    assert _net()(torch.randn(0, 4), 3).shape == (0, 2)
