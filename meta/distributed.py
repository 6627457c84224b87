"""Distributed meta-training with ``torch.distributed``: tasks sharded, meta-gradients all-reduced.

Every process draws the same meta-batch (same seed), keeps every ``world_size``-th task, computes
its share of the meta-gradient (each task weighted ``1 / meta_batch_size``), and one all-reduce
sums the shares, so each process takes the same meta-step a single process would take on the
whole meta-batch. Launch with torchrun; gloo on CPU, nccl on GPU::

    torchrun --nproc_per_node 2 -m meta.distributed --steps 100 --algorithm maml --save maml.safetensors

``--save`` writes rank 0's learner with ``MAML.save`` (model, meta-optimiser state,
``meta_step_count`` and settings), so ``MAML.load`` on a learner of the same shape and settings
resumes at the right step.

A process that fails does not leave the others waiting: a step that raises on one process (a bad
task in its shard, an error in its model) raises on all of them, naming that rank (see
:meth:`DistributedMetaTrainer.meta_train_step`); a process that dies closes its connections, so
the others' collective fails at once (naming that rank when its process ran on the same host:
:class:`RankFailedError`) and torchrun ends the job; one that stops answering is given up after
``--timeout-s`` seconds (the process group's collective timeout).

Import this module before initialising the process group (as below): with the group made first,
torch's functional collectives, imported later, hold it past ``destroy_process_group``, and its
threads run until the interpreter exits.

Example (in a process group already initialised, for instance by torchrun):
    >>> import torch.distributed as dist                                  # doctest: +SKIP
    >>> dist.init_process_group("gloo")                                   # doctest: +SKIP
    >>> trainer = DistributedMetaTrainer(MAML(model))                     # doctest: +SKIP
    >>> trainer.meta_train_step(sampler.sample(25, 10, 10))               # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import socket
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist

# Before any process group exists: this module's functions take ``group=group.WORLD`` as a default,
# evaluated on import, and torch imports it lazily (with torch._dynamo, at a first optimiser).
# Imported after init_process_group, they held the default group past destroy_process_group, its
# gloo threads still ran at interpreter exit, and the process could abort there ("terminate called
# without an active exception").
import torch.distributed.nn.functional  # noqa: F401
from torch import nn
from torch.nn.parameter import is_lazy

from meta._checks import check_count, check_flag, check_real, check_seed
from meta._log import event_log
from meta.base import MetaBatch, TaskLike, as_meta_batch, refused_step_undone
from meta.checkpoint import pack_state, unpack_state
from meta.maml import MAML, MAMLFirstOrder, MetaSGD, MultiTaskMAML, Reptile

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)

ALGORITHMS: dict[str, type[MAML]] = {"maml": MAML, "fomaml": MAMLFirstOrder, "reptile": Reptile, "metasgd": MetaSGD}


class RankFailedError(RuntimeError):
    """Another process of the group failed in the same meta-step; no process took the step."""


class DistributedMetaTrainer:
    """Runs a MAML-family learner's meta-steps across the processes of a ``torch.distributed`` group.

    Arguments:
        learner: a ``MAML``, ``MAMLFirstOrder``, ``Reptile`` or ``MetaSGD`` (``MultiTaskMAML``'s
            weights need every task's loss, so it is refused).
        group: the process group (default: the world); one this process is not a member of is
            refused (ValueError).
        broadcast: copy rank 0's parameters, buffers, meta-optimiser state (Adam's moments and step
            counts, the learning rates), ``meta_step_count`` and (with ``vectorize="auto"``) the
            execution path it chose or loaded to every process first, so all start
            equal and stay so: a run resumed from a checkpoint that only rank 0 loaded goes on as
            one process would. A model whose lazily sized layers (``nn.LazyLinear``) are not sized
            yet on some rank is refused (ValueError, on every rank): there is nothing to copy into
            them.

    Floating-point buffers (BatchNorm running statistics) are averaged across processes after each
    step, so every process keeps the same model.
    """

    def __init__(self, learner: MAML, group: Any = None, broadcast: bool = True) -> None:
        if not dist.is_available() or not dist.is_initialized():
            raise RuntimeError("torch.distributed is not initialised: call init_process_group (or use torchrun) first")
        if isinstance(learner, MultiTaskMAML):
            raise TypeError("MultiTaskMAML is not supported distributed: its task weights need all tasks' losses")
        if not isinstance(learner, MAML):
            raise TypeError(f"learner must be a MAML-family learner, got {type(learner).__name__}")
        broadcast = check_flag("broadcast", broadcast)
        self.learner = learner
        self.group = group
        self.rank = dist.get_rank(group)
        if self.rank < 0:  # torch's -1 for a process outside the group: shards of rank -1 failed later
            raise ValueError(f"group: this process (rank {dist.get_rank()} of the world) is not one of its members")
        self.world_size = dist.get_world_size(group)
        # every rank's process, so that a collective cut by a peer's death can name it (as a tensor
        # on the learner's device: all_gather_object would need nccl's current device set), and
        # whether its model has lazily sized layers not yet sized, so that all ranks refuse together
        tensors = itertools.chain(learner.named_parameters(), learner.named_buffers())
        unsized = next((name for name, t in tensors if is_lazy(t)), None)
        mine = torch.tensor([*_this_process(), unsized is not None], dtype=torch.int64, device=next(iter(learner.parameters())).device)
        processes = [torch.empty_like(mine) for _ in range(self.world_size)]
        dist.all_gather(processes, mine, group=group)
        self._processes = [(int(p[0]), int(p[1])) for p in processes]
        unsized_ranks = [r for r, p in enumerate(processes) if p[2]]
        if broadcast and unsized_ranks:
            # rank 0's values cannot be copied into a layer with no shape yet: each rank would size
            # it with its own random draw at its first step, and the ranks would train apart
            raise ValueError(
                f"learner: lazily sized layers not sized yet on rank {', '.join(map(str, unsized_ranks))}"
                f"{f' ({unsized} here)' if unsized else ''}, so rank 0's parameters cannot be copied to "
                "every rank: call the model once on a task's inputs on every rank first"
            )
        if broadcast:
            src = dist.get_global_rank(group, 0) if group is not None else 0
            with torch.no_grad():
                for tensor in [*learner.parameters(), *learner.buffers()]:
                    dist.broadcast(tensor.data, src=src, group=group)
            self._broadcast_training_state(src, mine.device)

    def _broadcast_training_state(self, src: int, device: torch.device) -> None:
        """Rank 0's meta-optimiser state, ``meta_step_count`` and execution path on every rank: with
        equal parameters but Adam's moments of a resumed run on one rank and none on the others, the
        first step already differed; and the other ranks measured both paths afresh (rank 0 waiting
        for them) where rank 0 kept its checkpoint's, and could take the other one, whose gradients
        agree only to rounding. Sent as tensors and a JSON description of them (no pickle)."""
        learner, group = self.learner, self.group
        error: Exception | None = None
        size = torch.full((1,), -1, dtype=torch.int64, device=device)
        if self.rank == 0:
            try:
                state = {
                    "optimizer": learner.meta_optimizer.state_dict(),
                    "meta_step_count": learner.meta_step_count,
                    "execution_path": learner.path,
                }
                skeleton, tensors = pack_state(state, "meta_optimizer")
                described = [[k, str(t.dtype).removeprefix("torch."), list(t.shape), t.device.type == "cpu"] for k, t in tensors.items()]
                message = json.dumps({"skeleton": skeleton, "tensors": described}).encode()
                header = torch.tensor(list(message), dtype=torch.uint8, device=device)
                size.fill_(len(header))
            # any failure (a setting JSON cannot hold, a state_dict that raises): the others must
            # not wait for a state that never comes
            except Exception as exc:
                error = exc
        # collectives on the learner's device: nccl sends no CPU tensor
        dist.broadcast(size, src=src, group=group)
        if error is not None:
            raise error
        if int(size) < 0:
            raise RankFailedError("rank 0: its meta-optimiser state could not be sent (its own error is raised there)")
        if self.rank != 0:
            header = torch.empty(int(size), dtype=torch.uint8, device=device)
        dist.broadcast(header, src=src, group=group)
        if self.rank == 0:
            for t in tensors.values():
                dist.broadcast(t.to(device), src=src, group=group)
            return
        sent = json.loads(bytes(header.cpu().tolist()))
        received = {}
        for key, dtype, shape, on_cpu in sent["tensors"]:
            t = torch.empty(shape, dtype=getattr(torch, dtype), device=device)
            dist.broadcast(t, src=src, group=group)
            received[key] = t.cpu() if on_cpu else t  # where rank 0 keeps it (Adam's step counts)
        state = unpack_state(sent["skeleton"], received, "the meta-optimiser state broadcast by rank 0")
        learner.meta_optimizer.load_state_dict(state["optimizer"])
        learner.meta_step_count = state["meta_step_count"]
        if learner.vectorize == "auto":  # as MAML.load does: the path the run resumed from, not one timed afresh
            learner.path, learner.path_timings_s, learner.path_grads_agree = state["execution_path"], {}, None

    def meta_train_step(self, tasks: MetaBatch | Iterable[TaskLike]) -> dict[str, Any]:
        """One synchronised meta-step on the whole meta-batch (this process handles its shard).

        A step that raises on one process raises on every process, and none takes the step, so the
        processes stay equal and in step: the failed one raises its own error, the others
        :class:`RankFailedError` naming its rank. (Each process joins the step's all-reduce even
        when its share failed, flagging the failure, instead of leaving the others waiting in it.)
        A process that dies in the step fails the others' all-reduce: they raise
        :class:`RankFailedError` naming its rank when it ran on their host, the backend's error
        otherwise.
        """
        # a step no process takes leaves every process's running statistics as they were too, and
        # no gradient of its own for a later step to take in (an interrupt included)
        with refused_step_undone(self.learner.model, self.learner.meta_parameters()):
            return self._step(tasks)

    def _step(self, tasks: MetaBatch | Iterable[TaskLike]) -> dict[str, Any]:
        learner = self.learner
        params = learner.meta_parameters()
        learner.zero_meta_grad()
        failed = torch.zeros(self.world_size, device=params[0].device, dtype=params[0].dtype)
        error: Exception | None = None
        try:
            batch = as_meta_batch(tasks)
            sums = learner.compute_meta_gradients(batch.shard(self.rank, self.world_size), total_tasks=len(batch))
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
            stats = torch.stack([sums["query"], sums["support"], sums["acc"]]).to(failed)
        except Exception as exc:
            error = exc
            grads, stats = [torch.zeros_like(p) for p in params], torch.zeros(3).to(failed)
            failed[self.rank] = 1.0
        # one flat all-reduce: one message instead of one per parameter, the failure flags included
        flat = torch.cat([g.reshape(-1) for g in grads] + [stats, failed])
        try:
            dist.all_reduce(flat, group=self.group)
        except RuntimeError as exc:
            self._raise_if_gone(exc)
            raise
        failed_ranks = [int(r) for r in flat[-self.world_size :].nonzero().flatten()]
        if failed_ranks:
            if error is not None:
                raise error
            log.warning("distributed_step_failed", rank=self.rank, failed_ranks=failed_ranks)
            raise RankFailedError(
                f"rank {', '.join(map(str, failed_ranks))}: failed in this meta-step (its own error is raised "
                f"there); no process of the group took the step"
            )
        offset = 0
        for p in params:
            n = p.numel()
            grad = flat[offset : offset + n].view_as(p)
            # torch.cat promoted a model of mixed dtypes to the widest: each parameter's own back
            p.grad = grad.clone() if grad.dtype == p.dtype else grad.to(p.dtype)
            offset += n
        query, support, acc = (float(v) for v in flat[offset : offset + 3])
        meta_loss = query / len(batch)
        learner.apply_meta_update(meta_loss)
        self._average_buffers()
        metrics: dict[str, Any] = {"meta_loss": meta_loss, "support_loss": support / len(batch), "path": learner.path}
        if learner.classification:
            metrics["query_accuracy"] = acc / len(batch)
        return metrics

    def _average_buffers(self) -> None:
        with torch.no_grad():
            for b in self.learner.buffers():
                if b.is_floating_point():
                    try:
                        dist.all_reduce(b, group=self.group)
                    except RuntimeError as exc:
                        self._raise_if_gone(exc)
                        raise
                    b.div_(self.world_size)

    def _raise_if_gone(self, exc: RuntimeError) -> None:
        """Raise ``RankFailedError`` naming the ranks whose processes on this host have ended, when
        a collective failed (gloo says only "Connection closed by peer"). A process still exiting
        has closed its sockets a moment before it ends: it is given a second. Ranks on other hosts
        cannot be checked from here; without a rank to name, the caller re-raises ``exc``."""
        here = self._processes[self.rank][0]
        peers = {r: pid for r, (where, pid) in enumerate(self._processes) if r != self.rank and where == here}
        deadline = time.monotonic() + _EXIT_GRACE_S
        while True:
            gone = [r for r, pid in peers.items() if not _running(pid)]
            if gone or time.monotonic() > deadline or not peers:
                break
            time.sleep(0.02)
        if gone:
            log.warning("distributed_rank_gone", rank=self.rank, gone_ranks=gone)
            names = ", ".join(f"{r} (pid {peers[r]})" for r in gone)
            raise RankFailedError(
                f"rank {names}: its process ended during this meta-step; no process of the group took the step"
            ) from exc


#: How long a collective's failure waits for a peer whose connection closed to be seen ended.
_EXIT_GRACE_S = 1.0


def _this_process() -> tuple[int, int]:
    """(where, pid): ``where`` hashes the host and the pid namespace, so that two ranks with the
    same ``where`` can see each other's process."""
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    digest = hashlib.blake2b(f"{socket.gethostname()}\0{namespace}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1, os.getpid()


def _running(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie, ended but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: it exists
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True  # no /proc: os.kill found it


#: What torch's ``env://`` initialisation reads, which torchrun sets in every process it starts.
TORCHRUN_ENVIRONMENT = ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE")


def init_from_env(backend: str | None = None, timeout_s: float | None = None) -> str:
    """Initialise the default group from torchrun's environment; nccl with CUDA, gloo otherwise.
    Returns the group's backend.

    ``timeout_s``: how long a collective waits for a process that does not arrive before it
    raises (None: torch's default, 30 minutes for gloo, 10 for nccl). A group initialised before
    is kept as it is: its backend is returned, and naming another one raises ValueError (the
    caller would place its tensors for a backend that the group does not use). Without a group, the
    variables torchrun sets (``TORCHRUN_ENVIRONMENT``) must be set: ValueError names those missing.
    """
    if backend is not None and not isinstance(backend, str):
        raise TypeError(f"backend: expected a name such as 'gloo' or 'nccl', got {backend!r}")
    if timeout_s is not None:
        timeout_s = check_real("timeout_s", timeout_s, low=0, low_open=True)
    if dist.is_initialized():
        running = dist.get_backend()
        if backend is not None and backend.lower() != running:
            raise ValueError(f"backend: {backend!r}, but the process group is already initialised with {running!r}")
        backend = running
    else:
        missing = [name for name in TORCHRUN_ENVIRONMENT if not os.environ.get(name)]
        if missing:
            # torch's own error named one variable, in a traceback, and not the launcher that sets them
            raise ValueError(
                f"environment: {', '.join(missing)} not set; launch with torchrun, which sets them "
                "(torchrun --nproc_per_node 2 -m meta.distributed ...), or set them in every process"
            )
        if backend is None:
            backend = "nccl" if torch.cuda.is_available() else "gloo"
        dist.init_process_group(backend, timeout=None if timeout_s is None else timedelta(seconds=timeout_s))
        backend = dist.get_backend()
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
    return backend


def train_sinusoid(
    steps: int,
    algorithm: str = "maml",
    meta_batch: int = 8,
    k_shot: int = 5,
    hidden: int = 40,
    seed: int = 0,
    distributed: bool = False,
    device: str | torch.device = "cpu",
) -> MAML:
    """Meta-train a sinusoid MLP for ``steps`` steps, in one process or sharded over the group.

    With the same arguments, a distributed run and a single process take the same steps. A count
    that is not one (``steps=-1``, ``hidden=0``, ``meta_batch=2.5``), or a ``distributed`` that is
    not True or False, raises ValueError naming it.
    """
    from meta.data.sinusoid import SinusoidTaskSampler

    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {sorted(ALGORITHMS)}, got {algorithm!r}")
    steps = check_count("steps", steps)
    meta_batch, k_shot, hidden = (
        check_count(name, value, low=1) for name, value in (("meta_batch", meta_batch), ("k_shot", k_shot), ("hidden", hidden))
    )
    seed = check_seed("seed", seed)
    distributed = check_flag("distributed", distributed)  # "no" trained sharded, None in one process
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(1, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
    learner = ALGORITHMS[algorithm](model.to(device), lr_inner=0.01, lr_meta=1e-3, num_inner_steps=1)
    sampler = SinusoidTaskSampler(seed=seed, device=device)
    trainer: Any = DistributedMetaTrainer(learner) if distributed else learner
    metrics: dict[str, Any] = {}
    for _ in range(steps):
        metrics = trainer.meta_train_step(sampler.sample(meta_batch, k_shot, k_shot))
    log.info("sinusoid_trained", steps=steps, algorithm=algorithm, distributed=distributed, **metrics)
    return learner


def main(argv: list[str] | None = None) -> None:
    """torchrun entry point: meta-train a sinusoid regressor and save rank 0's checkpoint.

    The checkpoint is written by ``MAML.save`` (it holds ``meta_step_count``), so ``MAML.load``
    resumes at the step where training stopped.
    """
    parser = argparse.ArgumentParser(prog="python -m meta.distributed")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--algorithm", default="maml", choices=sorted(ALGORITHMS))
    parser.add_argument("--meta-batch", type=int, default=8)
    parser.add_argument("--k-shot", type=int, default=5)
    parser.add_argument("--hidden", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", default=None, help="gloo or nccl (default: nccl when CUDA is available)")
    parser.add_argument("--save", default=None, help="safetensors path for rank 0's learner")
    parser.add_argument(
        "--timeout-s", type=float, default=300.0, help="give up on a process that does not reach a collective in this time"
    )
    args = parser.parse_args(argv)
    # checked before training: a --save that cannot be written would fail only once the work is done
    if args.save is not None and Path(args.save).is_dir():
        parser.error(f"--save: {args.save!r} is a directory; give a file name such as {str(Path(args.save) / 'maml.safetensors')!r}")
    torch.set_num_threads(1)
    try:
        backend = init_from_env(args.backend, args.timeout_s)
    except ValueError as exc:  # run without torchrun: say how to launch it, not torch's traceback
        parser.error(str(exc))
    device = f"cuda:{os.environ.get('LOCAL_RANK', 0)}" if backend == "nccl" else "cpu"
    try:
        learner = train_sinusoid(args.steps, args.algorithm, args.meta_batch, args.k_shot, args.hidden, args.seed, True, device)
        if args.save and dist.get_rank() == 0:
            learner.save(args.save, {"steps": args.steps, "world_size": dist.get_world_size()})
        # Tear down together: a rank that destroys its gloo group while the other still holds open
        # connections (rank 0 writing the checkpoint) can abort with "terminate called without an
        # active exception" at exit.
        dist.barrier()
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
