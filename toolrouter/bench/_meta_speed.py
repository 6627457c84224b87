"""Speed and memory of a meta-step: vmap against the per-task loop against ``higher``.

Time: median wall time of a full meta-step (meta-gradient and Adam step) on a 32-task meta-batch.
Memory: peak resident memory growth of a fresh process over two meta-steps (CPU has no allocator
peak counter, so each configuration runs in its own subprocess and reads ``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import resource
import subprocess
import sys
import time
from typing import Any

import torch
import torch.nn.functional as F

from meta.base import MetaBatch
from meta.data.sinusoid import SinusoidTaskSampler
from meta.maml import MAML
from toolrouter.bench._meta_common import conv4, path_options, sinusoid_mlp
from toolrouter.bench._report import print_table


def make_case(kind: str, tasks: int, channels: int, seed: int = 0) -> tuple[torch.nn.Module, MetaBatch, str]:
    """(model, meta-batch, loss name) for ``kind`` in ``mlp | conv4``."""
    torch.manual_seed(seed)
    if kind == "mlp":
        return sinusoid_mlp(), SinusoidTaskSampler(seed=seed).sample(tasks, 10, 10), "mse"
    # BatchNorm without running statistics, so that vmap is possible and the choice is real
    model = conv4(channels, out_features=5, track_running_stats=False)
    g = torch.Generator().manual_seed(seed)
    sx, qx = torch.rand(tasks, 5, 1, 28, 28, generator=g), torch.rand(tasks, 25, 1, 28, 28, generator=g)
    sy = torch.arange(5).repeat(tasks, 1)
    qy = torch.arange(5).repeat_interleave(5).repeat(tasks, 1)
    return model, MetaBatch.from_tensors(sx, sy, qx, qy), "cross_entropy"


def higher_step(model: torch.nn.Module, batch: MetaBatch, loss: str, inner_lr: float, meta_opt: torch.optim.Optimizer, first_order: bool = False) -> None:
    """One second-order MAML meta-step written with ``higher`` (the per-task reference)."""
    import higher

    loss_fn = F.mse_loss if loss == "mse" else F.cross_entropy
    meta_opt.zero_grad()
    inner_opt = torch.optim.SGD(model.parameters(), lr=inner_lr)
    for t in batch:
        with higher.innerloop_ctx(model, inner_opt, copy_initial_weights=False, track_higher_grads=not first_order) as (fmodel, diffopt):
            diffopt.step(loss_fn(fmodel(t.support_x), t.support_y))
            (loss_fn(fmodel(t.query_x), t.query_y) / len(batch)).backward()
    meta_opt.step()


def _step_fn(kind: str, path: str, tasks: int, channels: int, first_order: bool = False) -> tuple[Any, Any]:
    """A zero-argument meta-step on a fixed batch; ``path`` is loop, vmap, vmap+compile, auto or higher."""
    model, batch, loss = make_case(kind, tasks, channels)
    if path == "higher":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        return (lambda: higher_step(model, batch, loss, 0.01, opt, first_order)), None
    learner = MAML(model, lr_inner=0.01, loss_fn=loss, first_order=first_order, **path_options(path))  # type: ignore[arg-type]
    if learner.path == "vmap" and learner.vmap_known_wrong() is not None:
        # refused to users (second-order vmap through BatchNorm is wrong); still timed, as the
        # cost the loop is compared with, through the gradient and update a step runs
        def refused_vmap_step() -> None:
            learner.zero_meta_grad()
            sums = learner._gradients(batch, "vmap", len(batch))
            learner.apply_meta_update(float(sums["query"]) / len(batch))

        return refused_vmap_step, learner
    return (lambda: learner.meta_train_step(batch)), learner


def _median_s(fn: Any, repeats: int) -> float:
    fn()  # warm-up (and, for "auto", the one-off path measurement)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def peak_rss_growth_mib(fn: Any, calls: int = 2) -> float:
    """Peak resident memory above the starting level while ``fn`` runs ``calls`` times.

    CPU tensors have no allocator peak counter, so a thread samples ``/proc/self/statm`` every
    0.2 ms while the torch ops (which release the GIL) run.
    """
    import threading

    start = _rss_bytes()
    peak = [start]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _rss_bytes())
            time.sleep(0.0002)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        for _ in range(calls):
            fn()
    finally:
        done.set()
        thread.join()
    return (max(peak[0], _rss_bytes()) - start) / 2**20


def memory_child(kind: str, path: str, tasks: int, channels: int, first_order: bool) -> None:
    """Entry point of the measuring subprocess: prints the peak RSS growth in MiB as JSON."""
    torch.set_num_threads(1)
    fn, _ = _step_fn(kind, path, tasks, channels, first_order)
    print(json.dumps({"peak_mib": peak_rss_growth_mib(fn)}))


def _memory(kind: str, path: str, tasks: int, channels: int, first_order: bool, in_process: bool = False) -> float:
    if in_process:  # --quick: no subprocess start-up; the numbers are then only indicative
        fn, _ = _step_fn(kind, path, tasks, channels, first_order)
        return peak_rss_growth_mib(fn)
    code = (
        "from toolrouter.bench._meta_speed import memory_child; "
        f"memory_child({kind!r}, {path!r}, {tasks}, {channels}, {first_order})"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_mib"])


def _has_higher() -> bool:
    return importlib.util.find_spec("higher") is not None


def run(args: argparse.Namespace) -> None:
    rows, mem_rows = [], []
    for kind in ("mlp", "conv4"):
        repeats = args.speed_repeats if kind == "mlp" else max(2, args.speed_repeats // 5)
        times = {"higher": math.nan}  # the peer library is optional: its column reads nan without it
        for path in ("loop", "vmap", "higher") if _has_higher() else ("loop", "vmap"):
            fn, _ = _step_fn(kind, path, args.speed_tasks, args.speed_channels)
            times[path] = _median_s(fn, repeats)
        times["vmap+compile"] = math.nan
        if kind == "mlp" and not args.quick:  # compiling takes seconds: not at toy size
            fn, _ = _step_fn(kind, "vmap+compile", args.speed_tasks, args.speed_channels)
            times["vmap+compile"] = _median_s(fn, repeats)
        fn, learner = _step_fn(kind, "auto", args.speed_tasks, args.speed_channels)
        times["auto"] = _median_s(fn, repeats)
        chosen = learner.path
        faster = "vmap" if times["vmap"] < times["loop"] else "loop"
        rows.append([
            kind, args.speed_tasks, 1000 * times["loop"], 1000 * times["vmap"], 1000 * times["vmap+compile"], 1000 * times["higher"],
            times["vmap"] / times["loop"], times["vmap+compile"] / times["loop"], times["higher"] / times["loop"], chosen, 1000 * times["auto"],
            learner.path_grads_agree, "yes" if chosen == faster or not learner.path_grads_agree else "no",
        ])
        for path, fo in (("loop", False), ("loop", True), ("vmap", False), ("vmap", True)):
            mem_rows.append([kind, path, "first" if fo else "second", _memory(kind, path, args.speed_tasks, args.speed_channels, fo, in_process=args.quick)])
    print_table(
        f"Time per meta-step, second-order MAML, 1 inner step, {args.speed_tasks} tasks (median, ms; conv4 has {args.speed_channels} channels)",
        ["model", "tasks", "loop ms", "vmap ms", "vmap+compile ms", "higher ms", "vmap/loop", "compiled/loop", "higher/loop", "auto chose", "auto ms", "vmap grads agree", "auto = faster correct path"],
        rows,
    )
    print_table(
        "Peak memory growth over two meta-steps (MiB of resident memory above the start, fresh process each unless --quick)",
        ["model", "path", "order", "peak MiB"],
        mem_rows,
    )
