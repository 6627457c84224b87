"""Continual-learning strategies behind one small interface, composable with :class:`Compose`.

A strategy sees the training loop through five hooks, all optional:

``before_task``   a new task starts (add a column, check the task id)
``augment_batch`` add samples to the current batch (replay)
``penalty``       add a term to the loss (EWC, LwF)
``after_batch``   per-sample losses of the step (update replay priorities)
``after_step``    after each optimiser step (a decoupled, implicit EWC pull)
``after_task``    the task is done (estimate Fisher, store samples, snapshot a teacher)

What a strategy has learned between tasks (Fisher and anchors, the replay memory, the teacher) is
``state_dict()``, tensors and JSON values, which the learner saves with its model;
``load_state_dict(state, ctx)`` puts a copy of it back (as ``torch.optim.Optimizer.load_state_dict``
does), so two strategies loaded from one state never share a memory that training writes to.
``state_dict()`` returns the live state, as torch's do: ``copy.deepcopy`` it to keep a snapshot.

Each hook receives a :class:`TrainingContext`: the object running the loop
(:class:`~meta.continual.learner.ContinualLearner` or :class:`~meta.continual.drift.DriftAdapter`), which
gives the model, a forward pass and the per-sample loss. So one strategy serves classification and
regression alike.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, grad, vmap

from meta._checks import check_count, check_flag, check_real, check_seed
from meta._log import event_log
from meta.base import eval_mode, model_device, model_dtype
from meta.continual._data import Batch

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)


@runtime_checkable
class TrainingContext(Protocol):
    """What a strategy may use of the loop that runs it."""

    model: nn.Module

    def forward(self, x: torch.Tensor, task_ids: torch.Tensor, model: nn.Module | None = None) -> torch.Tensor:
        """Outputs of ``model`` (default: the trained model) for inputs ``x`` of tasks ``task_ids``."""
        ...

    def per_sample_loss(self, outputs: torch.Tensor, y: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        """Loss of each sample, shape ``(n,)``; any masking of outputs per task happens here."""
        ...


class Strategy:
    """Base class: every hook does nothing, so a strategy overrides only what it needs.

    ``allows_repeated_tasks`` says whether a task id may be trained twice. A strategy that learns
    something between tasks returns it from ``state_dict`` and takes it back in
    ``load_state_dict``, so that ``ContinualLearner.save``/``load`` keep it.
    """

    name: str = "naive"
    allows_repeated_tasks: bool = True

    def before_task(self, ctx: TrainingContext, task_id: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """Called before training on a task starts (after the learner validated the data)."""

    def augment_batch(self, ctx: TrainingContext, batch: Batch) -> Batch:
        """Return the batch to train on; the default returns it unchanged."""
        return batch

    def penalty(self, ctx: TrainingContext, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        """An extra loss term for this step, or None."""
        return None

    def after_batch(self, ctx: TrainingContext, batch: Batch, losses: torch.Tensor) -> None:
        """Per-sample losses (detached) of the step just taken."""

    def after_step(self, ctx: TrainingContext, step_size: float) -> None:
        """Called right after each optimiser step, with the learning rate (for decoupled updates)."""

    def after_task(self, ctx: TrainingContext, task_id: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """Called when training on a task has finished."""

    def state_dict(self) -> dict[str, Any]:
        """What the strategy has learned so far (tensors and JSON values); the default: nothing."""
        return {}

    def load_state_dict(self, state: dict[str, Any], ctx: TrainingContext) -> None:
        """Restore what :meth:`state_dict` returned. ``ctx`` gives the learner's model, which a
        strategy that keeps a copy of it (LwF's teacher) rebuilds that copy from."""
        expect_state_keys(self, state, set())

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def expect_state_keys(strategy: Strategy, state: dict[str, Any], keys: set[str]) -> None:
    """KeyError naming the strategy when ``state`` does not hold exactly ``keys``."""
    if not isinstance(state, dict) or set(state) != keys:
        found = sorted(state) if isinstance(state, dict) else type(state).__name__
        raise KeyError(f"{strategy.name}: expected state {sorted(keys)}, got {found}")


def cloned_state(value: Any) -> Any:
    """``value`` with every tensor in it (in dicts, lists and tuples) copied, and its containers new."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, dict):
        return {k: cloned_state(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(cloned_state(v) for v in value)
    return value


def state_tensor(field: str, value: Any, *, optional: bool = False) -> torch.Tensor | None:
    """``value`` if it is a tensor (or ``None`` where ``optional``); else a damaged state, refused
    as ValueError naming ``field``, not a bare AttributeError at its first use."""
    if not isinstance(value, torch.Tensor) and not (optional and value is None):
        raise ValueError(f"{field}: expected a tensor{' or None' if optional else ''}, got {type(value).__name__} {value!r:.60}")
    return value


def set_generator_state(generator: torch.Generator, state: torch.Tensor, field: str = "generator") -> None:
    """Put a saved ``generator.get_state()`` back, so a restored object draws the same numbers;
    ValueError naming ``field`` for a state that is not one."""
    try:
        generator.set_state(state_tensor(field, state).to(torch.uint8))
    except RuntimeError as exc:  # torch's words name no field
        raise ValueError(f"{field}: not a generator state ({exc})") from None


class Naive(Strategy):
    """Plain fine-tuning on each task in turn: the lower reference, which forgets.

    >>> Naive().name
    'naive'
    """

    name = "naive"


class Compose(Strategy):
    """Several strategies at once, hooks called in the given order (for example EWC plus replay).

    >>> s = Compose([EWC(ewc_lambda=100.0), ExperienceReplay(buffer_size=50)])
    >>> s.name
    'ewc+replay'
    """

    def __init__(self, strategies: Sequence[Strategy]) -> None:
        strategies = list(strategies)
        if not strategies:
            raise ValueError("strategies: Compose needs at least one strategy, got []")
        for i, s in enumerate(strategies):
            if not isinstance(s, Strategy):
                raise TypeError(f"strategies[{i}]: expected a Strategy, got {type(s).__name__}")
        self.strategies = strategies
        self.name = "+".join(s.name for s in strategies)
        self.allows_repeated_tasks = all(s.allows_repeated_tasks for s in strategies)

    def before_task(self, ctx: TrainingContext, task_id: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """Each strategy's ``before_task``, in order."""
        for s in self.strategies:
            s.before_task(ctx, task_id, x, y)

    def augment_batch(self, ctx: TrainingContext, batch: Batch) -> Batch:
        """The batch passed through each strategy's ``augment_batch`` in turn."""
        for s in self.strategies:
            batch = s.augment_batch(ctx, batch)
        return batch

    def penalty(self, ctx: TrainingContext, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        """The sum of the strategies' penalties (None if none has one)."""
        terms = [p for s in self.strategies if (p := s.penalty(ctx, batch, outputs)) is not None]
        return torch.stack(terms).sum() if terms else None

    def after_batch(self, ctx: TrainingContext, batch: Batch, losses: torch.Tensor) -> None:
        """Each strategy's ``after_batch``, in order."""
        for s in self.strategies:
            s.after_batch(ctx, batch, losses)

    def after_step(self, ctx: TrainingContext, step_size: float) -> None:
        """Each strategy's ``after_step``, in order."""
        for s in self.strategies:
            s.after_step(ctx, step_size)

    def after_task(self, ctx: TrainingContext, task_id: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """Each strategy's ``after_task``, in order."""
        for s in self.strategies:
            s.after_task(ctx, task_id, x, y)

    def state_dict(self) -> dict[str, Any]:
        """Each strategy's state, in order."""
        return {"strategies": [s.state_dict() for s in self.strategies]}

    def load_state_dict(self, state: dict[str, Any], ctx: TrainingContext) -> None:
        """Restore :meth:`state_dict`: each strategy its own, or none of them when one refuses its
        state (naming it)."""
        from meta.continual._undo import restored_on_failure  # it builds on this module

        expect_state_keys(self, state, {"strategies"})
        states = state["strategies"]
        if not isinstance(states, (list, tuple)) or len(states) != len(self.strategies):
            found = len(states) if isinstance(states, (list, tuple)) else type(states).__name__
            raise ValueError(f"{self.name}: expected the states of {len(self.strategies)} strategies, got {found}")
        with restored_on_failure(ctx, *self.strategies):
            for s, part in zip(self.strategies, states):
                s.load_state_dict(part, ctx)

    def __repr__(self) -> str:
        return f"Compose({self.strategies!r})"


# --------------------------------------------------------------------------------------------- EWC


def fisher_diagonal(
    ctx: TrainingContext,
    x: torch.Tensor,
    y: torch.Tensor,
    task_ids: torch.Tensor,
    *,
    kind: Literal["empirical", "true", "expected"] = "empirical",
    chunk_size: int = 256,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
) -> dict[str, torch.Tensor]:
    """Diagonal Fisher information of ``ctx.model`` at its current parameters, from data.

    The mean over samples of the squared per-sample gradient of the loss (per-sample gradients with
    ``torch.func.vmap``; squaring a mini-batch's mean gradient instead would underestimate it by about
    the batch size). ``kind="empirical"`` uses the given labels; ``"true"`` samples labels from the
    model's own predictive distribution (classification only), the textbook Fisher;
    ``"expected"`` takes that expectation exactly, summing the squared gradient of every admissible
    class weighted by its predicted probability (no sampling noise; one gradient per class and sample).
    ``temperature`` (``"true"`` and ``"expected"`` only) softens the predictive distribution the labels
    are drawn from: at 1 it is the textbook Fisher, which vanishes on a memorised training set (the
    model is certain, so every likely label has a near-zero gradient); above 1 the less likely labels
    keep a share and the estimate still shows which weights the task's outputs depend on.
    Only parameters with ``requires_grad`` are included. ``x``, ``y`` and ``task_ids`` hold the
    same number of samples, at least one (the Fisher is their mean: of none it would be NaN).
    """
    if kind not in ("empirical", "true", "expected"):
        raise ValueError(f"kind: must be 'empirical', 'true' or 'expected', got {kind!r}")
    temperature = check_real("temperature", temperature, low=0, low_open=True)
    chunk_size = check_count("chunk_size", chunk_size, low=1)
    rows = {name: int(t.shape[0]) if isinstance(t, torch.Tensor) and t.dim() > 0 else None
            for name, t in (("x", x), ("y", y), ("task_ids", task_ids))}
    if len(set(rows.values())) != 1 or not rows["x"]:
        raise ValueError(f"x, y, task_ids: expected tensors of the same number of samples, at least 1, got {rows}")
    model = ctx.model
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    params = {n: p.detach() for n, p in model.named_parameters() if p.requires_grad}
    frozen = {n: p.detach() for n, p in model.named_parameters() if not p.requires_grad}
    buffers = dict(model.named_buffers())

    def sample_loss(p: dict[str, torch.Tensor], xi: torch.Tensor, yi: torch.Tensor, ti: torch.Tensor) -> torch.Tensor:
        out = functional_call(model, {**p, **frozen, **buffers}, (xi.unsqueeze(0),))
        return ctx.per_sample_loss(out, yi.unsqueeze(0), ti.unsqueeze(0)).sum()

    per_sample_grad = vmap(grad(sample_loss), in_dims=(None, 0, 0, 0))
    fisher = {n: torch.zeros_like(params[n]) for n in names}
    with eval_mode(model):  # Fisher at the deployed function: no dropout noise
        for start in range(0, x.shape[0], chunk_size):
            xb, yb, tb = x[start : start + chunk_size], y[start : start + chunk_size], task_ids[start : start + chunk_size]
            if kind in ("true", "expected"):
                with torch.no_grad():
                    logits = ctx.forward(xb, tb)
                    # sample within the task's admissible classes: masking is part of per_sample_loss,
                    # so recover the masked log-probabilities by scoring every class
                    n_cls = logits.shape[1]
                    scores = torch.stack(
                        [-ctx.per_sample_loss(logits, torch.full_like(yb, c), tb) for c in range(n_cls)], dim=1
                    )
                    probs = (scores / temperature).softmax(dim=1)
                if kind == "true":
                    # drawn on the CPU, where the generator is (a GPU's probabilities refuse it), and
                    # handed to the loss where the labels are
                    yb = torch.multinomial(probs.cpu(), 1, generator=generator).squeeze(1).to(yb.device)
                else:
                    # one row per (sample, class), weighted by the class's probability; classes masked
                    # out of the task have probability 0 and are skipped. Rows and classes are
                    # indices, on the CPU beside the task ids; classes become labels where y is
                    rows, cls = (probs > 0).cpu().nonzero(as_tuple=True)
                    weight = probs[rows, cls]
                    for s0 in range(0, rows.shape[0], chunk_size):
                        r, c, w = rows[s0 : s0 + chunk_size], cls[s0 : s0 + chunk_size], weight[s0 : s0 + chunk_size]
                        grads = per_sample_grad(params, xb[r], c.to(yb.device), tb[r])
                        for n in names:
                            fisher[n] += torch.einsum("b,b...->...", w, grads[n].pow(2))
                    continue
            grads = per_sample_grad(params, xb, yb, tb)
            for n in names:
                fisher[n] += grads[n].pow(2).sum(dim=0)
    for n in names:
        fisher[n] /= x.shape[0]
    return fisher


class EWC(Strategy):
    """Elastic Weight Consolidation (Kirkpatrick et al., 2017), separate or online.

    After each task the diagonal Fisher information ``F`` is estimated from the task's data at the
    trained parameters ``theta*``; later tasks pay ``lambda/2 * sum F (theta - theta*)^2``.

    * ``mode="separate"``: one (F, theta*) pair per task, penalties summed (memory grows with tasks).
    * ``mode="online"`` (Schwarz et al., 2018, "online EWC"): one running ``F <- decay*F + F_task``
      anchored at the latest parameters; constant memory.

    Arguments:
        ewc_lambda: strength of the penalty. The Fisher here is the mean of *per-sample* squared
            gradients, so lambda is on a different scale from libraries that square batch gradients.
            See ``docs/benchmarks/continual.md`` for the sweep behind the default. The training
            regime matters as much as lambda: on permuted digits lambda 100 gives 0.64 with plain
            training and 0.78 with dropout 0.5 and a learning rate decayed by 0.7 per experience
            (``ContinualConfig.lr_decay``); dropout also keeps lambda 200 stable with SGD + momentum,
            which diverges without it. Larger lambdas (300 to 1000, with ``grad_clip``) did about as well
            at a milder decay (0.8), not better.
        mode: ``"separate"`` or ``"online"``.
        decay: online mode's forgetting factor for the running Fisher (1 keeps all of it).
        fisher_samples: at most this many samples of the task estimate F (None: all of them).
        fisher: ``"empirical"`` (given labels), ``"true"`` (labels sampled from the model) or
            ``"expected"`` (the exact expectation over the model's labels; see :func:`fisher_diagonal`).
        fisher_temperature: softening of the predictive distribution for ``"true"``/``"expected"``.
        normalize: divide each task's Fisher by its ``"mean"`` or ``"max"`` over all weights before
            scaling by lambda (None: raw). The raw Fisher shrinks as a task is memorised, so lambda's
            useful range moves with the training length; normalised, lambda is the stiffness of the
            average (or most important) weight.
        fisher_from: ``"end"`` estimates F on the task's data at the trained parameters;
            ``"trajectory"`` averages the per-sample Fisher of every training batch of the task
            along the way (as in EWC++, Chaudhry et al., 2018), so that samples memorised by the
            end still count with the curvature they had while being learned.
        max_stiffness: cap on ``lambda * F`` summed over tasks, per weight (None: no cap).
        decoupled: apply the penalty as an implicit step after each optimiser step instead of
            adding it to the loss (see :meth:`after_step`); stable for any lambda.
        seed: for the Fisher's sample subset and sampled labels.

    Example:
        >>> from meta import ContinualLearner, EWC
        >>> model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 2))
        >>> learner = ContinualLearner(model, strategy=EWC(ewc_lambda=50.0, mode="online"))
        >>> _ = learner.train_task((torch.randn(20, 4), torch.randint(0, 2, (20,))), task_id=0, num_epochs=1)
        >>> sorted(learner.strategy.fisher_[0])[:1]
        ['0.bias']
    """

    name = "ewc"

    def __init__(
        self,
        ewc_lambda: float = 100.0,
        mode: Literal["separate", "online"] = "separate",
        decay: float = 1.0,
        fisher_samples: int | None = None,
        fisher: Literal["empirical", "true", "expected"] = "empirical",
        fisher_temperature: float = 1.0,
        normalize: Literal["mean", "max"] | None = None,
        fisher_from: Literal["end", "trajectory"] = "end",
        max_stiffness: float | None = None,
        decoupled: bool = False,
        seed: int = 0,
    ) -> None:
        self._quadratic_cache: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], float] | None = None
        self.max_stiffness = max_stiffness
        self.ewc_lambda = ewc_lambda
        if mode not in ("separate", "online"):
            raise ValueError(f"mode: must be 'separate' or 'online', got {mode!r}")
        decay = check_real("decay", decay, low=0, high=1)
        if fisher_samples is not None:
            fisher_samples = check_count("fisher_samples", fisher_samples, low=1)
        if fisher not in ("empirical", "true", "expected"):
            raise ValueError(f"fisher: must be 'empirical', 'true' or 'expected', got {fisher!r}")
        fisher_temperature = check_real("fisher_temperature", fisher_temperature, low=0, low_open=True)
        if fisher_from not in ("end", "trajectory"):
            raise ValueError(f"fisher_from: must be 'end' or 'trajectory', got {fisher_from!r}")
        if normalize not in (None, "mean", "max"):
            raise ValueError(f"normalize: must be 'mean', 'max' or None, got {normalize!r}")
        decoupled = check_flag("decoupled", decoupled)
        seed = check_seed("seed", seed)
        self.mode = mode
        self.decay = decay
        self.fisher_samples = fisher_samples
        self.fisher = fisher
        self.fisher_temperature = float(fisher_temperature)
        self.normalize = normalize
        self.fisher_from = fisher_from
        self._running: tuple[dict[str, torch.Tensor], int] | None = None  # trajectory Fisher sum, samples
        self.decoupled = decoupled
        self.name = "ewc" if mode == "separate" else "online_ewc"
        self._generator = torch.Generator().manual_seed(seed)
        # task id (or 0 in online mode) -> Fisher and anchor parameters
        self.fisher_: dict[int, dict[str, torch.Tensor]] = {}
        self.anchor_: dict[int, dict[str, torch.Tensor]] = {}

    # Both shape the cached penalty (see _quadratic): setting one checks it and drops the cache, so
    # that a new value takes effect at the next step, not at the next consolidation.
    @property
    def ewc_lambda(self) -> float:
        """Strength of the penalty (settable: checked, and applied from the next step)."""
        return self._ewc_lambda

    @ewc_lambda.setter
    def ewc_lambda(self, value: float) -> None:
        self._ewc_lambda = check_real("ewc_lambda", value, low=0)
        self._quadratic_cache = None

    @property
    def max_stiffness(self) -> float | None:
        """Cap on the summed stiffness per weight, or None (settable: checked, and applied from the next step)."""
        return self._max_stiffness

    @max_stiffness.setter
    def max_stiffness(self, value: float | None) -> None:
        self._max_stiffness = None if value is None else check_real("max_stiffness", value, low=0, low_open=True)
        self._quadratic_cache = None

    def penalty(self, ctx: TrainingContext, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        """``lambda/2 * sum F (theta - theta*)^2`` over the consolidated tasks (None before the
        first consolidation and in decoupled mode)."""
        if not self.fisher_ or self.ewc_lambda == 0.0 or self.decoupled:
            return None
        return self.penalty_value(ctx)

    def penalty_value(self, ctx: TrainingContext) -> torch.Tensor:
        """The penalty at the model's current parameters (differentiable)."""
        params = dict(ctx.model.named_parameters())
        stiffness, centre, constant = self._quadratic()
        # in the model's precision and beside it: a float32 CPU zero turned a bfloat16 model's
        # penalty to float32
        total = torch.zeros((), dtype=model_dtype(ctx.model), device=model_device(ctx.model))
        for n, k in stiffness.items():
            total = total + (k * (params[n] - centre[n]).pow(2)).sum()
        return 0.5 * (total + constant)

    @torch.no_grad()
    def after_step(self, ctx: TrainingContext, step_size: float) -> None:
        """Decoupled mode: an implicit (backward-Euler) step on the penalty after the optimiser's
        step, ``theta <- c + (theta - c) / (1 + step_size * K)``. Unlike the gradient of the penalty
        it is stable for any stiffness and stays out of the optimiser's momentum, so a strong penalty
        neither diverges nor oscillates around its anchor."""
        if not self.decoupled or not self.fisher_ or self.ewc_lambda == 0.0:
            return
        stiffness, centre, _ = self._quadratic()
        for n, p in ctx.model.named_parameters():
            if n in stiffness:
                k = stiffness[n]
                p.copy_(centre[n] + (p - centre[n]) / (1.0 + step_size * k))

    def before_task(self, ctx: TrainingContext, task_id: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """Start the task's trajectory Fisher afresh (a task that failed midway leaves nothing behind)."""
        self._running = None

    def after_batch(self, ctx: TrainingContext, batch: Batch, losses: torch.Tensor) -> None:
        """``fisher_from="trajectory"``: add the current samples' per-sample Fisher to the task's sum."""
        if self.fisher_from != "trajectory":
            return
        n = batch.n_current
        f = fisher_diagonal(
            ctx, batch.x[:n], batch.y[:n], batch.task_ids[:n], kind=self.fisher,
            generator=self._generator, temperature=self.fisher_temperature,
        )
        if self._running is None:
            self._running = ({k: v * n for k, v in f.items()}, n)
        else:
            total, count = self._running
            self._running = ({k: total[k] + v * n for k, v in f.items()}, count + n)

    def _quadratic(self) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], float]:
        """The summed penalty ``sum_k K_k (theta - a_k)^2`` in one quadratic ``K (theta - c)^2 + const``.

        ``K_k = lambda * F_k``, scaled down where the summed ``K`` exceeds ``max_stiffness`` (a
        weight pulled back harder than one SGD step can follow makes training diverge, and adds no
        protection). One quadratic makes the separate mode cost as little per step as the online
        one. Cached until the next consolidation or a new ``ewc_lambda`` or ``max_stiffness``.
        """
        if self._quadratic_cache is None:
            scaled = {k: {n: self.ewc_lambda * f for n, f in fs.items()} for k, fs in self.fisher_.items()}
            names = sorted({n for fs in scaled.values() for n in fs})
            stiffness, centre, constant = {}, {}, 0.0
            for n in names:
                parts = [(s[n], self.anchor_[k][n]) for k, s in scaled.items() if n in s]
                total = sum(k for k, _ in parts)
                if self.max_stiffness is not None:
                    shrink = (self.max_stiffness / total.clamp_min(1e-30)).clamp(max=1.0)
                    parts = [(k * shrink, a) for k, a in parts]
                    total = total * shrink
                weighted = sum(k * a for k, a in parts)
                c = torch.where(total > 0, weighted / total.clamp_min(1e-30), parts[0][1])
                stiffness[n], centre[n] = total, c
                constant += float(sum((k * (a - c).pow(2)).sum() for k, a in parts))
            self._quadratic_cache = (stiffness, centre, constant)
        return self._quadratic_cache

    def after_task(self, ctx: TrainingContext, task_id: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """Estimate the task's Fisher at the trained parameters and anchor there."""
        task_ids = torch.full((x.shape[0],), task_id, dtype=torch.long)
        if self.fisher_samples is not None and x.shape[0] > self.fisher_samples:
            idx = torch.randperm(x.shape[0], generator=self._generator)[: self.fisher_samples]
            x, y, task_ids = x[idx], y[idx], task_ids[idx]
        if self.fisher_from == "trajectory" and self._running is not None:
            total, count = self._running
            fisher = {n: f / count for n, f in total.items()}
        else:
            fisher = fisher_diagonal(
                ctx, x, y, task_ids, kind=self.fisher, generator=self._generator, temperature=self.fisher_temperature
            )
        self._running = None
        if self.normalize is not None:
            flat = torch.cat([f.flatten() for f in fisher.values()])
            scale = float(flat.mean() if self.normalize == "mean" else flat.max())
            if scale > 0:
                fisher = {n: f / scale for n, f in fisher.items()}
        anchor = {n: p.detach().clone() for n, p in ctx.model.named_parameters() if n in fisher}
        key = 0 if self.mode == "online" else task_id
        if self.mode == "online" and key in self.fisher_:
            old = self.fisher_[key]
            fisher = {n: self.decay * old.get(n, torch.zeros_like(f)) + f for n, f in fisher.items()}
        self.fisher_[key] = fisher
        self.anchor_[key] = anchor
        self._quadratic_cache = None
        log.debug(
            "ewc_consolidated",
            task_id=task_id,
            mode=self.mode,
            fisher_mean=float(torch.cat([f.flatten() for f in fisher.values()]).mean()),
        )

    def state_dict(self) -> dict[str, Any]:
        """The importance weights and anchors of each consolidation, and the sampling generator."""
        return {"fisher": self.fisher_, "anchor": self.anchor_, "generator": self._generator.get_state()}

    def load_state_dict(self, state: dict[str, Any], ctx: TrainingContext) -> None:
        """Restore :meth:`state_dict`; the weights must be those of ``ctx.model``'s parameters.

        Refused, naming the field and changing nothing: Fisher and anchors of different tasks or
        parameters (the penalty would fail at the next step), a task key that is not a task id,
        more than one consolidation in online mode, a Fisher value that is negative (the penalty
        would push the weight away from its anchor) and a value that is not finite.
        """
        expect_state_keys(self, state, {"fisher", "anchor", "generator"})
        fisher, anchor = state["fisher"], state["anchor"]
        if not isinstance(fisher, dict) or not isinstance(anchor, dict):
            raise ValueError(f"{self.name}: fisher and anchor must map task ids to weights, got "
                             f"{type(fisher).__name__} and {type(anchor).__name__}")
        for key in (*fisher, *anchor):
            check_count(f"{self.name}: task id", key)
        if set(fisher) != set(anchor):
            raise ValueError(f"{self.name}: fisher holds tasks {sorted(fisher)}, anchor {sorted(anchor)}")
        if self.mode == "online" and set(fisher) - {0}:
            raise ValueError(f"{self.name}: online mode keeps one consolidation under key 0, got keys {sorted(fisher)}")
        for field, weights in (("fisher", fisher), ("anchor", anchor)):
            for key, named in weights.items():
                if not isinstance(named, dict):
                    raise ValueError(f"{self.name}: {field}[{key}] must map parameter names to tensors, got {type(named).__name__}")
                for n, t in named.items():
                    state_tensor(f"{self.name}: {field}[{key}][{n!r}]", t)
        shapes = {n: p.shape for n, p in ctx.model.named_parameters()}
        for key in fisher:
            if set(fisher[key]) != set(anchor[key]):
                raise ValueError(
                    f"{self.name}: fisher[{key}] and anchor[{key}] name different parameters: "
                    f"{sorted(set(fisher[key]) ^ set(anchor[key]))[:5]}"
                )
            for field in ("fisher", "anchor"):
                for n, t in state[field][key].items():
                    if n not in shapes or t.shape != shapes[n]:
                        raise ValueError(
                            f"{self.name}: {field}[{key}][{n!r}] has shape {tuple(t.shape)}, the model's parameter "
                            f"{'is missing' if n not in shapes else f'has {tuple(shapes[n])}'}"
                        )
                    if not bool(torch.isfinite(t).all()) or (field == "fisher" and bool((t < 0).any())):
                        bound = " and >= 0" if field == "fisher" else ""
                        raise ValueError(f"{self.name}: {field}[{key}][{n!r}] must be finite{bound}, got min {float(t.min())}")
        set_generator_state(self._generator, state["generator"], f"{self.name}: generator")
        # each beside its parameter and in its dtype, since the penalty subtracts it from the
        # parameter (a file loads on the CPU, and may come from a model of another precision)
        own = dict(ctx.model.named_parameters())
        self.fisher_, self.anchor_ = (
            {key: {n: t.detach().to(own[n].device, own[n].dtype, copy=True) for n, t in weights.items()}
             for key, weights in state[field].items()}
            for field in ("fisher", "anchor")
        )
        self._running, self._quadratic_cache = None, None

    def __repr__(self) -> str:
        return (
            f"EWC(ewc_lambda={self.ewc_lambda}, mode={self.mode!r}, decay={self.decay}, "
            f"fisher={self.fisher!r}, fisher_temperature={self.fisher_temperature}, normalize={self.normalize!r}, "
            f"max_stiffness={self.max_stiffness}, decoupled={self.decoupled})"
        )


# ----------------------------------------------------------------------------------------- replay

ReplayPolicy = Literal["reservoir", "class_balanced", "loss_prioritized"]
#: each replay policy's strategy name, as :func:`~meta.continual.learner.make_strategy` takes it
REPLAY_NAMES: dict[str, str] = {"reservoir": "replay", "class_balanced": "replay_balanced", "loss_prioritized": "replay_prioritized"}


class ExperienceReplay(Strategy):
    """Rehearsal from a bounded memory of past samples, mixed into every training batch.

    Each step adds ``replay_batch_size`` stored samples to the current batch; the loss is the mean
    over the current samples plus ``replay_weight`` times the (weighted) mean over the replayed ones.
    Samples of a task enter the memory when the task ends.

    Policies:

    * ``"reservoir"``: the memory is a uniform sample of everything seen (reservoir sampling);
      replay draws uniformly.
    * ``"class_balanced"``: the memory holds equal shares of every (task, class) group seen, evicting
      from the largest groups when new ones arrive; replay draws uniformly.
    * ``"loss_prioritized"``: reservoir memory, but replay draws sample ``i`` with probability
      ``p_i ~ (loss_i + eps)^alpha`` (its loss when it was last replayed; at the end of each task
      every stored sample is scored afresh at the trained model), and corrects the bias
      with importance-sampling weights ``(N p_i)^-beta`` normalised by their maximum
      (Schaul et al., 2016).

    ``name`` is the policy's name in :func:`~meta.continual.learner.make_strategy`: ``"replay"``,
    ``"replay_balanced"`` or ``"replay_prioritized"``.

    Example:
        >>> replay = ExperienceReplay(buffer_size=200, policy="class_balanced")
        >>> replay.name
        'replay_balanced'
    """

    name = "replay"

    def __init__(
        self,
        buffer_size: int = 200,
        policy: ReplayPolicy = "reservoir",
        replay_batch_size: int | None = None,
        replay_weight: float = 1.0,
        alpha: float = 0.6,
        beta: float = 0.4,
        seed: int = 0,
    ) -> None:
        buffer_size = check_count("buffer_size", buffer_size)
        if policy not in ("reservoir", "class_balanced", "loss_prioritized"):
            raise ValueError(f"policy: must be 'reservoir', 'class_balanced' or 'loss_prioritized', got {policy!r}")
        if replay_batch_size is not None:
            replay_batch_size = check_count("replay_batch_size", replay_batch_size, low=1)
        replay_weight = check_real("replay_weight", replay_weight, low=0)
        alpha = check_real("alpha", alpha, low=0)
        beta = check_real("beta", beta, low=0, high=1)
        seed = check_seed("seed", seed)
        self.buffer_size = buffer_size
        self.policy = policy
        # named apart: a learner saved with one policy is refused by a learner of another, by name
        self.name = REPLAY_NAMES[policy]
        self.replay_batch_size = replay_batch_size
        self.replay_weight = replay_weight
        self.alpha = alpha
        self.beta = beta
        self._generator = torch.Generator().manual_seed(seed)
        self.x: torch.Tensor | None = None
        self.y: torch.Tensor | None = None
        self.task_ids: torch.Tensor | None = None
        self.priority: torch.Tensor | None = None
        self.seen = 0  # samples offered to the reservoir so far

    def __len__(self) -> int:
        return 0 if self.x is None else int(self.x.shape[0])

    def state_dict(self) -> dict[str, Any]:
        """The memory (inputs, labels, task ids, priorities), the count offered, the generator."""
        return {"x": self.x, "y": self.y, "task_ids": self.task_ids, "priority": self.priority,
                "seen": self.seen, "generator": self._generator.get_state()}

    def load_state_dict(self, state: dict[str, Any], ctx: TrainingContext) -> None:
        """Restore :meth:`state_dict`. Refused, naming the field: a memory larger than
        ``buffer_size``, fewer samples offered (``seen``) than it holds, task ids that are not
        whole numbers, and priorities that are not one finite number >= 0 per sample for the
        loss-prioritised policy (or any priorities for another), since replay would fail on them
        at the next task."""
        expect_state_keys(self, state, {"x", "y", "task_ids", "priority", "seen", "generator"})
        for k in ("x", "y", "task_ids", "priority"):
            if state_tensor(f"{self.name}: {k}", state[k], optional=True) is not None and state[k].dim() == 0:
                raise ValueError(f"{self.name}: {k} must hold one row per sample, got a 0-d tensor")
        rows = {k: None if state[k] is None else int(state[k].shape[0]) for k in ("x", "y", "task_ids")}
        if len(set(rows.values())) != 1:
            raise ValueError(f"{self.name}: memory rows differ between x, y and task_ids: {rows}")
        n = rows["x"] or 0
        if n > self.buffer_size:
            raise ValueError(f"{self.name}: the memory holds {n} samples, more than buffer_size={self.buffer_size}")
        seen = check_count(f"{self.name}: seen", state["seen"], low=n)
        task_ids, priority = state["task_ids"], state["priority"]
        if task_ids is not None and (task_ids.dim() != 1 or task_ids.is_floating_point() or task_ids.dtype == torch.bool):
            raise ValueError(f"{self.name}: task_ids must be a 1-d tensor of whole numbers, got {task_ids.dtype} {tuple(task_ids.shape)}")
        prioritized = self.policy == "loss_prioritized" and n > 0
        fits = priority is None if not prioritized else (
            priority is not None and tuple(priority.shape) == (n,) and priority.is_floating_point()
            and bool((torch.isfinite(priority) & (priority >= 0)).all())
        )
        if not fits:
            held = None if priority is None else f"{priority.dtype} {tuple(priority.shape)}"
            want = f"{n} finite numbers >= 0" if prioritized else "None"
            raise ValueError(f"{self.name}: priority for policy {self.policy!r} and {n} samples must be {want}, got {held}")
        set_generator_state(self._generator, state["generator"], f"{self.name}: generator")
        # copies: reservoir replacement and priorities write into the memory in place. Where training
        # keeps them: samples on the model's device, with the batches they join (a file loads on the
        # CPU), floating ones in the model's dtype as the data it takes (a float32 file in a float64
        # learner failed at the next task's reservoir writes); priorities there too, as the losses
        # they are; task ids on the CPU, as the memory stores them
        device, dtype = model_device(ctx.model), model_dtype(ctx.model)
        self.x, self.y, self.priority = (
            None if t is None else t.detach().to(device, dtype if t.is_floating_point() else t.dtype, copy=True)
            for t in (state["x"], state["y"], priority)
        )
        self.task_ids = None if task_ids is None else task_ids.detach().to("cpu", copy=True)
        self.seen = seen

    # -- sampling into batches
    def augment_batch(self, ctx: TrainingContext, batch: Batch) -> Batch:
        """Append ``replay_batch_size`` stored samples, weighted (see the class docstring)."""
        n = len(self)
        if n == 0 or self.replay_weight == 0.0:
            return batch
        k = self.replay_batch_size or batch.n_current
        assert self.x is not None and self.y is not None and self.task_ids is not None
        if self.policy == "loss_prioritized":
            assert self.priority is not None
            # drawn on the CPU, where the generator is (a GPU's probabilities refuse it), in at
            # least float32 (a bfloat16 priority swallows the 1e-3 floor)
            p = (self.priority.to("cpu", torch.promote_types(self.priority.dtype, torch.float32)) + 1e-3).pow(self.alpha)
            p = p / p.sum()
            idx = torch.multinomial(p, k, replacement=True, generator=self._generator)
            w = (n * p[idx]).pow(-self.beta)
            w = (w / w.max()).to(batch.weight)
        else:
            if k <= n:
                idx = torch.randperm(n, generator=self._generator)[:k]
            else:
                idx = torch.randint(0, n, (k,), generator=self._generator)
            w = batch.weight.new_ones(k)
        # scale so that the replay term is replay_weight * mean over replayed samples; the weights
        # are where the current batch's are (beside the model), which they are joined to
        w = w * self.replay_weight * batch.n_current / k
        return batch.extend(self.x[idx], self.y[idx], self.task_ids[idx], w, idx)

    def after_batch(self, ctx: TrainingContext, batch: Batch, losses: torch.Tensor) -> None:
        """Loss-prioritised policy: the replayed rows' new losses become their priorities."""
        if self.policy != "loss_prioritized" or self.priority is None:
            return
        mem = batch.memory_index >= 0
        if mem.any():
            self.priority[batch.memory_index[mem]] = losses[mem].detach()

    # -- storing
    def after_task(self, ctx: TrainingContext, task_id: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """Offer the task's samples to the memory, in random order."""
        if self.buffer_size == 0:
            return
        # the order is decided on indices, and only the rows the memory keeps are copied: shuffling
        # the task itself copied all of it, doubling a large task's memory for a few hundred rows
        order = torch.randperm(x.shape[0], generator=self._generator)
        if self.policy == "class_balanced":
            self._store_balanced(x, y, task_id, order)
        else:
            self._store_reservoir(x, y, task_id, order)
        if self.policy == "loss_prioritized":
            # every row is scored at the trained model: new rows are neither ignored nor flooded, and
            # old ones are ranked by what the task just trained did to them
            with torch.no_grad(), eval_mode(ctx.model):
                assert self.x is not None and self.y is not None and self.task_ids is not None
                out = ctx.forward(self.x, self.task_ids)
                self.priority = ctx.per_sample_loss(out, self.y, self.task_ids)
        log.debug("replay_stored", task_id=task_id, policy=self.policy, size=len(self))

    def _store_reservoir(self, x: torch.Tensor, y: torch.Tensor, task_id: int, order: torch.Tensor) -> None:
        """Offer the rows ``x[order]`` one by one (reservoir sampling)."""
        if self.x is None:
            self.x, self.y, self.task_ids = x[:0].clone(), y[:0].clone(), torch.zeros(0, dtype=torch.long)
        assert self.y is not None and self.task_ids is not None
        # While there is room the reservoir keeps every sample: the free slots take the first ones in
        # one copy (a copy per sample made filling a memory of n samples cost n^2 row copies).
        free = min(self.buffer_size - len(self), order.shape[0])
        if free > 0:
            rows = order[:free]
            self.x = torch.cat([self.x, x[rows]])
            self.y = torch.cat([self.y, y[rows]])
            self.task_ids = torch.cat([self.task_ids, torch.full((free,), task_id, dtype=torch.long)])
            self.seen += free
        # then each later sample replaces a random slot or is dropped; the last to take a slot keeps it
        slot_row: dict[int, int] = {}
        for i in range(free, order.shape[0]):
            j = int(torch.randint(0, self.seen + 1, (1,), generator=self._generator))
            if j < self.buffer_size:
                slot_row[j] = i
            self.seen += 1
        if slot_row:
            slots, rows = torch.tensor(list(slot_row)), order[torch.tensor(list(slot_row.values()))]
            self.x[slots], self.y[slots], self.task_ids[slots] = x[rows], y[rows], task_id

    def _store_balanced(self, x: torch.Tensor, y: torch.Tensor, task_id: int, order: torch.Tensor) -> None:
        """Pool the memory with the rows ``x[order]`` and keep equal shares of every (task, class)."""
        self.seen += int(order.shape[0])  # the samples offered, not the memory they are pooled with
        held = len(self)
        # grouped on the labels alone; the rows kept are gathered at the end, from memory or task
        y_new, t_new = y[order], torch.full((order.shape[0],), task_id, dtype=torch.long)
        if self.x is not None:
            assert self.y is not None and self.task_ids is not None
            y_all, t_all = torch.cat([self.y, y_new]), torch.cat([self.task_ids, t_new])
        else:
            y_all, t_all = y_new, t_new
        # groups are (task, class) pairs; labels may be vectors in regression, then group by task
        # (keys on the CPU, beside the task ids: labels may be on the model's device)
        label_key = y_all.cpu() if y_all.dim() == 1 and not y_all.is_floating_point() else torch.zeros_like(t_all)
        # the (task, label) pairs themselves, in their order: one number made of both,
        # task * (labels + 1) + label, overflowed int64 for a large task id (a hash, say) and wrapped
        # onto another task's groups, whose rows then took its share of the memory
        keys = torch.stack([t_all, label_key.to(t_all.dtype)], dim=1)
        groups, inverse, counts = torch.unique(keys, dim=0, return_inverse=True, return_counts=True)
        quota = _water_fill(counts.tolist(), self.buffer_size)
        keep: list[torch.Tensor] = []
        for g, q in enumerate(quota):
            members = (inverse == g).nonzero().squeeze(1)
            # members are already in random order (old rows first, then shuffled new rows)
            keep.append(members[:q])
        idx = torch.cat(keep) if keep else torch.zeros(0, dtype=torch.long)
        old, new = idx < held, idx >= held
        kept_x = x.new_empty((idx.shape[0], *x.shape[1:]))
        if self.x is not None:
            kept_x[old] = self.x[idx[old]]
        kept_x[new] = x[order[idx[new] - held]]
        self.x, self.y, self.task_ids = kept_x, y_all[idx], t_all[idx]


def _water_fill(counts: list[int], capacity: int) -> list[int]:
    """Split ``capacity`` slots over groups as equally as possible, no group above its count."""
    quota = [0] * len(counts)
    remaining = capacity
    open_groups = [i for i, c in enumerate(counts) if c > 0]
    while remaining > 0 and open_groups:
        share, extra = divmod(remaining, len(open_groups))
        next_open = []
        for rank, i in enumerate(open_groups):
            give = min(counts[i] - quota[i], share + (1 if rank < extra else 0))
            quota[i] += give
            remaining -= give
            if quota[i] < counts[i]:
                next_open.append(i)
        if share == 0 and extra == 0:
            break
        open_groups = next_open
    return quota


# -------------------------------------------------------------------------------------------- LwF


def _frozen_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` in eval mode with every parameter frozen (a distillation teacher)."""
    teacher = copy.deepcopy(model).eval()
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


class LwF(Strategy):
    """Learning without Forgetting (Li & Hoiem, 2016): distil the previous model's outputs.

    While training a task, the outputs of the model as it was before the task (the teacher) on the
    current inputs are kept close to the trained model's: a temperature-``T`` KL divergence over the
    classes seen in earlier tasks, times ``alpha * T^2``. No samples are stored.

    Example:
        >>> LwF(alpha=1.0, temperature=2.0).name
        'lwf'
    """

    name = "lwf"

    def __init__(self, alpha: float = 1.0, temperature: float = 2.0) -> None:
        alpha = check_real("alpha", alpha, low=0)
        temperature = check_real("temperature", temperature, low=0, low_open=True)
        self.alpha = alpha
        self.temperature = temperature
        self.teacher: nn.Module | None = None
        self.old_classes: list[int] = []

    def penalty(self, ctx: TrainingContext, batch: Batch, outputs: torch.Tensor) -> torch.Tensor | None:
        """Distillation from the teacher on the current task's inputs, over the old classes."""
        if self.teacher is None or self.alpha == 0.0 or len(self.old_classes) == 0:
            return None
        cls = torch.tensor(self.old_classes, device=outputs.device)
        n = batch.n_current
        with torch.no_grad():
            old = ctx.forward(batch.x[:n], batch.task_ids[:n], model=self.teacher)[:, cls]
        new = outputs[:n, cls]
        T = self.temperature
        kl = F.kl_div(F.log_softmax(new / T, dim=1), F.log_softmax(old / T, dim=1), reduction="batchmean", log_target=True)
        return self.alpha * T * T * kl

    def after_task(self, ctx: TrainingContext, task_id: int, x: torch.Tensor, y: torch.Tensor) -> None:
        """Snapshot the trained model as the next task's teacher and record the classes seen."""
        if y.is_floating_point():
            raise TypeError("LwF: distillation over classes needs integer class labels")
        self.teacher = _frozen_copy(ctx.model)
        self.old_classes = sorted(set(self.old_classes) | set(torch.unique(y).tolist()))

    def state_dict(self) -> dict[str, Any]:
        """The teacher's weights (None before the first task) and the classes seen so far."""
        teacher = None if self.teacher is None else self.teacher.state_dict()
        return {"teacher": teacher, "old_classes": self.old_classes}

    def load_state_dict(self, state: dict[str, Any], ctx: TrainingContext) -> None:
        """Restore :meth:`state_dict`; the teacher is rebuilt as a frozen copy of ``ctx.model``.
        Old classes that are not distinct class labels (>= 0) are refused naming the field: a
        negative one would index the logits from the end and distil another class."""
        expect_state_keys(self, state, {"teacher", "old_classes"})
        classes = state["old_classes"]
        if not isinstance(classes, (list, tuple)):
            raise ValueError(f"{self.name}: old_classes must be a list of class labels, got {type(classes).__name__}")
        classes = [check_count(f"{self.name}: old_classes[{i}]", c) for i, c in enumerate(classes)]
        if len(set(classes)) != len(classes):
            raise ValueError(f"{self.name}: old_classes repeat, got {classes}")
        teacher, weights = None, state["teacher"]
        if weights is not None:
            if not isinstance(weights, dict):
                raise ValueError(f"{self.name}: teacher must map parameter names to tensors, got {type(weights).__name__}")
            for n, t in weights.items():
                state_tensor(f"{self.name}: teacher[{n!r}]", t)
            teacher = _frozen_copy(ctx.model)
            try:
                teacher.load_state_dict(weights)
            except RuntimeError as exc:  # torch's words name no field: missing keys, other shapes
                raise ValueError(f"{self.name}: teacher does not fit the model: {' '.join(str(exc).split())}") from None
        self.teacher, self.old_classes = teacher, sorted(classes)

    def __repr__(self) -> str:
        return f"LwF(alpha={self.alpha}, temperature={self.temperature})"
