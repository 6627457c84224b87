"""Distributed meta-training: 2 gloo processes launched by torchrun match one process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

from meta.distributed import DistributedMetaTrainer, train_sinusoid
from meta.maml import MultiTaskMAML

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("algorithm", ["maml"])
def test_two_gloo_processes_match_one_process(tmp_path: Path, algorithm: str) -> None:
    out = tmp_path / f"{algorithm}.safetensors"
    cmd = [
        # --standalone: torchrun binds its own free rendezvous port (no race for a port picked here)
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m", "meta.distributed", "--steps", "3", "--hidden", "8",
        "--meta-batch", "6", "--algorithm", algorithm, "--backend", "gloo", "--save", str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    # the root cause of a worker's failure is printed by the worker, before torchrun's summary
    assert done.returncode == 0, "\n".join(
        line for line in done.stderr.splitlines() if "rror" in line or "what()" in line or "abort" in line.lower()
    )[-4000:] or done.stderr[-2000:]
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        single = train_sinusoid(3, algorithm, meta_batch=6, hidden=8)
        restored = train_sinusoid(0, algorithm, meta_batch=6, hidden=8, seed=1)
    finally:
        torch.set_num_threads(previous)
    info = restored.load(str(out))
    # save writes the path vectorize="auto" chose in the run, and load puts it back
    assert info.pop("execution_path") == restored.path in ("vmap", "loop")
    assert info == {"class": "MAML", "meta_step_count": 3, "settings": restored.settings(), "steps": 3, "world_size": 2}
    assert restored.meta_step_count == 3  # a resumed run goes on at step 4
    moved = False
    for (name, a), (_, b) in zip(single.state_dict().items(), restored.state_dict().items()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6, msg=name)
        moved |= not torch.equal(a, train_sinusoid(0, algorithm, meta_batch=6, hidden=8).state_dict()[name])
    assert moved  # the three steps did change the model


def test_trainer_needs_a_process_group_and_refuses_multitask_maml() -> None:
    if dist.is_initialized():
        pytest.skip("a process group is already initialised in this process")
    with pytest.raises(RuntimeError, match="not initialised"):
        DistributedMetaTrainer(train_sinusoid(0, hidden=4))
    port = _free_port()
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=0, world_size=1)
    try:
        with pytest.raises(TypeError, match="MultiTaskMAML"):
            DistributedMetaTrainer(MultiTaskMAML(torch.nn.Linear(1, 1)))
    finally:
        dist.destroy_process_group()
