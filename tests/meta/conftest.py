"""Shared fixtures of the meta tests."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    # CI's two cores are shared: several intra-op threads spin against each other there (a 40x
    # slow-down was measured on the float64 conv checks); one thread does not.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
