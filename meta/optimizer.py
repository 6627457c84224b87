"""Adaptive optimisation and Bayesian hyperparameter search.

* :class:`AdaptiveOptimizer` wraps a torch optimiser and learns its learning rate online by hypergradient
  descent (Baydin et al., 2018, "Online Learning Rate Adaptation with Hypergradient Descent"), one rate per
  parameter group, and watches the loss for trends, plateaus and convergence.
* :class:`BayesianOptimizer` searches a hyperparameter space with Optuna (its Gaussian-process sampler by
  default, TPE as an option). Where the trials live is chosen by one argument, ``storage``: ``None`` keeps
  them in memory; a URL (``sqlite:///hpo.db``, ``postgresql://...``) or an Optuna storage object lets several
  processes or hosts share one study and lets a stopped search resume.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import decimal
import importlib.util
import inspect
import logging
import math
import os
import threading
import time
import warnings
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import optuna
import torch
from pydantic import ConfigDict, Field, field_validator

from meta._checks import NumbersOnly, check_count, check_flag, check_path, check_real
from meta._log import event_log
from meta._sync import synchronized
# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)

__all__ = [
    "AdaptiveOptimizer",
    "BayesianOptimizer",
    "BayesianOptimizerConfig",
    "AllTrialsFailedError",
    "PRUNERS",
    "TrialPruned",
    "check_called_with_one_argument",
    "check_gp_grids",
    "check_storage",
    "check_storable_choices",
    "check_study_name",
    "parse_parameter_space",
    "report",
]

_BASE_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}


class _BackwardSeen:
    """A gradient hook that notes that a backward pass reached a parameter."""

    def __init__(self) -> None:
        self.seen = False

    def __call__(self, _parameter: torch.Tensor) -> None:
        self.seen = True


def _remove_hooks(hooks: list[torch.utils.hooks.RemovableHandle]) -> None:
    for hook in hooks:
        hook.remove()


# constructor settings and running records of an AdaptiveOptimizer, as its state_dict names them
_ADAPTIVE_SETTINGS = (
    "use_meta_learning", "meta_learning_rate", "min_lr", "max_lr", "window", "plateau_patience",
    "plateau_factor", "plateau_threshold", "convergence_tol", "convergence_patience",
)
_ADAPTIVE_RECORDS = {
    "step_count": "step_count", "hypergradients": "hypergradients",
    "plateau_reductions": "plateau_reductions", "converged": "converged", "converged_at_step": "converged_at_step",
    "best_window_mean": "_best_window_mean", "steps_since_improvement": "_steps_since_improvement",
    "quiet_windows": "_quiet_windows", "last_window_mean": "_last_window_mean", "best_loss": "best_loss",
    "losses_seen": "_losses_seen",
}
# records that states saved by earlier versions lack; _checked_records fills them in
_ADAPTIVE_LATER_RECORDS = {"best_loss", "losses_seen"}


def _checked_settings(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """An AdaptiveOptimizer's settings, checked (ValueError naming ``prefix`` + the field)."""
    if not isinstance(settings, Mapping) or set(settings) != set(_ADAPTIVE_SETTINGS):
        found = sorted(settings) if isinstance(settings, Mapping) else type(settings).__name__
        raise ValueError(f"{prefix or 'settings'}: expected {sorted(_ADAPTIVE_SETTINGS)}, got {found}")
    low = check_real(prefix + "min_lr", settings["min_lr"], low=0, low_open=True)
    return {
        "use_meta_learning": check_flag(prefix + "use_meta_learning", settings["use_meta_learning"]),
        "meta_learning_rate": check_real(prefix + "meta_learning_rate", settings["meta_learning_rate"], low=0),
        "min_lr": low,
        "max_lr": check_real(prefix + "max_lr", settings["max_lr"], low=low),
        "window": check_count(prefix + "window", settings["window"], low=2),
        "plateau_patience": check_count(prefix + "plateau_patience", settings["plateau_patience"], low=1),
        # NaN fails too: a NaN factor or threshold would make every rate NaN or never fire
        "plateau_factor": check_real(prefix + "plateau_factor", settings["plateau_factor"], low=1, low_open=True),
        "plateau_threshold": check_real(prefix + "plateau_threshold", settings["plateau_threshold"], low=0),
        "convergence_tol": check_real(prefix + "convergence_tol", settings["convergence_tol"], low=0),
        "convergence_patience": check_count(prefix + "convergence_patience", settings["convergence_patience"], low=1),
    }


def _checked_records(state: Mapping[str, Any], n_groups: int) -> dict[str, Any]:
    """An AdaptiveOptimizer's running records from a :meth:`~AdaptiveOptimizer.state_dict`, checked
    (ValueError naming the field), by their names in the state: a damaged record would fail a later
    step, or steer the plateau and convergence logic, with nothing to say where it came from."""

    def numbers(field: str, values: Any, **bounds: Any) -> list[float]:
        if not isinstance(values, (list, tuple)):
            raise ValueError(f"{field}: expected a list of numbers, got {type(values).__name__}")
        return [check_real(f"{field}[{i}]", v, **bounds) for i, v in enumerate(values)]

    step_count = check_count("step_count", state["step_count"])
    history = state["lr_history"]
    if not isinstance(history, (list, tuple)) or len(history) > step_count:
        found = len(history) if isinstance(history, (list, tuple)) else type(history).__name__
        raise ValueError(f"lr_history: expected the rates of at most the {step_count} steps taken, got {found}")
    hypergradients = numbers("hypergradients", state["hypergradients"])
    if len(hypergradients) != n_groups:
        raise ValueError(f"hypergradients: {len(hypergradients)} for this optimiser's {n_groups} parameter groups")
    converged, at = check_flag("converged", state["converged"]), state["converged_at_step"]
    if converged != (at is not None):
        raise ValueError(f"converged_at_step: {at!r} does not go with converged={converged}")
    best, last = state["best_window_mean"], state["last_window_mean"]
    losses = numbers("losses", state["losses"])
    # a state saved before the best loss was kept knows only the best of the losses it kept
    best_loss = state.get("best_loss", min(losses, default=None))
    if best_loss is not None:
        best_loss = check_real("best_loss", best_loss)
    if losses and (best_loss is None or best_loss > min(losses)):
        raise ValueError(f"best_loss: {best_loss!r}, but the state keeps a loss of {min(losses)!r}")
    # at most one loss a step; a state saved before they were counted judged its windows by the step
    # count, which is the count of losses when every step had one
    losses_seen = check_count("losses_seen", state.get("losses_seen", step_count), low=len(losses), high=step_count)
    return {
        "step_count": step_count,
        "lr_history": [numbers(f"lr_history[{i}]", rates, low=0) for i, rates in enumerate(history)],
        "hypergradients": hypergradients,
        "plateau_reductions": check_count("plateau_reductions", state["plateau_reductions"]),
        "converged": converged,
        "converged_at_step": None if at is None else check_count("converged_at_step", at, low=1, high=step_count),
        # infinite until the first full window
        "best_window_mean": math.inf if best == math.inf else check_real("best_window_mean", best),
        "steps_since_improvement": check_count("steps_since_improvement", state["steps_since_improvement"]),
        "quiet_windows": check_count("quiet_windows", state["quiet_windows"]),
        "last_window_mean": None if last is None else check_real("last_window_mean", last),
        "losses": losses,
        "best_loss": best_loss,
        "losses_seen": losses_seen,
    }


def _fits(shape: torch.Size, parameter: torch.Size, flat: torch.Size) -> bool:
    """Whether a tensor of ``shape`` can be in a base optimiser's state for a parameter of shape
    ``parameter``: the parameter's own shape, a factored moment of it (Adafactor's row and column
    variances: a 1 in place of a dimension), or ``flat``, the size of all the parameters together
    (LBFGS keeps its state flat, in the first parameter's entry)."""
    return shape == flat or (len(shape) == len(parameter) and all(d in (1, p) for d, p in zip(shape, parameter)))


def _as_real_dense(t: torch.Tensor) -> torch.Tensor:
    """``t`` as a dense real tensor: a sparse gradient (an ``Embedding(sparse=True)``) densified, a
    complex one viewed as (real, imaginary) pairs, whose dot product is the real inner product that
    the hypergradient needs (``Re(conj(g) d)``)."""
    if t.is_sparse:
        t = t.to_dense()
    return torch.view_as_real(t) if t.is_complex() else t


