"""Fixtures of the MCP gateway's tests: asyncio under anyio's pytest plugin, and a folder where
every upstream test server writes its pid, checked at the end: no process outlives its test."""

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mcp", reason="the MCP SDK is not installed: pip install 'toolrouter[mcp]'")

from mcp_harness import pids_in, wait_gone  # noqa: E402


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def pid_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "pids"
    folder.mkdir()
    yield folder
    assert not wait_gone(pids_in(folder)), "an upstream server outlived its test"
