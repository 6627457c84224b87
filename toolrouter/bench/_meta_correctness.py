"""Meta-gradients of every path against float64 central finite differences.

For each model (an MLP; a small Conv-4 with BatchNorm, with and without running statistics) and
each algorithm and path, the analytic meta-gradient ``g`` is compared with finite differences of the
objective along random directions ``v``: ``(f(theta + eps v) - f(theta - eps v)) / 2 eps`` against
``g . v``. Second-order MAML and MetaSGD differentiate the query loss after adaptation; first-order
MAML's objective is the query loss at the adapted weights, perturbed there.
"""

from __future__ import annotations

import argparse
from typing import Any

import torch
from torch import nn
from torch.func import functional_call

from meta.base import MetaBatch
from meta.maml import MAML, MAMLFirstOrder, MetaSGD
from toolrouter.bench._meta_common import conv4, path_options
from toolrouter.bench._report import print_table


def small_cases(seed: int = 0) -> dict[str, tuple[nn.Module, MetaBatch, str]]:
    """Float64 models and meta-batches: mlp, conv4_bn (running stats), conv4_bn_batchstats."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    mlp = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    reg = MetaBatch.from_tensors(
        torch.randn(3, 5, 2, generator=g, dtype=torch.float64), torch.randn(3, 5, 1, generator=g, dtype=torch.float64),
        torch.randn(3, 6, 2, generator=g, dtype=torch.float64), torch.randn(3, 6, 1, generator=g, dtype=torch.float64),
    )
    img = MetaBatch.from_tensors(
        torch.randn(3, 6, 1, 16, 16, generator=g, dtype=torch.float64), torch.arange(3).repeat(3, 2),
        torch.randn(3, 6, 1, 16, 16, generator=g, dtype=torch.float64), torch.arange(3).repeat(3, 2),
    )
    return {
        "mlp": (mlp, reg, "mse"),
        "conv4_bn": (conv4(4, out_features=3).double(), img, "cross_entropy"),
        "conv4_bn_batchstats": (conv4(4, out_features=3, track_running_stats=False).double(), img, "cross_entropy"),
    }


def _objective(learner: MAML, batch: MetaBatch, values: dict[str, torch.Tensor]) -> float:
    """Mean query loss after adaptation, with the meta-parameters replaced by ``values``."""
    total = 0.0
    with torch.no_grad():
        saved = {k: p.detach().clone() for k, p in learner.named_parameters()}
        try:
            for k, p in learner.named_parameters():
                p.copy_(values[k])
            for t in batch:
                with torch.enable_grad():
                    fast, _ = learner._inner_loop_autograd(learner._adapted_meta_values(), t.support_x, t.support_y, learner.num_inner_steps, first_order=False, keep_graph=False)
                total += float(learner.loss_fn(functional_call(learner.model, fast, (t.query_x,), strict=False), t.query_y))
        finally:
            for k, p in learner.named_parameters():
                p.copy_(saved[k])
    return total / len(batch)


def _fo_objective(learner: MAML, batch: MetaBatch, shift: dict[str, torch.Tensor]) -> float:
    """First-order MAML's objective: query loss at the adapted weights plus ``shift``."""
    total = 0.0
    for t in batch:
        with torch.enable_grad():
            fast, _ = learner._inner_loop_autograd(learner._adapted_meta_values(), t.support_x, t.support_y, learner.num_inner_steps, first_order=True, keep_graph=False)
        moved = {n: fast[n] + shift.get("model." + n, 0.0) for n in fast}
        with torch.no_grad():
            total += float(learner.loss_fn(functional_call(learner.model, moved, (t.query_x,), strict=False), t.query_y))
    return total / len(batch)