class AdaptiveOptimizer:
    """A torch optimiser whose learning rate is learned online by hypergradient descent.

    After each step the parameters moved by ``-lr * d`` (``d`` is the base optimiser's update direction).
    The derivative of the next loss with respect to the learning rate is ``-g_t . d_{t-1}``, so the rate
    grows while successive steps agree and shrinks when they overshoot. The multiplicative, normalised
    form of the rule from Baydin et al. (2018, section 5) is used, so ``meta_learning_rate`` is free of
    the gradient's scale: ``lr <- lr * (1 + meta_learning_rate * cos(g_t, d_{t-1}))``.

    :meth:`step` takes the batch's loss: as a tensor (``optimizer.step(loss)``) it also runs the
    backward pass when that has not been done; as a float (``optimizer.step(loss.item())``) it needs
    ``loss.backward()`` first. Complex parameters and sparse gradients are taken wherever the base
    optimiser takes them (``Re(conj(g) d)`` is the inner product for a complex one). The losses passed
    to :meth:`step` drive trend analysis: a plateau (relative improvement of the windowed mean below
    ``plateau_threshold`` for ``plateau_patience`` losses in a row, one a step when every step is given
    one) divides every rate by ``plateau_factor``;
    convergence is declared when the windowed mean changes by less than ``convergence_tol`` (relative)
    over ``convergence_patience`` consecutive windows of ``window`` losses (a step given no loss
    counts in none).

    Arguments:
        model: the module whose parameters are optimised (or an iterable of parameters / groups).
        base_optimizer: ``'adam'``, ``'adamw'``, ``'sgd'``, ``'rmsprop'``, ``'adagrad'`` or a
            ``torch.optim.Optimizer`` class.
        use_meta_learning: learn the rate by hypergradient descent; ``False`` keeps it fixed (trend and
            plateau handling still run).
        meta_learning_rate: step of the hypergradient rule (``beta`` in the paper), in [0, 1): a step
            against the previous one multiplies the rate by ``1 - meta_learning_rate`` at the least.
        learning_rate: the initial rate.
        min_lr, max_lr: the learned rate stays in this interval; a parameter group's own ``lr`` must
            start in it too.
        window: number of recent losses used for trends; the last ``10 * window`` losses and rates
            are kept (``losses``, ``lr_history``), and the lowest loss ever seen (``best_loss``).
        **optimizer_kwargs: passed to the base optimiser (``momentum``, ``weight_decay``, ...); not
            ``maximize=True``, refused as in a parameter group: the loss is minimised.

    Threads: ``step``, ``zero_grad``, ``state_dict``, ``load_state_dict`` and
    ``get_optimization_stats`` hold the optimiser's lock, so another thread may read the stats or
    take a state_dict while training runs and gets a consistent one; the training loop itself
    (backward, then step) belongs to one thread, as with any torch optimiser.

    ``state_dict()`` holds everything a step depends on: the base optimiser's state (its moments),
    the learned rates, the previous update direction, the loss window and the best loss, the plateau
    and convergence counters, and the settings above. ``load_state_dict(state)`` on an optimiser of
    the same parameters and base optimiser restores it, so training goes on exactly as if it had
    never stopped; a state of another base optimiser or other parameter shapes, or a damaged one
    (a record of the wrong type or range, a negative or non-finite rate), raises ValueError
    naming the field and changes nothing. The state is tensors and plain values:
    ``meta.checkpoint.save_state(path, "AdaptiveOptimizer", opt.state_dict())`` writes it to a
    safetensors file and ``load_state`` reads it back.

    Learning-rate schedulers: this wrapper is not a ``torch.optim.Optimizer`` (torch's schedulers
    refuse it), so give them the base optimiser, whose rates are the learned ones:
    ``StepLR(opt.optimizer, step_size=30, gamma=0.1)``, then ``scheduler.step()`` after
    ``opt.step(...)`` as usual. A chainable scheduler (``StepLR``, ``MultiStepLR``,
    ``ExponentialLR``, ``CosineAnnealingLR``, ``LinearLR``) scales the learned rate; one that sets
    the rate from its base rate (``LambdaLR``, ``OneCycleLR``, ``CyclicLR``) replaces what was
    learned at each of its steps. Each learned update keeps the rate within [min_lr, max_lr], so set
    ``min_lr`` below where the schedule goes. Save and load the scheduler's own ``state_dict``
    beside this optimiser's.

    Example:
        >>> import torch
        >>> model = torch.nn.Linear(3, 1)
        >>> opt = AdaptiveOptimizer(model, base_optimizer="sgd", meta_learning_rate=0.01, learning_rate=0.05)
        >>> x, y = torch.randn(32, 3), torch.randn(32, 1)
        >>> for _ in range(5):
        ...     opt.zero_grad()
        ...     loss = torch.nn.functional.mse_loss(model(x), y)
        ...     loss.backward()
        ...     opt.step(loss.item())
        >>> opt.get_optimization_stats()["step"]
        5

    References:
        Baydin, Cornish, Martinez Rubio, Schmidt, Wood (2018). Online Learning Rate Adaptation with
        Hypergradient Descent. ICLR.
    """

    def __init__(
        self,
        model: torch.nn.Module | Any,
        base_optimizer: str | type[torch.optim.Optimizer] = "adam",
        use_meta_learning: bool = True,
        meta_learning_rate: float = 0.001,
        learning_rate: float = 1e-3,
        min_lr: float = 1e-7,
        max_lr: float = 1.0,
        window: int = 20,
        plateau_patience: int = 50,
        plateau_factor: float = 2.0,
        plateau_threshold: float = 1e-3,
        convergence_tol: float = 1e-4,
        convergence_patience: int = 3,
        **optimizer_kwargs: Any,
    ) -> None:
        if isinstance(base_optimizer, str):
            cls = _BASE_OPTIMIZERS.get(base_optimizer.lower())
            if cls is None:
                raise ValueError(
                    f"base_optimizer: unknown {base_optimizer!r}; choose from {sorted(_BASE_OPTIMIZERS)}"
                )
        elif isinstance(base_optimizer, type) and issubclass(base_optimizer, torch.optim.Optimizer):
            cls = base_optimizer
        else:
            raise TypeError(f"base_optimizer: expected a name or an Optimizer class, got {base_optimizer!r}")
        if "lr" in optimizer_kwargs:
            raise TypeError(f"lr: the initial rate is learning_rate=..., got lr={optimizer_kwargs['lr']!r}")
        learning_rate = check_real("learning_rate", learning_rate, low=0)
        # below 1, so that a step against the last one shrinks the rate by at most that share: at 1 or
        # more, every reversal took the rate to 0 or below, clamped to min_lr. Checked here, not in
        # _checked_settings: a saved state that holds such a value still loads as it was saved.
        check_real("meta_learning_rate", meta_learning_rate, low=0, high=1, high_open=True)
        # the bounds first, so that a bound that is no number is named rather than failing the comparison
        settings = _checked_settings({
            "use_meta_learning": use_meta_learning, "meta_learning_rate": meta_learning_rate, "min_lr": min_lr,
            "max_lr": max_lr, "window": window, "plateau_patience": plateau_patience, "plateau_factor": plateau_factor,
            "plateau_threshold": plateau_threshold, "convergence_tol": convergence_tol,
            "convergence_patience": convergence_patience,
        })
        if not settings["min_lr"] <= learning_rate <= settings["max_lr"]:
            raise ValueError(
                f"learning_rate: need min_lr <= learning_rate <= max_lr, got {min_lr!r}, {learning_rate!r}, {max_lr!r}"
            )
        params = model.parameters() if isinstance(model, torch.nn.Module) else model
        self.optimizer = cls(params, lr=learning_rate, **optimizer_kwargs)
        self.use_meta_learning: bool = settings["use_meta_learning"]
        self.meta_learning_rate: float = settings["meta_learning_rate"]
        self.min_lr: float = settings["min_lr"]
        self.max_lr: float = settings["max_lr"]
        self.window: int = settings["window"]
        self.plateau_patience: int = settings["plateau_patience"]
        self.plateau_factor: float = settings["plateau_factor"]
        self.plateau_threshold: float = settings["plateau_threshold"]
        self.convergence_tol: float = settings["convergence_tol"]
        self.convergence_patience: int = settings["convergence_patience"]
        self.step_count = 0
        self.losses: deque[float] = deque(maxlen=10 * window)
        # the rates after each of the last steps, as many as the loss window keeps (all of them grew
        # without bound, and every state_dict copied them)
        self.lr_history: deque[list[float]] = deque(maxlen=10 * window)
        self.hypergradients: list[float] = []
        self.plateau_reductions = 0
        self.converged = False
        self.converged_at_step: int | None = None
        # the lowest loss ever passed to step: the window forgets older ones
        self.best_loss: float | None = None
        # how many losses step has been given: convergence is judged on each whole window of them
        self._losses_seen = 0
        self._best_window_mean = math.inf
        self._steps_since_improvement = 0
        self._quiet_windows = 0
        self._last_window_mean: float | None = None
        # Previous update direction d_{t-1} per parameter (None before the first step).
        self._prev_direction: list[list[torch.Tensor | None]] = []
        # Whether a backward pass has reached the parameters since the last step or zero_grad: a loss
        # tensor given to step is backpropagated only if not. A hook sees it whatever zero_grad's
        # set_to_none was (zeroed gradients cannot be told from fresh ones by looking at them).
        self._backward_seen = _BackwardSeen()
        # Whether the gradients are the zeros zero_grad(set_to_none=False) left: with no backward pass
        # since, they are no gradient, and a step on them would move the parameters by momentum alone.
        self._grads_zeroed = False
        # The hooks live on the parameters, which outlive this optimiser (a new one per task or trial):
        # removed when it is collected, else every backward pass would call one per optimiser ever made.
        self._hooks: list[torch.utils.hooks.RemovableHandle] = []
        weakref.finalize(self, _remove_hooks, self._hooks)
        self._adopt_new_groups()

    def _adopt_new_groups(self) -> None:
        """Take on the base optimiser's groups not seen yet (each checked by :meth:`_check_group`); each
        starts with no previous direction and a backward hook on its parameters."""
        first = len(self._prev_direction)
        new = self.optimizer.param_groups[first:]
        for index, group in enumerate(new, first):
            self._check_group(index, group)
        for group in new:
            # where torch's schedulers keep it too, so that it travels in the base optimiser's state
            group.setdefault("initial_lr", group["lr"])
            self._prev_direction.append([None for _ in group["params"]])
            self.hypergradients.append(0.0)
            for p in group["params"]:
                if isinstance(p, torch.Tensor) and p.requires_grad:
                    self._hooks.append(p.register_post_accumulate_grad_hook(self._backward_seen))

    def _check_group(self, index: int, group: Mapping[str, Any]) -> None:
        """ValueError naming a group option this optimiser cannot learn with: an ``lr`` outside
        [min_lr, max_lr] (the first update would move it there unannounced), or ``maximize``."""
        check_real(f"param_groups[{index}]['lr']", group["lr"], low=self.min_lr, high=self.max_lr)
        if group.get("maximize", False):
            # the hypergradient, the plateaus and best_loss all read a lower loss as better: an ascent
            # would learn its rate backwards (shrinking it while successive gradients agree)
            raise ValueError(
                f"param_groups[{index}]['maximize']: got {group['maximize']!r}, but AdaptiveOptimizer minimises "
                "the loss it is given; minimise the negated objective instead"
            )

    @property
    def param_groups(self) -> list[dict[str, Any]]:
        """The base optimiser's parameter groups (their ``lr`` is the learned rate)."""
        return self.optimizer.param_groups

    @synchronized
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters, as ``torch.optim.Optimizer.add_param_group`` does: options it
        leaves out take the constructor's values, and its rate is learned like the others'. Its
        ``lr`` must lie in [min_lr, max_lr]; a refused group is not added. A group added to
        ``self.optimizer`` directly is taken on at the next :meth:`step` the same way."""
        if not isinstance(param_group, Mapping):
            raise TypeError(f"param_group: expected a dict with 'params', got {type(param_group).__name__}")
        self._check_group(len(self.optimizer.param_groups), {**self.optimizer.defaults, **param_group})
        self.optimizer.add_param_group(dict(param_group))
        self._adopt_new_groups()

    @synchronized
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear the gradients of every optimised parameter."""
        self.optimizer.zero_grad(set_to_none=set_to_none)
        self._backward_seen.seen = False
        self._grads_zeroed = not set_to_none

    @synchronized
    def step(self, loss_value: float | torch.Tensor | Callable[[], Any] | None = None) -> Any:
        """Adapt the rates from the current gradients, then take one step of the base optimiser.

        ``loss_value`` (the loss of this batch, a float or a 0-d tensor) feeds trend analysis. It may also
        be a closure, as torch optimisers take one: called here with gradients enabled, it returns the loss
        (having run its backward pass or not), which is used as above, and step returns it; without a
        closure step returns None. The base optimiser gets the closure too, its first call answered with
        that loss: one that evaluates it again (``LBFGS``, which needs a closure) calls it again, as
        torch does, so such a closure runs its own backward pass. A loss tensor whose backward pass has
        not run since the last step or ``zero_grad`` is backpropagated here, so ``optimizer.step(loss)``
        needs no ``loss.backward()`` before it; a float carries no gradients, so
        ``optimizer.step(loss.item())`` needs one. A NaN or infinite loss, or a step with no gradient
        anywhere (the zeros ``zero_grad(set_to_none=False)`` leaves count as none until a backward
        pass), raises ValueError and leaves the parameters unchanged; a base optimiser step that
        raises leaves the learned rates as they were. A step refused (a NaN or infinite gradient, the
        base optimiser raising) after backpropagating the loss tensor itself leaves no gradient behind:
        the next ``step(loss)`` backpropagates its own loss, ``zero_grad`` or not.
        """
        self._adopt_new_groups()
        closure_loss = None
        base_closure: Callable[[], Any] | None = None  # what the base optimiser's step gets, if anything
        if callable(loss_value):
            closure = loss_value
            with torch.enable_grad():
                loss_value = closure_loss = closure()
            first = [closure_loss]

            def evaluate() -> Any:
                # the gradients of the first evaluation are in place: only further ones call it again
                return first.pop() if first else closure()

            base_closure = evaluate
        loss_float: float | None = None
        backpropagated = False  # whether the gradients are this step's own, from the loss tensor given
        if loss_value is not None:
            if isinstance(loss_value, torch.Tensor):
                if loss_value.numel() != 1:
                    raise ValueError(f"loss_value: expected a scalar, got shape {tuple(loss_value.shape)}")
                loss_float = float(loss_value.detach())
            else:
                try:
                    if isinstance(loss_value, (bool, str, bytes)):
                        raise TypeError  # float() would read True and the text "0.5" as losses
                    loss_float = float(loss_value)
                except (TypeError, ValueError):
                    raise TypeError(
                        f"loss_value: expected the batch's loss as a number or a scalar tensor, got {loss_value!r}"
                    ) from None
            if not math.isfinite(loss_float):
                raise ValueError(f"loss_value: must be finite, got {loss_float!r}")
            if isinstance(loss_value, torch.Tensor) and loss_value.requires_grad and not self._backward_seen.seen:
                loss_value.backward()
                backpropagated = True
        if not self._has_grad():
            raise ValueError(
                f"loss_value: no parameter has a gradient (got {loss_value!r}); call loss.backward() before "
                "step(), or pass the loss tensor itself: optimizer.step(loss)"
            )
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None and not torch.isfinite(_as_real_dense(p.grad)).all():
                    if backpropagated:
                        self._drop_gradients()
                    raise ValueError("gradients: a parameter gradient is NaN or infinite; step refused")

        rates, hypergradients = [g["lr"] for g in self.optimizer.param_groups], list(self.hypergradients)
        try:
            if self.use_meta_learning:
                self._hypergradient_update()
            # only a learned rate needs the direction moved: a fixed one keeps no copy of the parameters
            # (a second model's worth of memory, in every state_dict too)
            before = None
            if self.use_meta_learning:
                before = [[p.detach().clone() for p in g["params"]] for g in self.optimizer.param_groups]
            self.optimizer.step() if base_closure is None else self.optimizer.step(base_closure)
        except BaseException:
            # a step that failed (out of memory, the base optimiser refusing a gradient) learns nothing
            for group, rate in zip(self.optimizer.param_groups, rates):
                group["lr"] = rate
            self.hypergradients = hypergradients
            if backpropagated:
                self._drop_gradients()
            raise
        for gi, group in enumerate(self.optimizer.param_groups):
            lr = group["lr"]
            for pi, p in enumerate(group["params"]):
                # The direction the base optimiser moved in, per unit of learning rate.
                moved = before[gi][pi] - p.detach() if before is not None and lr > 0 else None
                self._prev_direction[gi][pi] = None if moved is None else moved / lr
        self._backward_seen.seen = False
        self._grads_zeroed = False  # what is left is the gradient this step took
        self.step_count += 1
        self.lr_history.append([g["lr"] for g in self.optimizer.param_groups])
        if loss_float is not None:
            self._observe_loss(loss_float)
        return closure_loss

    def _drop_gradients(self) -> None:
        """Clear the gradients a refused step backpropagated itself: the caller never saw them, so
        would not clear them, and the next step would be refused on them (or take them in) again
        instead of backpropagating its own loss."""
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                p.grad = None
        self._backward_seen.seen = False
        self._grads_zeroed = False

    def _has_grad(self) -> bool:
        if self._grads_zeroed and not self._backward_seen.seen:
            return False
        return any(p.grad is not None for g in self.optimizer.param_groups for p in g["params"])

    def _hypergradient_update(self) -> None:
        for gi, group in enumerate(self.optimizer.param_groups):
            dot, g_sq, d_sq = 0.0, 0.0, 0.0
            for pi, p in enumerate(group["params"]):
                d = self._prev_direction[gi][pi]
                if p.grad is None or d is None:
                    continue
                g, d = _as_real_dense(p.grad.detach()), _as_real_dense(d)
                # summed in at least float32: a half-precision sum of squares overflows past 65504, and
                # the infinite norm it gave turned the cosine into NaN, which set the rate to min_lr
                wide = torch.promote_types(g.dtype, torch.float32)
                g, d = g.to(wide), d.to(wide)
                dot += float((g * d).sum())
                g_sq += float((g * g).sum())
                d_sq += float((d * d).sum())
            if g_sq == 0.0 or d_sq == 0.0:
                continue
            # dL/dlr = -g_t . d_{t-1}; step against it, normalised to a cosine.
            cosine = dot / math.sqrt(g_sq * d_sq)
            self.hypergradients[gi] = -dot
            new_lr = group["lr"] * (1.0 + self.meta_learning_rate * cosine)
            group["lr"] = min(self.max_lr, max(self.min_lr, new_lr))

    def _observe_loss(self, loss: float) -> None:
        self.losses.append(loss)
        self._losses_seen += 1
        if self.best_loss is None or loss < self.best_loss:
            self.best_loss = loss
        if len(self.losses) < self.window:
            return
        recent = list(self.losses)[-self.window :]
        mean = float(np.mean(recent))
        scale = max(abs(self._best_window_mean), 1e-12) if math.isfinite(self._best_window_mean) else 1.0
        if mean < self._best_window_mean - self.plateau_threshold * scale:
            self._best_window_mean = mean
            self._steps_since_improvement = 0
        else:
            self._steps_since_improvement += 1
        if self._steps_since_improvement >= self.plateau_patience:
            for group in self.optimizer.param_groups:
                group["lr"] = max(self.min_lr, group["lr"] / self.plateau_factor)
            self.plateau_reductions += 1
            self._steps_since_improvement = 0
            log.info("lr_plateau_reduction", step=self.step_count, lrs=[g["lr"] for g in self.param_groups])
        # Convergence is judged on whole windows so that batch noise does not trigger it: windows of
        # losses, not of steps, which never lined up with losses given every other step
        if self._losses_seen % self.window == 0:
            if self._last_window_mean is not None:
                change = abs(mean - self._last_window_mean) / max(abs(self._last_window_mean), 1e-12)
                self._quiet_windows = self._quiet_windows + 1 if change < self.convergence_tol else 0
                if self._quiet_windows >= self.convergence_patience and not self.converged:
                    self.converged = True
                    self.converged_at_step = self.step_count
                    log.info("optimizer_converged", step=self.step_count, window_mean_loss=mean)
            self._last_window_mean = mean

    @synchronized
    def state_dict(self) -> dict[str, Any]:
        """The optimiser's whole state (see the class docstring); tensors are copies."""
        self._adopt_new_groups()
        return {
            "base_class": type(self.optimizer).__name__,
            "base": copy.deepcopy(self.optimizer.state_dict()),
            "settings": {name: getattr(self, name) for name in _ADAPTIVE_SETTINGS},
            "prev_direction": [[None if d is None else d.clone() for d in group] for group in self._prev_direction],
            **{name: copy.deepcopy(getattr(self, attr)) for name, attr in _ADAPTIVE_RECORDS.items()},
            "lr_history": [list(rates) for rates in self.lr_history],
            "losses": list(self.losses),
        }

    @synchronized
    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a :meth:`state_dict` (a copy of it: the steps that follow leave ``state`` as it was);
        ValueError naming the field when it does not fit."""
        self._adopt_new_groups()
        expected = {"base_class", "base", "settings", "prev_direction", "lr_history", "losses", *_ADAPTIVE_RECORDS}
        if not isinstance(state, Mapping) or not expected - _ADAPTIVE_LATER_RECORDS <= set(state) <= expected:
            found = sorted(state) if isinstance(state, Mapping) else type(state).__name__
            raise ValueError(f"state: expected the fields {sorted(expected)}, got {found}")
        if state["base_class"] != type(self.optimizer).__name__:
            raise ValueError(
                f"base_class: the state is of a {state['base_class']} base optimiser, this one is {type(self.optimizer).__name__}"
            )
        settings = _checked_settings(state["settings"], "settings.")
        params = [group["params"] for group in self.optimizer.param_groups]
        directions = state["prev_direction"]
        if [len(g) for g in directions] != [len(g) for g in params]:
            raise ValueError(
                f"prev_direction: for parameter groups of sizes {[len(g) for g in directions]}, "
                f"this optimiser has {[len(g) for g in params]}"
            )
        flat = [p for group in params for p in group]
        for gi, (group, saved) in enumerate(zip(params, directions)):
            for pi, (p, d) in enumerate(zip(group, saved)):
                if d is not None and d.shape != p.shape:
                    raise ValueError(f"prev_direction[{gi}][{pi}]: shape {tuple(d.shape)}, the parameter's is {tuple(p.shape)}")
        records = _checked_records(state, len(params))
        for gi, group in enumerate(state["base"]["param_groups"]):
            # any rate torch takes: a scheduler may have set one outside [min_lr, max_lr] after the
            # last step, and the next learned update brings it back as it would have without a restart
            check_real(f"base.param_groups[{gi}]['lr']", group["lr"], low=0)
        flat_shape = torch.Size([sum(_as_real_dense(p.detach()).numel() for p in flat)])  # a complex number is two
        for index, entry in state["base"]["state"].items():
            if not 0 <= int(index) < len(flat):
                raise ValueError(f"base.state: an entry for parameter {index}, this optimiser has {len(flat)}")
            for key, value in entry.items():
                # torch checks the group sizes but not the shapes: a moment of another shape fails only at the next step
                shape = flat[int(index)].shape
                if isinstance(value, torch.Tensor) and value.dim() > 0 and not _fits(value.shape, shape, flat_shape):
                    raise ValueError(
                        f"base.state[{index}][{key!r}]: shape {tuple(value.shape)}, the parameter's is {tuple(shape)} "
                        f"(a factored moment's may have 1s in its place; a flat state is {tuple(flat_shape)})"
                    )
        # a copy: torch's load keeps the given tensors, and the steps after it would update the
        # caller's state in place (a snapshot kept to roll back to, or loaded into a second optimiser)
        self.optimizer.load_state_dict(copy.deepcopy(state["base"]))  # raises before it changes anything
        for name, value in settings.items():
            setattr(self, name, value)
        losses, history = records.pop("losses"), records.pop("lr_history")
        for name, value in records.items():
            setattr(self, _ADAPTIVE_RECORDS[name], value)
        self.losses = deque(losses, maxlen=10 * self.window)
        self.lr_history = deque(history, maxlen=10 * self.window)
        self._prev_direction = [
            [None if d is None else d.detach().clone().to(p.device, p.dtype) for d, p in zip(saved, group)]
            for saved, group in zip(directions, params)
        ]

    def loss_trend(self) -> float:
        """Least-squares slope of the last ``window`` losses per step (negative: improving); 0 if too few."""
        if len(self.losses) < 2:
            return 0.0
        recent = np.asarray(list(self.losses)[-self.window :], dtype=np.float64)
        steps = np.arange(len(recent), dtype=np.float64)
        return float(np.polyfit(steps, recent, 1)[0])

    @synchronized
    def get_optimization_stats(self) -> dict[str, Any]:
        """Step count, current and initial rates per group, the last and the lowest loss ever passed to
        :meth:`step` (``best_loss``), the loss trend, plateaus and convergence."""
        losses = list(self.losses)
        return {
            "step": self.step_count,
            "learning_rates": [g["lr"] for g in self.optimizer.param_groups],
            "initial_learning_rates": [g.get("initial_lr", g["lr"]) for g in self.optimizer.param_groups],
            "hypergradients": list(self.hypergradients),
            "use_meta_learning": self.use_meta_learning,
            "last_loss": losses[-1] if losses else None,
            "best_loss": self.best_loss,
            "loss_trend": self.loss_trend(),
            "plateau_reductions": self.plateau_reductions,
            "converged": self.converged,
            "converged_at_step": self.converged_at_step,
        }


# --------------------------------------------------------------------------------------------------
# Bayesian hyperparameter optimisation on Optuna
# --------------------------------------------------------------------------------------------------

# Optuna prints INFO lines ("A new study created in memory with name: ...") to stderr through a
# handler of its own. While this library calls Optuna (see quiet_optuna) they pass only where the
# application enabled this module's log for them, as this library's own events do: a filter on
# Optuna's loggers, not Optuna's verbosity, which is the application's setting, shared by every
# thread. Optuna's warnings pass.
_quiet_optuna = contextvars.ContextVar("quiet_optuna", default=False)


def _not_quieted(record: logging.LogRecord) -> bool:
    return (
        record.levelno >= logging.WARNING
        or not _quiet_optuna.get()
        or logging.getLogger(__name__).isEnabledFor(record.levelno)
    )


# Optuna's modules make their loggers when imported, which ``import optuna`` has done.
for _logger in list(logging.root.manager.loggerDict.values()):
    if isinstance(_logger, logging.Logger) and _logger.name.split(".")[0] == "optuna":
        _logger.addFilter(_not_quieted)


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Drop the INFO lines Optuna logs in this context (this thread or task) unless the application
    enabled ``meta.optimizer``'s log for them; Optuna's warnings pass.

    Example:
        >>> with quiet_optuna():
        ...     study = optuna.create_study()  # no "A new study created" line
    """
    token = _quiet_optuna.set(True)
    try:
        yield
    finally:
        _quiet_optuna.reset(token)


