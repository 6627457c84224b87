"""While the gateway serves over stdio, fd 1 points at stderr (stray output cannot break the
protocol's stream); once serving ends, however it ends, fd 1 is this process's stdout again, so a
caller that goes on running prints where it did before. Redirected to a file, it is written by the
gateway's writer as a pipe is."""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

import anyio
import mcp_types as types
import pytest

from integrations.mcp.config import GatewayConfig
from integrations.mcp.gateway import Gateway, _DirectAnswers, _stdout_pipe

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
                wire.send("answer\n")
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



async def test_stdout_redirected_to_a_file_gets_the_gateways_writer(tmp_path: Any) -> None:
    # the gateway's writer served pipes and sockets only: with stdout a file the SDK's took over,
    # and what only the gateway answers (a batch, a malformed request) went unanswered
    gateway = Gateway(GatewayConfig.model_validate({"mcpServers": {"a": {"command": "x"}}}))
    out = tmp_path / "out.jsonl"
    saved = os.dup(1)
    try:
        with out.open("wb") as file:
            os.dup2(file.fileno(), 1)
            async with _stdout_pipe() as wire:
                assert wire is not None and same_file(1, 2)
                answers = _DirectAnswers(gateway, wire)
                assert answers.refuse_malformed('[{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}]\n')
                await anyio.sleep(0)  # written once the event loop has run what is ready
            assert same_file(1, file.fileno())
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        gateway.middleware.close()
    (reply,) = json.loads(out.read_text())
    assert (reply["id"], reply["error"]["code"]) == (1, types.INVALID_REQUEST)
