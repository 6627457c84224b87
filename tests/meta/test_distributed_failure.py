"""A meta-step that fails on one of 2 gloo processes ends on both, naming the failed rank."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from meta.distributed import init_from_env

ROOT = Path(__file__).resolve().parents[2]

# Each rank runs three steps; in the second, task 1 (in rank 1's shard) has no query example, so
# only rank 1's share fails. Every rank catches the error and goes on, as a long-running job would.
WORKER = """
import json, os, sys, time
from datetime import timedelta
import torch, torch.distributed as dist
from torch import nn
from meta.distributed import DistributedMetaTrainer
from meta.maml import MAML

def threads():
    return set(os.listdir("/proc/self/task"))

before = threads()
dist.init_process_group("gloo", timeout=timedelta(seconds=60))
group_threads = threads() - before
rank = dist.get_rank()
torch.manual_seed(0)
trainer = DistributedMetaTrainer(MAML(nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)), num_inner_steps=1))
gen = torch.Generator().manual_seed(0)

def task(query=3):
    return (torch.randn(3, 1, generator=gen), torch.randn(3, 1, generator=gen),
            torch.randn(query, 1, generator=gen), torch.randn(query, 1, generator=gen))

errors = []
for step in range(3):
    tasks = [task(), task(0 if step == 1 else 3), task(), task()]
    start = time.perf_counter()
    try:
        trainer.meta_train_step(tasks)
    except Exception as exc:
        errors.append([step, type(exc).__name__, str(exc), time.perf_counter() - start])
weights = [p.detach().flatten().tolist() for p in trainer.learner.meta_parameters()]
dist.barrier()
dist.destroy_process_group()
deadline = time.monotonic() + 5  # a joined thread can be listed a moment longer
while group_threads & threads() and time.monotonic() < deadline:
    time.sleep(0.01)
out = {"errors": errors, "weights": weights, "steps": trainer.learner.meta_step_count,
       "group_threads_left": len(group_threads & threads())}
open(sys.argv[1] + f"/rank{rank}.json", "w").write(json.dumps(out))
"""


def test_a_step_failing_on_one_rank_fails_on_all_naming_it_and_keeps_them_in_step(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script), str(tmp_path)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert [e[:2] for e in rank1["errors"]] == [[1, "TaskShapeError"]]
    assert [e[:2] for e in rank0["errors"]] == [[1, "RankFailedError"]]
    assert rank0["errors"][0][2].startswith("rank 1: failed in this meta-step")
    assert rank0["errors"][0][3] < 30  # it did not wait for the collective timeout
    # neither took the failed step, and the next one paired up with the same step on the other rank
    assert rank0["steps"] == rank1["steps"] == 2
    assert rank0["weights"] == rank1["weights"]
    # destroy_process_group ended the group's gloo threads, the failed rank's too: left running,
    # they were torn down at interpreter exit, which could abort the worker
    assert rank0["group_threads_left"] == rank1["group_threads_left"] == 0


def test_the_collective_timeout_is_checked_before_any_group_is_made() -> None:
    for bad in (0, -5.0, float("nan")):
        with pytest.raises(ValueError, match=f"timeout_s: expected a finite number > 0, got {bad!r}"):
            init_from_env("gloo", timeout_s=bad)