ParameterSpec = tuple[float, float] | Sequence[Any] | Mapping[str, Any] | optuna.distributions.BaseDistribution


class AllTrialsFailedError(RuntimeError):
    """No trial of the study has completed (each failed: the objective raised, or returned NaN or no number;
    or was pruned), so there is no best."""


class BayesianOptimizerConfig(NumbersOnly):
    """Settings of :class:`BayesianOptimizer` (every field is validated; a bad value names itself).

    Fields:
        acquisition_function: ``'ei'`` (expected improvement). Optuna's GP sampler maximises log-EI; TPE
            maximises the density ratio l(x)/g(x), which Bergstra et al. (2011) show is EI's maximiser.
        sampler: ``'gp'`` (Gaussian process, the default: few, costly trials), ``'tpe'`` (cheap per
            trial, suits hundreds of trials and conditional spaces) or ``'random'``.
        direction: ``'minimize'`` or ``'maximize'`` the objective.
        n_startup_trials: random trials before the model takes over.
        seed: seeds the sampler (each process of a shared study should use its own seed); a resumed
            study's sampler is seeded from it and the number of trials stored (see :func:`resumed_seed`).
        storage: ``None`` (in memory), a database URL (``sqlite:///hpo.db``, or the router's own
            ``postgresql://user:password@host/db``: see :func:`make_storage`), or an Optuna storage object
            (for example ``JournalStorage``).
        study_name: the study to create or to resume in ``storage``.
        trial_timeout_s: ``None`` (no limit), or the seconds one call of the objective may take; a trial
            over it is recorded as failed and the search goes on (see :func:`run_trial`, which says why a
            late call still runs to its end in a background thread).
        pruner: what stops hopeless trials early, for an objective that reports its progress with
            :func:`report`: ``'median'`` (the default, Optuna's ``MedianPruner``: stop a trial whose
            value at a step is worse than the median of the completed trials' at that step, once 5
            trials have completed), ``'successive_halving'`` (asynchronous successive halving),
            ``'hyperband'``, ``'none'``, or any ``optuna.pruners.BasePruner`` with settings of its own.

    Every field but ``trial_timeout_s`` is fixed once set (a ValidationError naming the field): the study
    is built from them on first use and kept, so a value set later had no effect (and a ``'gp'``
    sampler set later skipped the check of the grids). Make a new optimizer to search otherwise.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    acquisition_function: Literal["ei"] = Field("ei", frozen=True)
    sampler: Literal["gp", "tpe", "random"] = Field("gp", frozen=True)
    direction: Literal["minimize", "maximize"] = Field("maximize", frozen=True)
    n_startup_trials: int = Field(10, ge=0, frozen=True)
    seed: int | None = Field(0, ge=0, le=2**32 - 1, frozen=True)  # the range numpy's and Optuna's generators take
    storage: str | optuna.storages.BaseStorage | None = Field(None, frozen=True)
    study_name: str | None = Field(None, frozen=True)
    trial_timeout_s: float | None = Field(None, gt=0, allow_inf_nan=False)
    pruner: str | optuna.pruners.BasePruner = Field("median", frozen=True)

    @field_validator("pruner")
    @classmethod
    def _pruner(cls, pruner: Any) -> str | optuna.pruners.BasePruner:
        make_pruner(pruner)
        return pruner

    @field_validator("storage")
    @classmethod
    def _storage(cls, storage: Any) -> str | optuna.storages.BaseStorage | None:
        return check_storage(storage)

    @field_validator("study_name")
    @classmethod
    def _study_name(cls, study_name: str | None) -> str | None:
        return check_study_name(study_name)


def check_called_with_one_argument(function: Callable[..., Any], field: str, what: str, fix: str) -> None:
    """Raise TypeError now if ``function`` cannot take the one positional argument a search passes it.

    A search calls its objective with one value per trial (a dict of parameters, an architecture). A
    signature that cannot take that (no parameter, two required ones, keyword-only ones) would fail
    every trial the same way, so the search stops before its first trial; a TypeError raised inside
    the function's body stays an ordinary failed trial. Callables whose signature Python cannot
    inspect are not checked.

    Arguments:
        function: the objective.
        field: the objective's argument name in the caller; ``what``: the value it is called with;
            ``fix``: what it should take instead (all three for the message).

    Example:
        >>> check_called_with_one_argument(lambda params: 0.0, "objective", "one dict", "the dict")
        >>> check_called_with_one_argument(lambda: 0.0, "objective", "one dict", "the dict")
        Traceback (most recent call last):
        ...
        TypeError: objective: <lambda>() cannot be called with one dict (too many positional arguments); make it take the dict
    """
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return
    try:
        signature.bind(object())
    except TypeError as exc:
        # Names only: annotations and defaults would bury the point.
        bare = signature.replace(
            parameters=[p.replace(annotation=p.empty, default=p.empty) for p in signature.parameters.values()],
            return_annotation=signature.empty,
        )
        name = getattr(function, "__name__", None) or type(function).__name__
        raise TypeError(f"{field}: {name}{bare} cannot be called with {what} ({exc}); make it take {fix}") from None


class _TrialTimedOut(Exception):
    """The objective had not returned within the trial's time limit."""


