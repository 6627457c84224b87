"""Shared fixtures of the meta tests."""

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread: None) -> None:
    """Every meta test module runs torch on one thread (see ``tests/conftest.py``)."""


@pytest.fixture
def one_process_group() -> Iterator[None]:
    """A gloo process group of this process alone (rank 0 of 1), destroyed after the test."""
    import torch.distributed as dist

    if dist.is_initialized():
        pytest.skip("a process group is already initialised in this process")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    yield
    dist.destroy_process_group()
