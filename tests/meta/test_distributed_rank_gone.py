"""A rank whose process dies during a meta-step is named in the error the other rank raises."""

from __future__ import annotations

import json
from pathlib import Path

from two_ranks import run_two_ranks

# Rank 1 dies (SIGKILL) while computing its share of the second step; rank 0 is then in the
# step's all-reduce, which gloo fails with "Connection closed by peer".
WORKER = """
import json, os, signal, sys
from datetime import timedelta
import torch, torch.distributed as dist
from torch import nn
from meta.distributed import DistributedMetaTrainer
from meta.maml import MAML

dist.init_process_group("gloo", timeout=timedelta(seconds=60))
rank = dist.get_rank()
torch.manual_seed(0)
learner = MAML(nn.Sequential(nn.Linear(1, 4), nn.Tanh(), nn.Linear(4, 1)), num_inner_steps=1)
trainer = DistributedMetaTrainer(learner)
compute = learner.compute_meta_gradients

def dying(*args, **kwargs):
    if learner.meta_step_count == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    return compute(*args, **kwargs)

if rank == 1:
    learner.compute_meta_gradients = dying
tasks = [tuple(torch.randn(3, 1) for _ in range(4)) for _ in range(4)]
error = None
for step in range(2):
    try:
        trainer.meta_train_step(tasks)
    except Exception as exc:
        error = [step, type(exc).__name__, str(exc)]
        break
open(sys.argv[1], "w").write(json.dumps({"error": error, "steps": learner.meta_step_count}))
os._exit(0)
"""


def test_a_rank_killed_mid_step_is_named_by_the_rank_that_survives(tmp_path: Path) -> None:
    procs, outs = run_two_ranks(tmp_path, WORKER)
    assert procs[1].returncode == -9, outs[1][-2000:]
    assert procs[0].returncode == 0, outs[0][-2000:]
    rank0 = json.loads((tmp_path / "rank0.json").read_text())
    step, kind, message = rank0["error"]
    assert (step, kind, rank0["steps"]) == (1, "RankFailedError", 1), message
    assert message.startswith(f"rank 1 (pid {procs[1].pid}): its process ended"), message