def _call_within(function: Callable[[Any], Any], argument: Any, timeout_s: float | None) -> Any:
    """``function(argument)``; with ``timeout_s``, in a daemon thread, and _TrialTimedOut once it is over."""
    if timeout_s is None:
        return function(argument)
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()  # the trial report() reports to, among others

    def call() -> None:
        try:
            outcome["value"] = context.run(function, argument)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread
            outcome["error"] = exc

    worker = threading.Thread(target=call, name="trial", daemon=True)
    worker.start()
    worker.join(timeout_s)  # a Ctrl-C interrupts the wait, so the trial is marked interrupted as without a limit
    if worker.is_alive():
        raise _TrialTimedOut
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


TrialPruned = optuna.TrialPruned
"""Raised by an objective to stop its trial when :func:`report` says so (Optuna's own exception, so an
objective written for Optuna works here as it is)."""


class _RunningTrial:
    """The trial an objective runs in, for :func:`report`: the steps reported, and whether the search
    has told the study its end already (a call past its time limit), under one lock."""

    def __init__(self, trial: optuna.Trial) -> None:
        self.trial = trial
        self.steps: set[int] = set()
        self.finished = False
        self.lock = threading.Lock()


_running_trial: contextvars.ContextVar[_RunningTrial | None] = contextvars.ContextVar("meta_running_trial", default=None)


