"""While the gateway serves over stdio, fd 1 points at stderr (stray output cannot break the
protocol's stream); once serving ends, however it ends, fd 1 is this process's stdout again, so a
caller that goes on running prints where it did before."""

from __future__ import annotations

import contextlib
import os

import pytest

from integrations.mcp.gateway import _stdout_pipe

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(30)]


def same_file(a: int, b: int) -> bool:
    sa, sb = os.fstat(a), os.fstat(b)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


@pytest.mark.parametrize("ends", ["normally", "raising"])
async def test_fd_1_is_stdout_again_once_serving_ends(ends: str) -> None:
    read, write = os.pipe()
    saved = os.dup(1)  # the test runner's own fd 1, put back at the end
    try:
        os.dup2(write, 1)
        with pytest.raises(RuntimeError) if ends == "raising" else contextlib.nullcontext():
            async with _stdout_pipe() as wire:
                assert wire is not None  # a pipe: served by the gateway's writer
                assert same_file(1, 2)  # stray output goes to stderr meanwhile
                await wire.write("answer\n")
                if ends == "raising":
                    raise RuntimeError("serving failed")
        assert same_file(1, write)
        os.write(1, b"after\n")
    finally:
        os.dup2(saved, 1)
        for fd in (saved, write):
            os.close(fd)
    with os.fdopen(read, "rb") as pipe:
        assert pipe.read() == b"answer\nafter\n"

