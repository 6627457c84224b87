"""Two gloo ranks as two processes on 127.0.0.1: what the distributed tests start their workers with."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_two_ranks(tmp_path: Path, worker: str) -> tuple[list[subprocess.Popen], list[str]]:
    """Run the script ``worker`` as ranks 0 and 1 of a world of two (each given its output file,
    ``tmp_path / "rank<r>.json"``, as its one argument) and wait for both: the processes and their
    output."""
    script = tmp_path / "worker.py"
    script.write_text(worker)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "MASTER_ADDR": "127.0.0.1",
           "MASTER_PORT": str(port), "WORLD_SIZE": "2"}
    procs = [
        subprocess.Popen([sys.executable, str(script), str(tmp_path / f"rank{r}.json")], cwd=ROOT,
                         env={**env, "RANK": str(r)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for r in (0, 1)
    ]
    try:
        outs = [p.communicate(timeout=120)[0] for p in procs]
    finally:
        for p in procs:
            p.kill()
    return procs, outs
