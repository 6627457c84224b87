"""A progressive network moved or converted before its first column (``.double()``, ``.to(device)``)
builds its columns there: they were built float32 on the CPU, since the network had no parameter
yet to tell where it was, and float64 task data was then refused."""

from __future__ import annotations

import torch

from meta import ContinualLearner
from meta.continual import ProgressiveNetwork


def test_a_bare_network_converted_to_float64_trains_on_float64_data() -> None:
    net = ProgressiveNetwork(4, [8], 2).double()
    learner = ContinualLearner(net, strategy="progressive", setting="task", seed=0)
    x = torch.randn(20, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    learner.train_task((x, (x[:, 0] > 0).long()), 0)
    learner.train_task((x, (x[:, 1] > 0).long()), 1)
    assert {p.dtype for p in net.parameters()} == {torch.float64} and net.dtype == torch.float64
    assert learner.predict(x, 1).dtype == torch.int64


def test_a_bare_network_moved_to_a_device_grows_its_columns_there() -> None:
    net = ProgressiveNetwork(4, [8], 2).to("meta")  # stands in for an accelerator
    net.add_column(0)
    net.add_column(1, torch.Generator().manual_seed(0))
    assert {p.device.type for p in net.parameters()} == {"meta"}


def test_where_columns_go_is_not_saved() -> None:
    net = ProgressiveNetwork(4, [8], 2)
    net.add_column(0)
    assert all(key.startswith("columns.0.") for key in net.state_dict())