def report(value: Any, step: int) -> bool:
    """Report the value an objective has reached at ``step`` of its trial, and learn whether to stop.

    Called from inside an objective of :meth:`BayesianOptimizer.optimize` (or an evaluation function of
    :meth:`meta.nas.NeuralArchitectureSearch.search_architecture`), for example once per epoch with the
    validation score, in the objective's own direction (a loss when it is minimised). Returns True
    when the search's ``pruner`` judges the trial hopeless against the other trials at the same step;
    the objective then raises :class:`TrialPruned`, and the trial is recorded as pruned: never a
    result, not in ``history``, not a candidate for ``best()``; a study resumed from its storage
    keeps it so, with its reported values, which the pruner goes on comparing against. A trial whose
    objective returns instead completes with what it returns. Returns True also for a call that has
    run past ``trial_timeout_s``: the search has failed its trial and discards what it finds.

    ``value`` is a finite number (or a tensor or array of one element); ``step`` a whole number >= 0,
    each reported once. Anything else, or a call from outside a trial, raises an error naming it.

    Example:
        >>> def objective(params):
        ...     loss = 1.0
        ...     for epoch in range(10):
        ...         loss *= params["decay"]
        ...         if report(loss, epoch):
        ...             raise TrialPruned()
        ...     return loss
        >>> opt = BayesianOptimizer({"decay": (0.1, 0.99)}, direction="minimize", sampler="random", pruner="median")
        >>> _ = opt.optimize(objective, n_iterations=30)
        >>> len(opt.history) + len(opt.study.get_trials(states=[optuna.trial.TrialState.PRUNED]))
        30
    """
    running = _running_trial.get()
    if running is None:
        raise RuntimeError(
            "report: called outside a trial; call it from the objective that BayesianOptimizer.optimize or "
            "NeuralArchitectureSearch.search_architecture runs"
        )
    number = check_real("value", trial_value(value, "report: value"))
    step = check_count("step", step)
    with running.lock:
        if running.finished:
            return True
        if step in running.steps:
            raise ValueError(f"step: {step} of trial {running.trial.number} is reported already; report each step once")
        running.trial.report(number, step)
        running.steps.add(step)
        return running.trial.should_prune()


def run_trial(
    study: optuna.Study,
    trial: optuna.Trial,
    function: Callable[[Any], Any],
    argument: Any,
    event: str,
    timeout_s: float | None = None,
    **context: Any,
) -> optuna.trial.FrozenTrial:
    """Call ``function(argument)`` for ``trial`` and tell the study: its finite value, pruning, or
    failure; return the trial as told.

    The function gets a copy of ``argument``: what it changes there (a key popped, one added) stays
    out of the caller's records of the trial (``history``). It may :func:`report` its progress; if it
    raises :class:`TrialPruned`, the trial is told pruned (and logged as ``trial_pruned``).

    A failure (an ``Exception``, a NaN or infinite value, or a result that is not a number, see
    :func:`trial_value`) is logged as ``event``:
    a failing trial is data, and the search goes on. An interrupt (KeyboardInterrupt, SystemExit)
    marks the trial failed too, with the user attribute ``interrupted``, before it propagates, so
    that a stopped search leaves no trial running for ever in a shared storage.

    With ``timeout_s``, the function runs in a worker thread, and a call that has not returned after
    ``timeout_s`` seconds fails its trial, with the user attribute ``timed_out_s`` (the limit); the
    search goes on. Python cannot stop a running function safely, so the late call goes on in its
    (daemon) thread until it returns (or until it next calls :func:`report`, which tells it to stop),
    and what it returns is discarded: it still uses CPU and memory
    meanwhile, and runs beside the next trials, so an objective given a limit must not share mutable
    state between calls. One that may hang for good should check its own clock or run its work in a
    subprocess. Thread-local settings (``torch.no_grad()`` around the search) do not reach the worker.
    """
    running = _RunningTrial(trial)
    state = optuna.trial.TrialState

    def tell(end: optuna.trial.TrialState, value: float | None = None, **attrs: Any) -> optuna.trial.FrozenTrial:
        # under the lock, so that a late call's report() never writes to a trial told finished
        with running.lock:
            running.finished = True
            for name, attr in attrs.items():
                trial.set_user_attr(name, attr)
            return study.tell(trial, value, state=end)

    token = _running_trial.set(running)
    try:
        value = trial_value(_call_within(function, copy.deepcopy(argument), timeout_s))
    except _TrialTimedOut:
        log.warning(event, trial=trial.number, error=f"no result within trial_timeout_s={timeout_s}", **context)
        return tell(state.FAIL, timed_out_s=timeout_s)
    except optuna.TrialPruned:
        log.info("trial_pruned", trial=trial.number, steps=len(running.steps), **context)
        return tell(state.PRUNED)
    except Exception as exc:  # noqa: BLE001 - a failing trial is data, not the end of the search
        log.warning(event, trial=trial.number, error=repr(exc), **context)
        return tell(state.FAIL)
    except BaseException:
        # Marked as interrupted, not as a failure of the argument: a resumed search evaluates it again.
        tell(state.FAIL, interrupted=True)
        raise
    finally:
        _running_trial.reset(token)
    if not math.isfinite(value):
        log.warning(event, trial=trial.number, error=f"returned {value}", **context)
        return tell(state.FAIL)
    return tell(state.COMPLETE, value)


