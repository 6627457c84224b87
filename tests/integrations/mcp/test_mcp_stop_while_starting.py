"""SIGTERM while the gateway starts its servers (one slow to answer) stops them and the gateway,
over stdio and over HTTP, as it does once serving: the gateway listened for it only once every
server's first attempt had ended (up to connect_timeout_s later), and before, SIGTERM's default
action ended it at once, leaving a server that does not watch its stdin running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcp_harness import ROOT, alive, free_port, pids_in, wait_gone, write_config

pytestmark = pytest.mark.timeout(60)

#: A server that writes its pid, then neither reads its stdin nor answers: only a signal ends it.
MUTE = "import os, sys, time; open(os.path.join(sys.argv[1], f'{os.getpid()}.pid'), 'w').write('mute'); time.sleep(300)"


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_sigterm_while_the_servers_start_stops_them_and_the_gateway(tmp_path: Path, pid_dir: Path, transport: str) -> None:
    mute = {"command": sys.executable, "args": ["-c", MUTE, str(pid_dir)], "connect_timeout_s": 60}
    config = write_config(tmp_path, {"mute": mute})
    http = ["--http", f"127.0.0.1:{free_port()}"] if transport == "http" else []
    gateway = subprocess.Popen(
        [sys.executable, "-m", "toolrouter.cli", "mcp", "serve", str(config), *http],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=open(tmp_path / "stderr", "w"),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not pids_in(pid_dir):  # the server has started; the gateway waits for its answer
            assert time.monotonic() < deadline and gateway.poll() is None, (tmp_path / "stderr").read_text()
            time.sleep(0.05)
        gateway.send_signal(signal.SIGTERM)
        assert gateway.wait(timeout=30) == 0, (tmp_path / "stderr").read_text()  # stopped, not killed by it
        assert not wait_gone(pids_in(pid_dir))
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()
        for pid in alive(pids_in(pid_dir)):  # what the old gateway left behind
            os.kill(pid, signal.SIGKILL)