def check(cls: type[MAML], model: nn.Module, batch: MetaBatch, loss: str, path: str, directions: int = 3, eps: float = 1e-7, seed: int = 0) -> dict[str, Any]:
    """Relative error between the analytic meta-gradient of ``path`` (vmap, loop or vmap+compile)
    and finite differences."""
    lr = 0.3 if loss == "cross_entropy" else 0.1
    learner = cls(model, lr_inner=lr, num_inner_steps=2, loss_fn=loss, **path_options(path))  # type: ignore[arg-type]
    if learner.path == "vmap" and learner.vmap_blocker() is not None:
        return {"status": "not available", "reason": learner.vmap_blocker(), "error": float("nan")}
    learner.zero_meta_grad()
    if learner.path == "vmap" and learner.vmap_known_wrong() is not None:
        # refused to users (VmapUnsafeError); the raw path is measured to show why
        learner._gradients(batch, "vmap", len(batch))
    else:
        learner.compute_meta_gradients(batch)
    worst = finite_difference_error(learner, batch, directions, eps, seed)
    return {"status": "pass" if worst < 1e-4 else "FAIL", "error": worst}


def finite_difference_error(learner: MAML, batch: MetaBatch, directions: int = 3, eps: float = 1e-7, seed: int = 0, rng_seed: int | None = None) -> float:
    """Largest relative error, over random directions, between the meta-gradient in the learner's
    ``.grad`` (cleared afterwards) and float64 central differences of its objective.

    ``rng_seed``: reseed torch's generator before each evaluation, so that a model with dropout
    draws the masks the loop path drew for the gradient (computed after the same reseeding).
    """
    names = [k for k, p in learner.named_parameters() if p.requires_grad]
    params = dict(learner.named_parameters())
    grads = {k: (params[k].grad.detach().clone() if params[k].grad is not None else torch.zeros_like(params[k])) for k in names}
    learner.zero_meta_grad()
    base = {k: p.detach().clone() for k, p in learner.named_parameters()}

    def objective(sign: float, v: dict[str, torch.Tensor]) -> float:
        if rng_seed is not None:
            torch.manual_seed(rng_seed)
        if learner.first_order:
            return _fo_objective(learner, batch, {k: sign * eps * v[k] for k in names})
        return _objective(learner, batch, {k: base[k] + (sign * eps * v[k] if k in v else 0) for k in base})

    g = torch.Generator().manual_seed(seed)
    worst = 0.0
    for _ in range(directions):
        v = {k: torch.randn(base[k].shape, generator=g, dtype=base[k].dtype) for k in names}
        analytic = sum(float((grads[k] * v[k]).sum()) for k in names)
        numeric = (objective(1.0, v) - objective(-1.0, v)) / (2 * eps)
        worst = max(worst, abs(analytic - numeric) / max(abs(numeric), 1e-8))
    return worst


def run(args: argparse.Namespace) -> None:
    rows = []
    for case, (model, batch, loss) in small_cases(args.seed).items():
        for cls in (MAML, MAMLFirstOrder, MetaSGD):
            passed = []
            # compiling takes seconds per model: the compiled path is checked on the MLP, at full size
            compiled = ("vmap+compile",) if case == "mlp" and not args.quick else ()
            for path in ("vmap", "loop", *compiled):
                res = check(cls, _fresh(model), batch, loss, path)
                if res["status"] == "pass":
                    passed.append(path)
                rows.append([case, cls.__name__, path, res["status"], res["error"]])
            auto = cls(_fresh(model), lr_inner=0.1, num_inner_steps=2, loss_fn=loss)  # type: ignore[arg-type]
            auto.meta_train_step(batch)
            rows.append([case, cls.__name__, f"auto -> {auto.path}", "pass" if auto.path in passed else "FAIL (chose a failing path)", ""])
    print_table(
        "Meta-gradient vs float64 central differences (max relative error over 3 random directions, 2 inner steps)",
        ["model", "algorithm", "path", "status", "rel. error"],
        rows,
    )


def _fresh(model: nn.Module) -> nn.Module:
    import copy

    return copy.deepcopy(model)