def trial_value(value: Any, what: str = "the objective returned") -> float:
    """An objective's result as a float: a real number, or a tensor or array of one element.

    Anything else raises TypeError naming the result: ``float()`` alone would take the string
    ``"0.5"`` and the bool ``True`` as scores.

    Example:
        >>> trial_value(torch.tensor([0.5]))
        0.5
        >>> trial_value("0.5")
        Traceback (most recent call last):
        ...
        TypeError: the objective returned '0.5' (str); return a number, or a tensor or array of one element
    """
    if isinstance(value, (torch.Tensor, np.ndarray)):
        if value.size == 1 if isinstance(value, np.ndarray) else value.numel() == 1:
            return trial_value(value.item(), what)
        # The shape, not the values: the tensor may be large.
        shown = f"a {type(value).__name__} of shape {tuple(value.shape)}"
    else:
        shown = f"{value!r} ({type(value).__name__})"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} {shown}; return a number, or a tensor or array of one element")
    return float(value)


def no_best_error(study: optuna.Study, field: str, what: str) -> AllTrialsFailedError:
    """The error for a study with no completed trial: every trial failed, or none has run yet."""
    trials = study.get_trials(deepcopy=False)
    if not trials:
        return AllTrialsFailedError(f"{field}: no trial has run yet in this study, so there is no best {what}; run the search first")
    failed = sum(t.state == optuna.trial.TrialState.FAIL for t in trials)
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in trials)
    if failed == len(trials):
        return AllTrialsFailedError(f"{field}: all {failed} trials failed (raised, or returned NaN or no number); no best {what}")
    running = len(trials) - failed - pruned
    return AllTrialsFailedError(
        f"{field}: none of the {len(trials)} trials has completed ({failed} failed, {pruned} pruned, {running} still "
        f"running); no best {what}"
    )


# What Optuna stores a categorical's choices as (JSON scalars).
_STORABLE_CHOICES = (type(None), bool, int, float, str)


def check_storable_choices(field: str, choices: Sequence[Any]) -> None:
    """TypeError naming ``field`` and the first choice that a study's storage cannot hold; ValueError
    naming two choices that it cannot tell apart.

    Optuna keeps a categorical's choices as JSON: None, bool, int, float or str. Any other choice (a
    tuple, a class, a module) works in memory but fails at the first trial written to a database, or
    comes back as another type (a tuple as a list), after trials have run. Optuna records a trial's
    choice by its position, the first one equal to it, so of two equal choices (a repeat, or ``1``,
    ``1.0`` and ``True``) the objective may be called with the second while the study records the
    first, and the best parameters name a value other than the one that scored. Checked when the
    space is given, so that one space runs the same in memory and in a shared storage.

    Example:
        >>> check_storable_choices("parameter_space['act']", ["relu", "tanh"])
        >>> check_storable_choices("parameter_space['shape']", [(1, 2)])
        Traceback (most recent call last):
        ...
        TypeError: parameter_space['shape']: choice (1, 2) (tuple) cannot be stored in a study; choices must be None, bool, int, float or str: give each a name and map the name to the value in the objective
    """
    for choice in choices:
        if not isinstance(choice, _STORABLE_CHOICES):
            raise TypeError(
                f"{field}: choice {choice!r} ({type(choice).__name__}) cannot be stored in a study; choices must be "
                "None, bool, int, float or str: give each a name and map the name to the value in the objective"
            )
    for i, choice in enumerate(choices):
        for earlier in choices[:i]:
            if earlier == choice:
                raise ValueError(
                    f"{field}: choices {earlier!r} and {choice!r} are equal, so a study records both as the first; "
                    f"list each value once (or name them apart), got {list(choices)!r}"
                )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _range_distribution(name: str, low: Any, high: Any, log_scale: bool | None, step: Any = None):
    if not (_is_number(low) and _is_number(high)):
        raise TypeError(f"parameter_space[{name!r}]: bounds must be numbers, got ({low!r}, {high!r})")
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"parameter_space[{name!r}]: bounds must be finite, got ({low!r}, {high!r})")
    if low > high:
        raise ValueError(f"parameter_space[{name!r}]: low {low!r} is above high {high!r}")
    is_int = isinstance(low, (int, np.integer)) and isinstance(high, (int, np.integer))
    field = f"parameter_space[{name!r}]"
    if log_scale is not None:
        if not isinstance(log_scale, (bool, np.bool_)):
            # "no" or 0 would otherwise be read by truth value.
            raise TypeError(f"{field}: log must be True or False, got {log_scale!r}")
        # numpy's True (a space read from an array or a table) is True, as check_flag reads it
        log_scale = bool(log_scale)
    if step is not None:
        # Unchecked, a zero step became 1, a fractional one was truncated and a NaN one made the high bound NaN.
        if is_int:
            step = check_count(f"{field}: step", step, low=1)
        else:
            step = check_real(f"{field}: step", step, low=0, low_open=True)
    if log_scale is None:
        # A range over two or more orders of magnitude is searched on a log scale, unless a step asks
        # for a linear grid ({"low": 16, "high": 2048, "step": 16} was refused as a log scale with a step)
        log_scale = low > 0 and high / low >= 100.0 and (step is None or (is_int and step == 1))
    if log_scale and low <= 0:
        raise ValueError(f"parameter_space[{name!r}]: log scale needs low > 0, got {low!r}")
    if log_scale and step is not None and not (is_int and step == 1):
        raise ValueError(f"{field}: step {step!r} and log scale cannot be combined")
    if step is not None:
        # Optuna would move high down to the last value of the grid with nothing but a warning, and
        # the search would never try the high bound given; compared as decimals, as Optuna does
        span, unit = decimal.Decimal(str(high)) - decimal.Decimal(str(low)), decimal.Decimal(str(step))
        if span % unit != 0:
            last = decimal.Decimal(str(low)) + (span // unit) * unit
            last_value = int(last) if is_int else float(last)
            raise ValueError(
                f"{field}: step {step!r} does not divide the range ({low!r}, {high!r}), whose last value on the "
                f"grid is {last_value!r}; give high={last_value!r}, or a step that divides the range"
            )
    if is_int:
        return optuna.distributions.IntDistribution(int(low), int(high), log=bool(log_scale), step=step or 1)
    return optuna.distributions.FloatDistribution(float(low), float(high), log=bool(log_scale), step=step)


def parse_parameter_space(
    parameter_space: Mapping[str, ParameterSpec],
) -> dict[str, optuna.distributions.BaseDistribution]:
    """Turn a parameter space into Optuna distributions.

    * ``(low, high)``: a range; integers when both bounds are ints, floats otherwise; log scale when
      ``low > 0`` and ``high / low >= 100``.
    * ``{"low": ..., "high": ..., "log": bool, "step": ...}``: a range with the scale stated explicitly;
      ``step`` is a whole number >= 1 for an int range, a finite number > 0 otherwise, that divides
      ``high - low`` (so that both bounds are on the grid), and a log scale takes none (an int step
      of 1 aside). Without ``log``, the scale is chosen as for ``(low, high)``, except that a range
      with a step (other than an int range's 1) is linear.
    * a list: categorical choices, each None, bool, int, float or str (what a study's storage holds),
      no two equal (``1`` and ``True`` are; see :func:`check_storable_choices`); to search over
      objects, list their names.
    * an Optuna distribution: used as is (its choices checked as a list's are).

    Example:
        >>> space = parse_parameter_space({"lr": (1e-5, 1e-2), "layers": (1, 4), "act": ["relu", "tanh"]})
        >>> space["lr"].log, type(space["layers"]).__name__, space["act"].choices
        (True, 'IntDistribution', ('relu', 'tanh'))
    """
    if not isinstance(parameter_space, Mapping):
        raise TypeError(f"parameter_space: expected a mapping of name -> spec, got {type(parameter_space).__name__}")
    if not parameter_space:
        raise ValueError("parameter_space: is empty; give at least one parameter")
    out: dict[str, optuna.distributions.BaseDistribution] = {}
    for name, spec in parameter_space.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"parameter_space: names must be non-empty strings, got {name!r}")
        if isinstance(spec, optuna.distributions.BaseDistribution):
            if isinstance(spec, optuna.distributions.CategoricalDistribution):
                check_storable_choices(f"parameter_space[{name!r}]", spec.choices)
            out[name] = spec
        elif isinstance(spec, tuple):
            if len(spec) != 2:
                raise ValueError(f"parameter_space[{name!r}]: a range is (low, high), got {spec!r}")
            out[name] = _range_distribution(name, spec[0], spec[1], None)
        elif isinstance(spec, Mapping):
            unknown = set(spec) - {"low", "high", "log", "step"}
            if unknown or not {"low", "high"} <= set(spec):
                raise ValueError(
                    f"parameter_space[{name!r}]: a range dict takes low, high, log, step; got {dict(spec)!r}"
                )
            out[name] = _range_distribution(name, spec["low"], spec["high"], spec.get("log"), spec.get("step"))
        elif isinstance(spec, list):
            if not spec:
                raise ValueError(f"parameter_space[{name!r}]: a categorical needs at least one choice, got []")
            check_storable_choices(f"parameter_space[{name!r}]", spec)
            out[name] = optuna.distributions.CategoricalDistribution(spec)
        else:
            raise TypeError(
                f"parameter_space[{name!r}]: expected (low, high), a list of choices, a dict or an Optuna "
                f"distribution, got {spec!r}"
            )
    return out


