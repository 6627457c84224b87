"""Shared fixtures of the meta tests."""

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_thread(one_torch_thread: None) -> None:
    """Every meta test module runs torch on one thread (see ``tests/conftest.py``)."""
