"""A distributed run resumed from a checkpoint that only rank 0 loads: the trainer hands rank 0's
meta-optimiser state (Adam's moments and step counts), meta-step count and execution path to every
rank with the parameters, so the ranks take the same steps on the same path, none timing the paths
afresh (2 gloo processes launched by torchrun)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch
from torch import nn

from meta.maml import MAML

ROOT = Path(__file__).resolve().parents[2]

WORKER = """
import json, sys
from datetime import timedelta
import torch, torch.distributed as dist
from torch import nn
from meta.distributed import DistributedMetaTrainer
from meta.maml import MAML

dist.init_process_group("gloo", timeout=timedelta(seconds=60))
rank = dist.get_rank()
torch.manual_seed(rank)  # each rank starts from other weights
learner = MAML(nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)))
if rank == 0:
    learner.load(sys.argv[2])  # the resumed run: only rank 0 reads the checkpoint it wrote
trainer = DistributedMetaTrainer(learner)
gen = torch.Generator().manual_seed(1)
for _ in range(2):
    trainer.meta_train_step([tuple(torch.randn(4, 1, generator=gen) for _ in range(4)) for _ in range(4)])
weights = [p.detach().flatten().tolist() for p in learner.meta_parameters()]
steps = [float(s["step"]) for s in learner.meta_optimizer.state_dict()["state"].values()]
out = {"weights": weights, "meta_step_count": learner.meta_step_count, "adam_steps": steps,
       "path": learner.path, "timed": sorted(learner.path_timings_s)}
open(sys.argv[1] + f"/rank{rank}.json", "w").write(json.dumps(out))
dist.barrier()
dist.destroy_process_group()
"""


def test_ranks_resumed_from_rank_0s_checkpoint_stay_equal(tmp_path: Path) -> None:
    torch.manual_seed(0)
    saved = MAML(nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1)))
    gen = torch.Generator().manual_seed(0)
    for _ in range(3):
        saved.meta_train_step([tuple(torch.randn(4, 1, generator=gen) for _ in range(4)) for _ in range(4)])
    checkpoint = tmp_path / "maml.safetensors"
    saved.save(str(checkpoint))
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script), str(tmp_path), str(checkpoint)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert rank0["weights"] == rank1["weights"]
    assert rank0["meta_step_count"] == rank1["meta_step_count"] == 5
    assert rank0["adam_steps"] == rank1["adam_steps"] == [5.0] * 4
    assert rank0["path"] == rank1["path"] == saved.path in ("vmap", "loop")
    assert rank0["timed"] == rank1["timed"] == []
