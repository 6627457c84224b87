"""DistributedMetaTrainer's set-up fails on every rank together: a failure of rank 0 while it
prepares its meta-optimiser state for the others (only a TypeError was passed on; any other error
left them waiting in the broadcast until the collective timeout), and a group this process is not a
member of is refused naming it (torch's rank -1 failed later, at the shard)."""

from __future__ import annotations

import json
from pathlib import Path

from two_ranks import run_two_ranks

WORKER = """
import json, os, sys
from datetime import timedelta
import torch, torch.distributed as dist
from torch import nn
from meta.distributed import DistributedMetaTrainer
from meta.maml import MAML

dist.init_process_group("gloo", timeout=timedelta(seconds=20))
rank = dist.get_rank()
only_rank0 = dist.new_group([0])  # made by every rank, as torch requires

def attempt(learner, **options):
    try:
        DistributedMetaTrainer(learner, **options)
    except Exception as exc:
        return [type(exc).__name__, str(exc)]

out = {}
if rank == 1:
    out["outside"] = attempt(MAML(nn.Linear(1, 1)), group=only_rank0)
learner = MAML(nn.Linear(1, 1))
if rank == 0:
    def unreadable(optimizer):
        raise ValueError("state unreadable")
    learner.meta_optimizer.register_state_dict_pre_hook(unreadable)
out["state"] = attempt(learner)
open(sys.argv[1], "w").write(json.dumps(out))
os._exit(0)
"""


def test_rank_0_failing_to_prepare_its_state_fails_every_rank_and_an_outside_group_is_refused(tmp_path: Path) -> None:
    procs, outs = run_two_ranks(tmp_path, WORKER)
    assert [p.returncode for p in procs] == [0, 0], outs
    rank0, rank1 = (json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1))
    assert rank1["outside"] == ["ValueError", "group: this process (rank 1 of the world) is not one of its members"]
    assert rank0["state"] == ["ValueError", "state unreadable"]
    assert rank1["state"][0] == "RankFailedError", rank1["state"]
    assert rank1["state"][1].startswith("rank 0: its meta-optimiser state could not be sent")