#: The most values on one parameter's grid that Optuna's GP sampler is given: at each proposal it
#: builds an array of every value of an int range or a stepped float range (80 MB a copy at this size).
GP_MAX_GRID_VALUES = 10**7


def check_gp_grids(distributions: Mapping[str, optuna.distributions.BaseDistribution]) -> None:
    """ValueError naming the first int range or stepped float range with more than
    :data:`GP_MAX_GRID_VALUES` values on its grid: Optuna's GP sampler lists every one of them at each
    proposal (a log scale too), so ``(1, 2**40)`` asked for 8 TiB and the search failed with a
    MemoryError once its start-up trials had run.

    Example:
        >>> check_gp_grids(parse_parameter_space({"n": (1, 2**40)}))
        Traceback (most recent call last):
        ...
        ValueError: parameter_space['n']: 1099511627776 values on its grid, more than sampler='gp' can list (10000000; it lists each at every proposal); give the range as floats ((1.0, 1099511627776.0), rounded in the objective), a coarser step, or sampler='tpe'
    """
    for name, dist in distributions.items():
        step = getattr(dist, "step", None)
        if isinstance(dist, (optuna.distributions.IntDistribution, optuna.distributions.FloatDistribution)) and step:
            count = int((dist.high - dist.low) // step) + 1
            if count > GP_MAX_GRID_VALUES:
                raise ValueError(
                    f"parameter_space[{name!r}]: {count} values on its grid, more than sampler='gp' can list "
                    f"({GP_MAX_GRID_VALUES}; it lists each at every proposal); give the range as floats "
                    f"(({float(dist.low)!r}, {float(dist.high)!r}), rounded in the objective), a coarser step, or sampler='tpe'"
                )


def check_storage(storage: Any) -> str | optuna.storages.BaseStorage | None:
    """``storage`` if :func:`make_storage` can open it: None, an Optuna storage, ``journal:PATH`` or a
    database URL; else TypeError or ValueError naming it. Checked when a search is made, so that a
    file name given for a URL (``"hpo.db"``) is named there, not as SQLAlchemy's "Could not parse"
    at the first trial; so is a SQLite or journal file in a folder that does not exist.

    Example:
        >>> check_storage("sqlite:///hpo.db")
        'sqlite:///hpo.db'
        >>> check_storage("hpo.db")
        Traceback (most recent call last):
        ...
        ValueError: storage: 'hpo.db' is not a database URL or journal:PATH; for a SQLite file write sqlite:///hpo.db
    """
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if not isinstance(storage, str):
        raise TypeError(f"storage: expected None, a URL or an Optuna storage, got {storage!r}")
    if storage.startswith("journal:"):
        if not storage[len("journal:") :]:
            raise ValueError("storage: 'journal:' names no file; write journal:PATH")
        _check_folder(storage, _home_read(storage[len("journal:") :]))
        return storage
    import sqlalchemy.engine
    import sqlalchemy.exc

    try:
        url = sqlalchemy.engine.make_url(storage)
    except sqlalchemy.exc.ArgumentError:
        raise ValueError(
            f"storage: {storage!r} is not a database URL or journal:PATH; for a SQLite file write sqlite:///{storage}"
        ) from None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        _check_folder(storage, _home_read(url.database))
    return storage


def check_study_name(study_name: Any) -> str | None:
    """``study_name`` if it is None (a new study each time) or a name with a character other than
    whitespace; else TypeError or ValueError naming it. A blank name (what an unset variable gives)
    was kept in the storage as a study of that blank name, or, in memory, replaced by a random one.

    Example:
        >>> check_study_name(" ")
        Traceback (most recent call last):
        ...
        ValueError: study_name: expected None (a new study) or a name, got the blank ' '
    """
    if study_name is not None and not isinstance(study_name, str):
        raise TypeError(f"study_name: expected None or a string, got {study_name!r}")
    if study_name is not None and not study_name.strip():
        raise ValueError(f"study_name: expected None (a new study) or a name, got the blank {study_name!r}")
    return study_name


def _home_read(path: str) -> str:
    """A journal's or a SQLite file's ``path``, a leading ``~`` read as the home folder as the loaders
    and savers read one (:func:`meta._checks.check_path`): kept, it named a folder ``~`` in the
    working folder, and a storage there was refused as a file in a folder that does not exist."""
    return str(check_path("storage", path))


def _check_folder(storage: str, path: str) -> None:
    """ValueError naming ``storage`` when the folder of its file ``path`` does not exist: SQLite said
    only "unable to open database file", and the journal a bare FileNotFoundError, at the first trial."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"storage: {storage!r} names a file in {folder!r}, which is not an existing folder; create it first")


def make_storage(storage: str | optuna.storages.BaseStorage | None) -> str | optuna.storages.BaseStorage | None:
    """An Optuna storage from the ``storage`` argument: ``None`` (memory), a URL, or a storage object.

    A ``journal:PATH`` string opens an append-only journal file, which several processes on one host may
    share without a database server. A leading ``~`` in a journal's or a SQLite file's path is the home
    folder. A ``postgresql://`` (or ``postgres://``) URL, the form the router's
    store takes, is handed to Optuna's RDB storage as ``postgresql+psycopg://``, SQLAlchemy's name for
    psycopg 3, so studies and routing can share one database (the ``postgres`` extra installs psycopg).
    """
    if isinstance(storage, str) and storage.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(_home_read(storage[len("journal:") :])))
    if isinstance(storage, str) and storage != sqlalchemy_url(storage):
        return _postgres_storage(sqlalchemy_url(storage))
    if isinstance(storage, str) and storage.startswith("sqlite:"):
        import sqlalchemy.engine

        url = sqlalchemy.engine.make_url(storage)
        if url.database and url.database.startswith("~"):
            return url.set(database=_home_read(url.database)).render_as_string(hide_password=False)
    return storage


def sqlalchemy_url(url: str) -> str:
    """``url`` as SQLAlchemy names it for Optuna: ``postgresql://`` and ``postgres://`` (libpq's forms,
    the router's store URL) become ``postgresql+psycopg://`` (psycopg 3); anything else is unchanged."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme in ("postgresql", "postgres"):
        if importlib.util.find_spec("psycopg") is None:
            raise ImportError(f'storage {scheme}://...: needs psycopg 3: pip install "toolrouter[postgres]"')
        return f"postgresql+psycopg://{rest}"
    return url


def _postgres_storage(url: str, attempts: int = 10) -> optuna.storages.RDBStorage:
    """Optuna's RDB storage on PostgreSQL. Workers that start together on a new database race to
    create Optuna's tables and types, and all but one fail with "already exists": try again, then
    the tables are there."""
    import sqlalchemy.exc

    for attempt in range(attempts - 1):
        try:
            return optuna.storages.RDBStorage(url)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.ProgrammingError):
            time.sleep(0.1 * (attempt + 1))
    return optuna.storages.RDBStorage(url)


def resumed_seed(seed: int | None, stored_trials: int) -> int | None:
    """The seed of a sampler that goes on with a study holding ``stored_trials`` trials: ``seed`` itself
    for a new study, else a seed drawn from both. A sampler seeded as the first run's was draws that
    run's proposals again, in the same order: a resumed search evaluated its first run's random
    start-up parameters a second time.

    Example:
        >>> resumed_seed(0, 0), resumed_seed(0, 4) == resumed_seed(0, 4) != 0
        (0, True)
    """
    if seed is None or stored_trials == 0:
        return seed
    return int(np.random.SeedSequence([seed, stored_trials]).generate_state(1)[0])


