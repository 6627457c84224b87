"""What the stdio gateway makes of the ends of its stdin and stdout. Started with either closed
(``toolrouter mcp serve CONFIG <&-``) it exits with one line naming it, as for a bad option: it
crashed with a traceback, and a descriptor opened since (a config, a store) could take the
number and be read as the client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mcp_harness import ROOT, write_config

pytestmark = pytest.mark.timeout(60)


def serve(config: Path, end: socket.socket, closing: str = "") -> subprocess.Popen[bytes]:
    """``toolrouter mcp serve CONFIG`` with ``end`` as its stdin and stdout, less the redirections of ``closing``."""
    command = [sys.executable, "-m", "toolrouter.cli", "mcp", "serve", str(config)]
    return subprocess.Popen(
        ["sh", "-c", f'exec "$@" {closing}', "sh", *command], stdin=end, stdout=end, stderr=subprocess.PIPE,
        cwd=str(ROOT), env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip


def test_a_closed_stdin_or_stdout_is_refused_naming_it(tmp_path: Path) -> None:
    store = tmp_path / "gateway.db"
    config = write_config(tmp_path, {"a": {"command": "/nonexistent/server"}}, router={"store": f"sqlite:///{store}"})
    ours, theirs = socket.socketpair()
    with ours, theirs:
        for name, closing in (("stdin", "<&-"), ("stdout", ">&-")):
            process = serve(config, theirs, closing)
            _, err = process.communicate(timeout=30)
            assert process.returncode == 2, err
            assert err.decode().startswith(f"toolrouter mcp serve: {name}: closed") and err.count(b"\n") == 1, err
    assert not store.exists()  # refused before the router's store was opened