def optuna_sampler(name: str, seed: int | None, n_startup_trials: int) -> optuna.samplers.BaseSampler:
    """One of Optuna's own samplers by name: ``"gp"``, ``"tpe"`` or ``"random"``."""
    if name == "gp":
        # Every ask here gives the whole space, so the GP samples "independently" only while no trial
        # has completed (n_startup_trials=0): a random start-up trial, not the dynamic space Optuna warns of.
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=n_startup_trials, warn_independent_sampling=False)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=n_startup_trials)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"sampler: choose 'gp', 'tpe' or 'random', got {name!r}")


PRUNERS: tuple[str, ...] = ("median", "successive_halving", "hyperband", "none")


def make_pruner(pruner: str | optuna.pruners.BasePruner) -> optuna.pruners.BasePruner:
    """An Optuna pruner by name (see :data:`PRUNERS`), or ``pruner`` itself if it is one; else an error
    naming it."""
    if isinstance(pruner, optuna.pruners.BasePruner):
        return pruner
    if not isinstance(pruner, str):
        raise TypeError(f"pruner: expected one of {PRUNERS} or an optuna.pruners.BasePruner, got {pruner!r}")
    if pruner == "median":
        return optuna.pruners.MedianPruner()
    if pruner == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner()
    if pruner == "none":
        return optuna.pruners.NopPruner()
    raise ValueError(f"pruner: unknown {pruner!r}; choose from {PRUNERS} or give an optuna.pruners.BasePruner")


def open_study(
    storage: str | optuna.storages.BaseStorage | None,
    study_name: str | None,
    direction: str,
    sampler: Callable[[int], optuna.samplers.BaseSampler],
    distributions: Mapping[str, optuna.distributions.BaseDistribution] | None = None,
    space_field: str = "parameter_space",
    pruner: str | optuna.pruners.BasePruner = "none",
) -> optuna.Study:
    """Create a study, or load the one named ``study_name`` from ``storage`` (see :func:`make_storage`).

    ``sampler(stored_trials)`` makes the study's sampler, given the number of trials the study holds
    already (0 for a new one): a seeded sampler takes :func:`resumed_seed`, so that a resumed search
    does not propose its first run's parameters again.

    A loaded study must have been created with the same ``direction``: Optuna keeps the stored one and
    ignores the argument, so a minimising search resumed as a maximising one would report the worst
    trial as the best. Given ``distributions`` (the parameter space), its stored trials must have been
    drawn from the same one, else ``best`` could return parameters from outside it (and Optuna's
    ``ask`` refuses a categorical whose choices changed). A mismatch raises ValueError naming the
    direction, or ``space_field`` (the caller's argument that defines the space) and the parameter.
    ``pruner`` (see :func:`make_pruner`) judges the values the objective gives :func:`report`; Optuna
    keeps no pruner in storage, so a resumed study takes the one given.
    """
    with warnings.catch_warnings(), quiet_optuna():
        # GPSampler is flagged experimental in some Optuna releases; that is not the user's concern.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study = optuna.create_study(
            storage=make_storage(storage),
            study_name=study_name,
            direction=direction,
            sampler=sampler(0),
            pruner=make_pruner(pruner),
            load_if_exists=study_name is not None,
        )
        stored_trials = len(study.get_trials(deepcopy=False))
        if stored_trials:
            study.sampler = sampler(stored_trials)
    stored = study.direction.name.lower()
    if stored != direction:
        raise ValueError(
            f"direction: study {study_name!r} in the storage was created to {stored}, got direction={direction!r}; "
            "resume it with its own direction or choose another study_name"
        )
    if distributions is not None:
        _check_same_space(study, study_name, distributions, space_field)
    return study


def _check_same_space(
    study: optuna.Study,
    study_name: str | None,
    distributions: Mapping[str, optuna.distributions.BaseDistribution],
    space_field: str,
) -> None:
    """ValueError naming the first parameter whose stored trials were drawn from another space."""
    for trial in study.get_trials(deepcopy=False):
        stored = trial.distributions
        if not stored:
            continue
        for name in sorted(set(stored) | set(distributions)):
            if stored.get(name) != distributions.get(name):
                held = stored.get(name, "no such parameter")
                given = distributions.get(name, "no such parameter")
                raise ValueError(
                    f"{space_field}: parameter {name!r} of study {study_name!r} in the storage is {held}, "
                    f"got {given}; resume it with its own {space_field} or choose another study_name"
                )


class BayesianOptimizer:
    """Bayesian hyperparameter search on Optuna: GP sampler by default, TPE or random as options.

    Arguments:
        parameter_space: name -> spec; see :func:`parse_parameter_space`. With ``sampler='gp'``, a
            range of more values on its grid than the GP sampler can list is refused (see
            :func:`check_gp_grids`).
        acquisition_function, sampler, direction, n_startup_trials, seed, storage, study_name,
            trial_timeout_s, pruner: see :class:`BayesianOptimizerConfig`.

    :meth:`optimize` runs ``n_iterations`` trials in this process. Started again with the same
    ``storage`` and ``study_name``, it resumes the study: the sampler sees every earlier trial, and the
    best result is over all of them. Several processes or hosts running :meth:`optimize` on one study
    share the work; Optuna's storage gives each trial a distinct number, so none is lost or repeated.
    A stored study is resumed only with its own direction and its own parameter space: a changed
    one (a parameter added, removed, or given other bounds, scale or choices) raises ValueError
    naming the parameter, and nothing is added to the study. The objective is called with one dict,
    parameter name -> value; one whose signature cannot take that (no argument, or only keyword
    arguments) raises TypeError before any trial (see :func:`check_called_with_one_argument`). A trial whose objective raises an ``Exception`` (a TypeError
    from its body included), returns NaN or returns no number (see :func:`trial_value`) is recorded as failed and the search goes on; if every trial
    has failed, :class:`AllTrialsFailedError` is raised. An interrupt (Ctrl-C) records its trial as
    failed, then stops the search (see :func:`run_trial`). With ``trial_timeout_s``, a trial whose
    objective has not returned in time is recorded as failed (user attribute ``timed_out_s``) and the
    search goes on; the late call finishes in a background thread and its result is discarded (see
    :func:`run_trial`). An objective may report its progress, step by step, with :func:`report`, and
    stop when told to by raising :class:`TrialPruned`: the ``pruner`` (median by default) stops hopeless
    trials early, and a pruned trial is recorded as such, never as a result (see :func:`report`).
    ``history`` lists the (parameters, score) pairs of this object's completed trials; ``study.trials``
    has every process's trials.

    Example:
        >>> opt = BayesianOptimizer({"x": (-3.0, 3.0), "n": (1, 4)}, direction="minimize", sampler="tpe")
        >>> params, score = opt.optimize(lambda p: (p["x"] - 1.0) ** 2 + p["n"], n_iterations=30)
        >>> score < 1.5
        True
    """

    def __init__(
        self,
        parameter_space: Mapping[str, ParameterSpec],
        acquisition_function: str = "ei",
        **settings: Any,
    ) -> None:
        self.config = BayesianOptimizerConfig(acquisition_function=acquisition_function, **settings)
        self.distributions = parse_parameter_space(parameter_space)
        if self.config.sampler == "gp":
            check_gp_grids(self.distributions)
        self.history: list[tuple[dict[str, Any], float]] = []
        self._study: optuna.Study | None = None

    @property
    def study(self) -> optuna.Study:
        """The Optuna study (created, or loaded from ``storage``, on first use)."""
        if self._study is None:
            cfg = self.config
            self._study = open_study(
                cfg.storage, cfg.study_name, cfg.direction,
                lambda stored: optuna_sampler(cfg.sampler, resumed_seed(cfg.seed, stored), cfg.n_startup_trials),
                self.distributions, pruner=cfg.pruner,
            )
        return self._study

    def optimize(
        self, objective_function: Callable[[dict[str, Any]], float], n_iterations: int = 50
    ) -> tuple[dict[str, Any], float]:
        """Run ``n_iterations`` trials; return the best parameters and score over the whole study."""
        if not callable(objective_function):
            raise TypeError(f"objective_function: expected a callable, got {objective_function!r}")
        n_iterations = check_count("n_iterations", n_iterations, low=1)
        # Before the study is opened, so that a mismatch leaves no trial behind.
        names = list(self.distributions)
        check_called_with_one_argument(
            objective_function,
            "objective_function",
            f"one dict of parameters {names}",
            f"that dict as its one argument and read, for example, params[{names[0]!r}]",
        )
        study = self.study
        for _ in range(n_iterations):
            trial = study.ask(self.distributions)
            params = dict(trial.params)
            told = run_trial(
                study, trial, objective_function, params, "trial_failed", self.config.trial_timeout_s, params=params
            )
            if told.state != optuna.trial.TrialState.COMPLETE:
                continue
            self.history.append((params, float(told.value)))
            log.info("trial_complete", trial=trial.number, value=told.value)
        return self.best()

    def best(self) -> tuple[dict[str, Any], float]:
        """The best parameters and score so far; AllTrialsFailedError if no trial has completed."""
        completed = self.study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        if not completed:
            raise no_best_error(self.study, "objective_function", "parameters")
        best = self.study.best_trial
        return dict(best.params), float(best.value)
