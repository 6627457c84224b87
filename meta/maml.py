"""The MAML family on ``torch.func``: MAML, MAMLFirstOrder, Reptile, MultiTaskMAML and MetaSGD.

Every algorithm works on an ordinary ``nn.Module``: the model is made functional with
``torch.func.functional_call`` (no rewritten layers), so adapted weights are plain tensors in a
``name -> tensor`` dict.

Two execution paths compute the same meta-gradient:

* ``"vmap"``: one task's inner loop and query loss written with ``torch.func.grad``, vectorised
  over the meta-batch with ``torch.func.vmap``.
* ``"loop"``: a Python loop over tasks with ``torch.autograd.grad`` (``create_graph`` for second
  order), one backward per task so that only one task's graph is alive at a time.

``vectorize="auto"`` (the default) rules out vmap where it cannot be right, and otherwise times both
paths on the first meta-step, checks that their meta-gradients agree, and keeps the faster one; a
path that disagrees is not used. These layers force the loop (``meta.vmap_guard``):

* for every learner, a layer that updates running statistics in place (BatchNorm1d/2d/3d,
  SyncBatchNorm, LazyBatchNorm*, and InstanceNorm1d/2d/3d, LazyInstanceNorm* with
  ``track_running_stats=True``, in training mode): a vmapped update of one shared buffer is not
  per-task (``MAML.vmap_blocker``);
* for second-order learners (MAML, MetaSGD, MultiTaskMAML), any of those layers using batch
  statistics, which they do in training mode and, without ``track_running_stats``, in eval mode
  too, and LayerNorm with an elementwise weight: vmap's second-order gradients through batch_norm
  and layer_norm are 0.3% to a few percent off in torch 2.13 (``MAML.vmap_known_wrong``).
  First-order learners (MAMLFirstOrder, Reptile) are exact there.

User modules that call ``F.batch_norm``, ``F.instance_norm`` or ``F.layer_norm`` themselves are
found by recording one forward pass on the first meta-step. GroupNorm, RMSNorm and LayerNorm
without a weight are exact under vmap and leave the choice to the measurement. Dropout draws its
masks differently under vmap than in the loop, so the two paths are compared with dropout switched
off, and with dropout active (training mode) the choice is not left to timing, which could differ
between two runs with the same seed and have them train on different masks: vmap is taken where
the paths agree. The chosen path then computes the step with dropout on. A meta-batch of tasks
of different shapes cannot be stacked for vmap: ``"auto"`` takes the loop from the first such
batch on, at any step. ``vectorize="vmap"`` on a model where vmap is known to be wrong or unable
to run, or for tasks of different shapes, raises ``VmapUnsafeError`` (a ValueError) at that
meta-step, naming the module, its layer type and what to use instead; ``torch_compile=True``
changes nothing in this.

Second-order learners compute their meta-gradients with ``F.scaled_dot_product_attention`` (what
``nn.MultiheadAttention`` and torch's transformer layers call) on its math kernel: the fused
kernels' backward passes cannot be differentiated again.

``torch_compile=True`` runs the vmap path through ``torch.compile``. For MAML, MAMLFirstOrder and
MetaSGD the whole meta-gradient is one function of the meta-parameters (``torch.func.grad`` of
the vmapped inner gradient, adaptation and query loss), compiled into one fused graph, and the
default Adam is the fused one; MultiTaskMAML (task weights) and Reptile compile their vmapped
per-task function. On small models, where a meta-step is mostly Python and dispatch overhead, this
cuts the step time about threefold after a one-off compilation of seconds (``toolrouter bench meta
--sections speed``); a compilation that fails falls back to eager vmap with a warning.

References:
    Finn, Abbeel & Levine (2017), Model-Agnostic Meta-Learning for Fast Adaptation of Deep Networks.
    Nichol, Achiam & Schulman (2018), On First-Order Meta-Learning Algorithms (Reptile).
    Li, Zhou, Chen & Li (2017), Meta-SGD: Learning to Learn Quickly for Few-Shot Learning.

Example:
    >>> import torch
    >>> from torch import nn
    >>> from meta import MAML
    >>> from meta.data.sinusoid import SinusoidTaskSampler
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> model = nn.Sequential(nn.Linear(1, 40), nn.ReLU(), nn.Linear(40, 1))
    >>> maml = MAML(model, lr_inner=0.01, lr_meta=0.001, num_inner_steps=1)
    >>> sampler = SinusoidTaskSampler(seed=0)
    >>> metrics = maml.meta_train_step(sampler.sample(batch_size=4, k_shot=5, k_query=5))
    >>> sorted(metrics)[:2]
    ['meta_loss', 'path']
    >>> batch = sampler.sample(batch_size=1, k_shot=5, k_query=5)
    >>> weights = maml.adapt_to_task(batch[0].support_x, batch[0].support_y)
    >>> maml._forward_with_weights(batch[0].query_x, weights).shape
    torch.Size([5, 1])
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, Union

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.parameter import is_lazy

from meta._checks import check_count, check_flag, check_real
from meta._log import event_log
from meta._sync import synchronized
from meta.base import (
    BaseMetaLearner,
    MetaBatch,
    NonFiniteLossError,
    TaskLike,
    TaskShapeError,
    as_meta_batch,
    buffers_restored,
    check_input_dtype,
    checked_optimizer,
    integer_inputs_named,
    refused_step_undone,
    validate_task_tensors,
)
from meta.vmap_guard import (
    VmapUnsafeError,
    VmapUnsafeLayer,
    dropout_disabled,
    trace_vmap_unsafe_layers,
    vmap_unsafe_layers,
)

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
LossSpec = Union[None, str, LossFn]
AdaptSpec = Union[None, Iterable[str], Callable[[str], bool]]
Path = Literal["vmap", "loop"]

_LOSSES: dict[str, LossFn] = {
    "mse": F.mse_loss,
    "cross_entropy": F.cross_entropy,
    "l1": F.l1_loss,
}


# torch's loss modules compare as their functions do, whatever their reduction
_LOSS_MODULES: dict[type[nn.Module], LossFn] = {
    nn.MSELoss: F.mse_loss,
    nn.CrossEntropyLoss: F.cross_entropy,
    nn.L1Loss: F.l1_loss,
}


def builtin_loss(loss_fn: LossFn) -> LossFn | None:
    """The built-in comparison ``loss_fn`` makes (``F.mse_loss``, ``F.l1_loss`` or
    ``F.cross_entropy``), for those functions and for ``nn.MSELoss``, ``nn.L1Loss`` and
    ``nn.CrossEntropyLoss`` modules alike; None for any other callable."""
    if any(loss_fn is fn for fn in _LOSSES.values()):
        return loss_fn
    return next((fn for cls, fn in _LOSS_MODULES.items() if isinstance(loss_fn, cls)), None)


def ignored_label(loss_fn: LossFn) -> int:
    """The class label cross-entropy ignores: a module's ``ignore_index``, else torch's -100."""
    return int(getattr(loss_fn, "ignore_index", -100))


def resolve_loss(loss_fn: LossSpec) -> tuple[LossFn, bool]:
    """``(loss, is_classification)`` from None (MSE), a name in ``mse|cross_entropy|l1``, or a callable."""
    if loss_fn is None:
        return F.mse_loss, False
    if isinstance(loss_fn, str):
        if loss_fn not in _LOSSES:
            raise ValueError(f"loss_fn must be one of {sorted(_LOSSES)} or a callable, got {loss_fn!r}")
        return _LOSSES[loss_fn], loss_fn == "cross_entropy"
    if callable(loss_fn):
        return loss_fn, builtin_loss(loss_fn) is F.cross_entropy
    raise TypeError(f"loss_fn must be None, a string or a callable, got {type(loss_fn).__name__}")


def check_loss_shapes(loss_fn: LossFn, out: torch.Tensor, y: torch.Tensor) -> None:
    """Raise ``TaskShapeError`` when targets ``y`` cannot be what the built-in ``loss_fn`` (a
    function or its module, see ``builtin_loss``) compares predictions ``out`` with: torch would
    broadcast them (MSE, L1: targets of shape ``(n,)`` against predictions ``(n, 1)`` give an
    ``(n, n)`` loss, with a warning at most) or fail deep inside; predictions that are no tensor
    raise TypeError. Shapes are those of one task (vmap hides the task dimension). Other callables
    are not checked (they may take a model's tuple).
    """
    kind = builtin_loss(loss_fn)
    if kind is not None and not isinstance(out, torch.Tensor):
        # a tuple (what many wrapped models return) failed deep in the loss: "no attribute 'shape'"
        raise TypeError(f"model: returned a {type(out).__name__}, but a built-in loss compares one tensor of predictions with the targets")
    if kind is F.mse_loss or kind is F.l1_loss:
        if y.shape != out.shape:
            name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
            raise TaskShapeError(
                f"support_y/query_y have shape {tuple(y.shape)} per task but the model predicts shape "
                f"{tuple(out.shape)}: loss_fn={name} needs targets shaped like the predictions"
            )
    elif kind is F.cross_entropy:
        labels = out.shape[:1] + out.shape[2:] if out.dim() > 1 else torch.Size([])
        if (y.is_floating_point() and y.shape != out.shape) or (not y.is_floating_point() and y.shape != labels):
            raise TaskShapeError(
                f"support_y/query_y have shape {tuple(y.shape)} and dtype {y.dtype} per task but the model "
                f"predicts scores of shape {tuple(out.shape)}: cross_entropy needs integer class labels of "
                f"shape {tuple(labels)} or class probabilities of shape {tuple(out.shape)}"
            )


def select_parameters(model: nn.Module, adapt_parameters: AdaptSpec) -> list[str]:
    """Names of the parameters the inner loop adapts.

    ``None``: every parameter that requires grad. A callable: the names for which it returns True.
    An iterable of names: exactly those (a name that is not a parameter raises KeyError).
    """
    named = dict(model.named_parameters())
    if adapt_parameters is None:
        chosen = [n for n, p in named.items() if p.requires_grad]
    elif isinstance(adapt_parameters, str):
        chosen = [adapt_parameters]
    elif callable(adapt_parameters):
        chosen = [n for n in named if adapt_parameters(n)]
    else:
        chosen = list(adapt_parameters)
        bad = [n for n in chosen if not isinstance(n, str)]
        if bad:
            raise TypeError(f"adapt_parameters must hold parameter names (str), got {bad[:3]!r}")
    unknown = [n for n in chosen if n not in named]
    if unknown:
        raise KeyError(
            f"adapt_parameters names {unknown[:5]!r} that are not parameters of the model; "
            f"known names start with {list(named)[:5]!r}"
        )
    if not chosen:
        raise ValueError(f"adapt_parameters={adapt_parameters!r} selected no parameter of the model")
    order = {n: i for i, n in enumerate(named)}
    return sorted(set(chosen), key=order.__getitem__)


def _positive(name: str, value: float) -> float:
    return check_real(name, value, low=0, low_open=True)


@contextmanager
def _autograd_on() -> Iterator[None]:
    """Gradients for the inner loop even inside the caller's ``no_grad`` or ``inference_mode``:
    adapting is gradient descent, however its result is used afterwards."""
    with torch.inference_mode(False), torch.enable_grad():
        yield


@contextmanager
def _attention_differentiable_twice(second_order: bool) -> Iterator[None]:
    """For a second-order meta-gradient, ``F.scaled_dot_product_attention`` (which
    ``nn.MultiheadAttention`` and torch's transformer layers call) on its math kernel: the fused
    kernels it picks otherwise (flash, memory-efficient) have a backward that autograd cannot
    differentiate again ("derivative for aten::_scaled_dot_product_flash_attention_for_cpu_backward
    is not implemented"). The math kernel computes the same attention from ordinary ops."""
    if not second_order:
        yield
        return
    with sdpa_kernel(SDPBackend.MATH):
        yield


def _batch_inputs(batch: MetaBatch) -> Iterator[tuple[str, torch.Tensor]]:
    """``(field, tensor)`` of every task's inputs, read only when ``integer_inputs_named`` needs them."""
    stacked = batch.stacked()
    for task in [stacked] if stacked is not None else (t.as_tuple() for t in batch):
        yield from (("support_x", task[0]), ("query_x", task[2]))


def _ordinary(x: torch.Tensor) -> torch.Tensor:
    """``x``, copied when it was made under ``inference_mode`` (autograd cannot save such a tensor
    for backward); call it under ``_autograd_on``."""
    return x.clone() if x.is_inference() else x


def _first_support_x(batch: MetaBatch) -> torch.Tensor:
    """The first task's support inputs, without making a stacked batch's per-task views."""
    stacked = batch.stacked()
    return stacked[0][0] if stacked is not None else batch[0].support_x


class MAML(BaseMetaLearner):
    """Model-Agnostic Meta-Learning (second-order by default) for any ``nn.Module``.

    Arguments:
        model: the network; used as is, made functional with ``torch.func.functional_call``.
        lr_inner: step size of the inner (adaptation) SGD; must be positive.
        lr_meta: learning rate of the meta-optimiser (Adam unless ``meta_optimizer`` says otherwise).
        num_inner_steps: inner SGD steps per task during meta-training and, by default, adaptation.
        first_order: drop the second-order terms (FOMAML).
        loss_fn: None (MSE, regression), ``"cross_entropy"``, ``"mse"``, ``"l1"`` or a callable
            ``loss(prediction, target) -> scalar``; targets are checked against the predictions
            for those three and for ``nn.MSELoss``, ``nn.L1Loss`` and ``nn.CrossEntropyLoss``.
        adapt_parameters: which parameters the inner loop adapts: None (all trainable ones), an
            iterable of names, or a predicate ``name -> bool``. The others keep their meta-values in
            the inner loop and are still meta-trained when they require grad; a parameter with
            ``requires_grad=False`` is never meta-updated.
        vectorize: ``"auto"`` (measure and pick per model, see the module docstring for the layers
            that force the loop, and for dropout, where timing does not decide), ``"vmap"`` or
            ``"loop"``. ``"vmap"`` on a model where vmap is wrong or cannot run raises
            ``VmapUnsafeError`` at the first meta-step.
        meta_optimizer: a factory ``params -> torch.optim.Optimizer``; default Adam(lr_meta). Its
            optimiser steps without a closure: ``LBFGS``, whose step re-evaluates the loss, is refused.
        grad_clip: clip the meta-gradient to this global norm (None: no clipping).
        device: where to run; default: where the model is.
        torch_compile: compile the vmap path with ``torch.compile`` (see the module docstring);
            the loop path is never compiled. The default Adam is then the fused one.

    Tasks are data: ``meta_train_step``, ``compute_meta_gradients``, ``evaluate`` and
    ``adapt_to_task`` detach their tensors from any autograd graph they were computed in, so a
    batch computed by another network trains this learner alone, as often as it is given (an
    encoder to be meta-trained belongs in ``model``). Lazily sized layers (``nn.LazyLinear``) are
    sized on the first task's inputs of the first of these calls (MetaSGD needs them sized first).

    Threads: ``meta_train_step``, ``adapt_to_task``, ``evaluate``, ``_forward_with_weights``,
    ``save`` and ``load`` hold the learner's lock, so threads may share one learner (adapting to
    tasks while another thread meta-trains); its calls then run one at a time and never mix one
    step's gradients with another's. ``compute_meta_gradients`` and ``apply_meta_update``, the parts of a step that
    ``DistributedMetaTrainer`` calls, belong to one thread. Attached to an expert
    (``Expert.add_meta_learning``), the locked calls hold the expert's lock instead, so they also
    take turns with the inputs it serves with the same model. To adapt in parallel, give each
    thread its own copy (``copy.deepcopy(learner)``).

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from meta import MAML
        >>> maml = MAML(nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1)), lr_inner=0.01)
        >>> task = (torch.randn(5, 10), torch.randn(5, 1), torch.randn(5, 10), torch.randn(5, 1))
        >>> round(maml.meta_train_step([task, task])["meta_loss"], 6) >= 0
        True
    """

    def __init__(
        self,
        model: nn.Module,
        lr_inner: float = 0.01,
        lr_meta: float = 0.001,
        num_inner_steps: int = 1,
        *,
        first_order: bool = False,
        loss_fn: LossSpec = None,
        adapt_parameters: AdaptSpec = None,
        vectorize: Literal["auto", "vmap", "loop"] = "auto",
        meta_optimizer: Callable[[list[nn.Parameter]], torch.optim.Optimizer] | None = None,
        grad_clip: float | None = None,
        device: torch.device | str | None = None,
        torch_compile: bool = False,
    ) -> None:
        lr_inner = _positive("lr_inner", lr_inner)
        lr_meta = _positive("lr_meta", lr_meta)
        num_inner_steps = check_count("num_inner_steps", num_inner_steps, low=1)
        if vectorize not in ("auto", "vmap", "loop"):
            raise ValueError(f"vectorize must be 'auto', 'vmap' or 'loop', got {vectorize!r}")
        if grad_clip is not None:
            grad_clip = _positive("grad_clip", grad_clip)
        if meta_optimizer is not None and not callable(meta_optimizer):
            raise TypeError(f"meta_optimizer must be a factory params -> torch.optim.Optimizer, got {meta_optimizer!r}")
        # bool("no") is True: a flag given as a string would switch on what it meant to switch off
        first_order = check_flag("first_order", first_order)
        torch_compile = check_flag("torch_compile", torch_compile)
        super().__init__(model, device=device)
        self.lr_inner = lr_inner
        self.lr_meta = lr_meta
        self.num_inner_steps = num_inner_steps
        self.first_order = first_order
        self.loss_fn, self.classification = resolve_loss(loss_fn)
        self.adapt_names = select_parameters(self.model, adapt_parameters)
        self.vectorize = vectorize
        self.grad_clip = grad_clip
        self.torch_compile = torch_compile
        self._function_cache: tuple[int, dict[str, Callable[..., Any]]] = (id(self), {})
        self.path: Path | None = None if vectorize == "auto" else vectorize
        self.path_timings_s: dict[str, float] = {}
        self.path_grads_agree: bool | None = None  # set when "auto" compared the two paths
        # what the last trace of a forward pass found, and the modules' training flags it held for
        self._traced: tuple[tuple[bool, ...], list[VmapUnsafeLayer]] | None = None
        self._init_extras()
        params = self.meta_parameters()
        if not params:
            raise ValueError("the model has no parameter that requires grad: nothing to meta-train")
        # compiled steps are short enough for Adam's per-tensor loop to matter: fuse it then
        factory = meta_optimizer or (lambda ps: torch.optim.Adam(ps, lr=lr_meta, fused=self.torch_compile or None))
        self.meta_optimizer = checked_optimizer("meta_optimizer", factory(params), params)

    def settings(self) -> dict[str, Any]:
        """What ``save`` stores and ``load`` checks: ``lr_inner``, ``num_inner_steps``,
        ``first_order``, the adapted parameters' names, ``grad_clip`` and, for a built-in loss (by
        name, or torch's ``nn.MSELoss``, ``nn.L1Loss`` or ``nn.CrossEntropyLoss``), its name."""
        settings: dict[str, Any] = {
            "lr_inner": self.lr_inner,
            "num_inner_steps": self.num_inner_steps,
            "first_order": self.first_order,
            "adapt_parameters": list(self.adapt_names),
            # not in the optimiser's state, which brings the meta learning rate back with it
            "grad_clip": self.grad_clip,
        }
        # a callable cannot be compared across processes: only a built-in loss is recorded, a torch
        # loss module as its function (unrecorded, a regression file loaded into a classifier)
        kind = builtin_loss(self.loss_fn)
        settings.update({"loss": name for name, fn in _LOSSES.items() if fn is kind})
        return settings

    @synchronized
    def save(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        """As :meth:`BaseMetaLearner.save`, and the path ``vectorize="auto"`` chose (``execution_path``,
        written by ``save`` itself; None before the first meta-step), which :meth:`load` puts back."""
        from meta.checkpoint import learner_metadata

        super().save(path, learner_metadata({"execution_path": self.path}, metadata))

    @synchronized
    def load(self, path: str) -> dict[str, Any]:
        """As :meth:`BaseMetaLearner.load`; with ``vectorize="auto"`` the resumed run also takes the
        saved run's path rather than timing both afresh: the two draw dropout masks differently, and
        the faster one may be another on another run, so the resumed run would have trained on other
        masks than the uninterrupted one (files written before the path was saved: chosen afresh)."""
        from meta.checkpoint import checkpoint_metadata

        saved = json.loads(checkpoint_metadata(path).get("user", "{}")).get("execution_path")
        if saved not in (None, "vmap", "loop"):
            raise ValueError(f"{str(path)!r}: execution_path {saved!r} is neither 'vmap' nor 'loop'; the file was not loaded")
        info = super().load(path)
        if self.vectorize == "auto":
            self.path, self.path_timings_s, self.path_grads_agree = saved, {}, None
        return info

    # ------------------------------------------------------------------ hooks for subclasses
    def _init_extras(self) -> None:
        """Create meta-learned tensors beyond the model's parameters (MetaSGD's learning rates)."""

    def _inner_lr(self, name: str) -> float | torch.Tensor:
        return self.lr_inner

    def meta_parameters(self) -> list[nn.Parameter]:
        """Everything the meta-optimiser updates: the model's trainable parameters and any extras."""
        extras = [p for n, p in self.named_parameters() if not n.startswith("model.")]
        return [p for p in self.model.parameters() if p.requires_grad] + extras

    # ------------------------------------------------------------------ inner loops
    def _adapted_meta_values(self) -> dict[str, torch.Tensor]:
        named = dict(self.model.named_parameters())
        return {n: named[n] for n in self.adapt_names}

    def _criterion(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``loss_fn(out, y)``, after checking that the targets fit the predictions; cross-entropy's
        integer class labels are taken at any width, and True/False as classes 1/0."""
        check_loss_shapes(self.loss_fn, out, y)
        if self.classification and not (y.is_floating_point() or y.is_complex()):
            # class labels of any integer width (numpy gives int32, image datasets uint8) or True/False
            # (classes 1 and 0, as the few-shot networks read them): torch's cross_entropy takes int64
            # only and failed with 'expected target dtype to be Long'
            y = y.long()
        return self.loss_fn(out, y)

    def _loss(self, fast: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self._criterion(functional_call(self.model, fast, (x,), strict=False), y)

    def _check_batch(self, batch: MetaBatch) -> None:
        """Refuse, before anything changes, a batch that cannot be meta-trained or evaluated: a task
        with no query example (its query loss would be NaN), floating inputs whose dtype is not
        the model's (torch's own error names neither the tensor nor the fix), or class labels that
        the model's scores do not have."""
        stacked = batch.stacked()
        tasks = [(0, stacked)] if stacked is not None else [(i, t.as_tuple()) for i, t in enumerate(batch)]
        for i, (sx, _, qx, _) in tasks:
            examples = qx.shape[1] if stacked is not None else qx.shape[0]
            if examples == 0:
                where = "every task" if stacked is not None else f"task {i}"
                raise TaskShapeError(f"query_x of {where} is empty: a task is judged on at least one query example")
            self._check_input_dtype(sx, "support_x")
            self._check_input_dtype(qx, "query_x")
        labels = {
            field + ("" if stacked is not None else f" of task {i}"): y
            for i, (_, sy, _, qy) in tasks
            for field, y in (("support_y", sy), ("query_y", qy))
        }
        # one task's inputs are enough to read how many classes the model scores
        self._check_labels(stacked[0][0] if stacked is not None else tasks[0][1][0], labels)

    def _check_labels(self, x: torch.Tensor, labels: dict[str, torch.Tensor]) -> None:
        """TaskShapeError naming the field when cross_entropy's integer class labels lie outside the
        classes the model scores on ``x`` (one task's inputs): torch's error names neither (on a GPU
        it is a device-side assert that leaves the device unusable), and under vmap it read as
        vmap being unable to run the model. ``ignore_index`` (-100, or the loss module's) passes."""
        labels = {k: y for k, y in labels.items() if not y.is_floating_point()}
        if builtin_loss(self.loss_fn) is not F.cross_entropy or not labels:
            return
        devices = [x.device] if x.device.type != "cpu" else []
        # one forward pass that leaves nothing behind: running statistics and random draws
        with torch.no_grad(), buffers_restored(self.model), torch.random.fork_rng(devices=devices, device_type=x.device.type):
            out = self.model(x.to(self.device))
        if not isinstance(out, torch.Tensor) or out.dim() < 2:
            return  # check_loss_shapes names scores that are no tensor or have no class dimension
        classes = out.shape[1]
        for field, y in labels.items():
            bad = (y != ignored_label(self.loss_fn)) & ((y < 0) | (y >= classes))
            if bool(bad.any()):
                raise TaskShapeError(
                    f"{field} holds class label {int(y[bad][0])} but the model scores {classes} classes "
                    f"(labels 0..{classes - 1}): more classes per task (n_way) than the model's outputs?"
                )

    def _size_lazy_layers(self, x: torch.Tensor) -> None:
        """Size the model's lazily sized layers (``nn.LazyLinear``) on ``x``, one task's inputs, as
        a first forward pass does: the first-order inner loop, ``evaluate`` and ``adapt_to_task``
        read the parameters before any forward pass, and failed with torch's "Attempted to use an
        uninitialized parameter". The buffers are left as they were."""
        if any(is_lazy(p) for p in self.model.parameters()):
            with torch.no_grad(), buffers_restored(self.model):
                self.model(x.to(self.device))

    def _check_input_dtype(self, x: torch.Tensor, field: str) -> None:
        check_input_dtype(field, x, next(p.dtype for p in self.meta_parameters()))

    def _inner_loop_func(
        self, start: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor, steps: int, first_order: bool
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Inner SGD written with ``torch.func.grad`` (vmappable); returns (fast weights, first loss)."""

        def support_loss(fast: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
            loss = self._loss(fast, x, y)
            return loss, loss.detach()

        first_loss = None
        if first_order:
            # FO: gradients are evaluated at detached points; only the sum of the steps, and the
            # learning rates (MetaSGD), stay in the graph, so d(fast)/d(meta) is the identity.
            delta = {n: torch.zeros_like(t) for n, t in start.items()}
            for _ in range(steps):
                point = {n: start[n].detach() - delta[n].detach() for n in start}
                grads, loss = torch.func.grad(support_loss, has_aux=True)(point)
                first_loss = loss if first_loss is None else first_loss
                delta = {n: delta[n] + self._inner_lr(n) * grads[n].detach() for n in start}
            return {n: start[n] - delta[n] for n in start}, first_loss  # type: ignore[return-value]
        fast = dict(start)
        for _ in range(steps):
            grads, loss = torch.func.grad(support_loss, has_aux=True)(fast)
            first_loss = loss if first_loss is None else first_loss
            fast = {n: fast[n] - self._inner_lr(n) * grads[n] for n in fast}
        return fast, first_loss  # type: ignore[return-value]

    def _inner_loop_autograd(
        self,
        start: dict[str, torch.Tensor],
        x: torch.Tensor,
        y: torch.Tensor,
        steps: int,
        first_order: bool,
        keep_graph: bool = True,
    ) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """The same inner SGD with ``torch.autograd.grad``: works with in-place buffer updates."""
        names = list(start)
        first_loss = None
        if first_order or not keep_graph:
            delta = {n: torch.zeros_like(t) for n, t in start.items()}
            for _ in range(steps):
                point = {n: (start[n].detach() - delta[n].detach()).requires_grad_() for n in names}
                loss = self._loss(point, x, y)
                grads = torch.autograd.grad(loss, [point[n] for n in names], allow_unused=True)
                first_loss = loss.detach() if first_loss is None else first_loss
                delta = {
                    n: delta[n] + self._inner_lr(n) * (g if g is not None else torch.zeros_like(point[n]))
                    for n, g in zip(names, grads)
                }
            if not keep_graph:
                return {n: (start[n] - delta[n]).detach() for n in names}, first_loss  # type: ignore[return-value]
            return {n: start[n] - delta[n] for n in names}, first_loss  # type: ignore[return-value]
        # a frozen parameter named in adapt_parameters is adapted too (as on the vmap path), from a
        # detached copy, so the meta-optimiser never sees it
        fast = {n: t if t.requires_grad else t.detach().requires_grad_() for n, t in start.items()}
        for _ in range(steps):
            loss = self._loss(fast, x, y)
            grads = torch.autograd.grad(loss, [fast[n] for n in names], create_graph=True, allow_unused=True)
            first_loss = loss.detach() if first_loss is None else first_loss
            fast = {n: fast[n] - self._inner_lr(n) * g if g is not None else fast[n] for n, g in zip(names, grads)}
        return fast, first_loss  # type: ignore[return-value]

    def _accuracy(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        # the class dimension is cross_entropy's: 1, or 0 for one unbatched example; targets are
        # labels, or class probabilities whose most likely class counts as the label; positions
        # labelled ignore_index (-100, or the loss module's) count no more than in the loss
        dim = 1 if out.dim() > 1 else 0
        labels = y.argmax(dim) if y.is_floating_point() else y
        counted = labels != ignored_label(self.loss_fn)
        return ((out.argmax(dim) == labels) & counted).sum() / counted.sum().clamp(min=1)

    def _query_scores(self, fast, qx, qy):  # type: ignore[no-untyped-def]
        """(query loss, query accuracy or 0) at the adapted weights ``fast``; vmappable."""
        out = functional_call(self.model, fast, (qx,), strict=False)
        acc = self._accuracy(out, qy) if self.classification else torch.zeros((), device=qy.device)
        return self._criterion(out, qy), acc

    # ------------------------------------------------------------------ per-task objective
    def _task_objective_func(self, sx, sy, qx, qy):  # type: ignore[no-untyped-def]
        """vmappable: (query loss, support loss, query accuracy) of one task after adaptation."""
        fast, support_loss = self._inner_loop_func(
            self._adapted_meta_values(), sx, sy, self.num_inner_steps, self.first_order
        )
        loss, acc = self._query_scores(fast, qx, qy)
        return loss, support_loss, acc

    def _task_objective_loop(self, sx, sy, qx, qy):  # type: ignore[no-untyped-def]
        fast, support_loss = self._inner_loop_autograd(
            self._adapted_meta_values(), sx, sy, self.num_inner_steps, self.first_order
        )
        loss, acc = self._query_scores(fast, qx, qy)
        return loss, support_loss, acc.detach()

    def _task_weights(self, query_losses: torch.Tensor) -> torch.Tensor | None:
        """Per-task weights of the meta-loss (None: uniform); MultiTaskMAML overrides this."""
        return None

    # ------------------------------------------------------------------ meta-gradients
    def _cached(self, key: str, build: Callable[[], Callable[..., Any]]) -> Callable[..., Any]:
        """``build()``, made once per learner and wrapped in ``torch.compile`` when asked.

        The cache is keyed by ``id(self)`` so that a deep copy, which copies the cache with it,
        builds its own (a function is bound to the learner it was built from).
        """
        owner, cache = self._function_cache
        if owner != id(self):
            cache = {}
            self._function_cache = (id(self), cache)
        if key not in cache:
            fn = build()
            cache[key] = _CompiledOrEager(fn, key) if self.torch_compile else fn
        return cache[key]

    def _over_tasks(self, name: str) -> Callable[..., Any]:
        """``vmap`` of the per-task method ``name`` over the tasks of a stacked meta-batch."""
        return torch.func.vmap(getattr(self, name), randomness="different")

    def _vmapped(self, name: str) -> Callable[..., Any]:
        """``_over_tasks(name)``, built once, compiled when asked."""
        return self._cached(name, lambda: self._over_tasks(name))

    def _meta_gradient_function(self) -> Callable[..., Any]:
        """``(meta-parameters, scale, *stacked) -> (gradients, (query, support, accuracy per task))``.

        The whole meta-gradient as a function of the meta-parameters (``torch.func.grad`` of the
        scaled, summed query loss, the parameters swapped in with ``functional_call``), so that
        ``torch.compile`` fuses the forward pass, the inner gradient and the meta-gradient into one
        graph, leaving the autograd engine out of the meta-step.
        """
        objective = _MetaObjective(self)

        def loss(params: dict[str, torch.Tensor], scale: torch.Tensor, *stacked: torch.Tensor) -> Any:
            return functional_call(objective, {"learner." + n: t for n, t in params.items()}, (scale, *stacked))

        return torch.func.grad(loss, has_aux=True)

    def _compiled_gradients(self, stacked: tuple[torch.Tensor, ...], scale: float) -> dict[str, torch.Tensor]:
        """The vmap path's meta-gradient through ``_meta_gradient_function`` (``torch_compile``)."""
        params = {n: p for n, p in self.named_parameters() if p.requires_grad}
        fn = self._cached("meta_gradient", self._meta_gradient_function)
        grads, (q, s, a) = fn({n: p.detach() for n, p in params.items()}, torch.tensor(scale, device=self.device), *stacked)
        for n, p in params.items():
            p.grad = grads[n] if p.grad is None else p.grad + grads[n]
        return {"query": q.sum(), "support": s.sum(), "acc": a.sum()}

    def vmap_unsafe_layers(self) -> list[VmapUnsafeLayer]:
        """The model's layers that vmap cannot run, or differentiate twice correctly, in their
        current mode (``meta.vmap_guard``).

        BatchNorm, InstanceNorm and LayerNorm modules are found by type; user modules that call the
        normalisation functions themselves once a meta-step has traced a forward pass in the same
        training modes.
        """
        found = vmap_unsafe_layers(self.model)
        if self._traced is not None and self._traced[0] == self._training_modes():
            known = {layer.module for layer in found}
            found += [layer for layer in self._traced[1] if layer.module not in known]
        return found

    def _training_modes(self) -> tuple[bool, ...]:
        return tuple(m.training for m in self.model.modules())

    def _trace(self, batch: MetaBatch) -> None:
        """Record the unsafe normalisation calls of one forward pass, unless the modes are unchanged since."""
        modes = self._training_modes()
        if self._traced is None or self._traced[0] != modes:
            self._traced = (modes, trace_vmap_unsafe_layers(self.model, _first_support_x(batch)))

    def vmap_blocker(self) -> str | None:
        """Why vmap cannot run this model now, or None when it can.

        A layer that updates running statistics in place in training mode writes one buffer shared
        by all tasks, which a vmapped inner loop cannot do per task.
        """
        layers = [layer for layer in self.vmap_unsafe_layers() if layer.updates_running_stats]
        if not layers:
            return None
        return (
            "a layer that updates running statistics in place in training mode shares one buffer "
            f"between all tasks, which vmap cannot update per task: {_describe(layers)}; "
            "use vectorize='loop' (or 'auto'), or GroupNorm or RMSNorm (exact under vmap), or put "
            "the layer in eval mode, or keep no running statistics (track_running_stats=False: exact "
            "under vmap for first-order learners only)"
        )

    def vmap_known_wrong(self) -> str | None:
        """Why vmap would compute a wrong meta-gradient for this model, or None.

        Second-order meta-gradients under ``vmap`` disagree with float64 finite differences in
        torch 2.13 through a layer that normalises with batch statistics (BatchNorm or InstanceNorm
        in training mode or without running statistics, or a module calling ``F.batch_norm`` or
        ``F.instance_norm`` with batch statistics; by 1-200%, ``toolrouter bench meta --sections
        correctness``) and through LayerNorm with an elementwise weight (or ``F.layer_norm`` with a
        weight; by 0.3-0.7%), while the loop and first-order vmap agree: the batching rules of
        those functions' double backward are at fault. ``"auto"`` never picks vmap then, and
        ``vectorize="vmap"`` is refused. GroupNorm, RMSNorm and LayerNorm without a weight are exact.
        """
        if self.first_order:
            return None
        layers = self.vmap_unsafe_layers()
        if not layers:
            return None
        return (
            "second-order meta-gradients under vmap are wrong in torch (0.3% to a few percent off "
            "the per-task loop) through layers that normalise with batch statistics and through "
            f"LayerNorm with an elementwise weight: {_describe(layers)}; use vectorize='loop' (or "
            "'auto'), or first_order=True, or GroupNorm, RMSNorm or LayerNorm(elementwise_affine="
            "False), which are exact under vmap, or BatchNorm/InstanceNorm in eval mode with "
            "track_running_stats=True"
        )

    def _vmap_refusal(self, batch: MetaBatch) -> str | None:
        """Why vmap may not compute this batch's meta-gradient (after tracing the model), or None."""
        self._trace(batch)
        return self.vmap_blocker() or self.vmap_known_wrong()

    def _loop_reason(self, batch: MetaBatch) -> str | None:
        """Why ``batch`` must take the loop (vmap refused for the model, or tasks of different
        shapes, which cannot be stacked), or None."""
        reason = self._vmap_refusal(batch)
        if reason is None and batch.stacked() is None:
            reason = "tasks of different shapes (vmap needs equal ones)"
        return reason

    def _gradients(self, batch: MetaBatch, path: Path, total_tasks: int) -> dict[str, torch.Tensor]:
        """Accumulate ``sum_i w_i * dL_i / total_tasks`` into ``.grad``; return summed statistics."""
        scale = 1.0 / total_tasks
        if path == "vmap":
            stacked = batch.stacked()
            if stacked is None:
                raise ValueError("the vmap path needs tasks of equal shapes; use vectorize='loop'")
            if self.torch_compile and not self._needs_all_losses():
                return self._compiled_gradients(stacked, scale)
            q, s, a = self._vmapped("_task_objective_func")(*stacked)
            weights = self._task_weights(q)
            total = (q * weights).sum() if weights is not None else q.sum()
            (total * scale).backward()
            return {"query": q.detach().sum(), "support": s.detach().sum(), "acc": a.detach().sum()}
        sums = {"query": 0.0, "support": 0.0, "acc": 0.0}
        if self._needs_all_losses():
            losses = []
            for t in batch:
                q, s, a = self._task_objective_loop(*t.as_tuple())
                losses.append(q)
                sums["support"] += s
                sums["acc"] += a
            q = torch.stack(losses)
            weights = self._task_weights(q)
            ((q * weights).sum() * scale).backward()
            sums["query"] = q.detach().sum()
        else:
            for t in batch:
                q, s, a = self._task_objective_loop(*t.as_tuple())
                # one backward per task keeps one task's graph alive at a time (memory)
                (q * scale).backward()
                sums["query"] += q.detach()
                sums["support"] += s
                sums["acc"] += a
        return {k: torch.as_tensor(v).detach() for k, v in sums.items()}

    def _needs_all_losses(self) -> bool:
        return False

    def zero_meta_grad(self) -> None:
        """Clear the gradients of every meta-parameter."""
        self.meta_optimizer.zero_grad(set_to_none=True)

    def _choose_path(self, batch: MetaBatch, total_tasks: int) -> dict[str, torch.Tensor]:
        """Pick the path for this model (see module docstring); leaves the chosen path's grads."""
        reason = self._loop_reason(batch)
        if reason is not None:
            self.path = "loop"
            log.info("maml_path", path="loop", reason=reason)
            return self._gradients(batch, "loop", total_tasks)
        # Dropout draws its masks differently under vmap (one draw for all tasks) than in the loop,
        # so the comparison runs with dropout off, where the two paths must agree exactly
        with dropout_disabled(self.model) as dropout:
            measured = self._measure_paths(batch, total_tasks)
        self.path = "loop"
        if measured is not None:
            grads, self.path_timings_s, vmap_sums = measured
            agree = _grads_agree(grads["loop"], grads["vmap"])
            self.path_grads_agree = agree
            # With dropout on, the paths draw different masks (vmap one draw for all tasks): a choice
            # by timing could then differ between two runs with the same seed, and they would train
            # differently. It takes vmap, the faster on most meta-batches, where the paths agree.
            faster: Path = "vmap" if dropout or self.path_timings_s["vmap"] < self.path_timings_s["loop"] else "loop"
            self.path = faster if agree else "loop"
            timings = {f"{k}_s": v for k, v in self.path_timings_s.items()}
            log.info("maml_path", path=self.path, agree=agree, dropout_off=len(dropout), **timings)
            if self.path == "vmap" and not dropout:
                return vmap_sums  # vmap ran last: its gradients are in .grad
        # the loop's, or the step with dropout back on
        self.zero_meta_grad()
        return self._gradients(batch, self.path, total_tasks)

    def _measure_paths(
        self, batch: MetaBatch, total_tasks: int
    ) -> tuple[dict[str, list[torch.Tensor | None]], dict[str, float], dict[str, torch.Tensor]] | None:
        """Both paths' meta-gradients, their best times and the statistics of the last path run
        (vmap), or None when vmap cannot run the model."""
        timings: dict[str, list[float]] = {"loop": [], "vmap": []}
        grads: dict[str, list[torch.Tensor | None]] = {}
        params = self.meta_parameters()
        # the first call of each path pays one-off costs (functorch set-up, allocator growth), so
        # both are warmed up untimed, then timed twice, alternating, and the faster time kept
        for i, path in enumerate(("vmap", "loop", "loop", "vmap", "loop", "vmap")):
            self.zero_meta_grad()
            t0 = time.perf_counter()
            try:
                sums = self._gradients(batch, path, total_tasks)  # type: ignore[arg-type]
            except RuntimeError as exc:  # a module torch.func cannot vectorise: use the loop, say why
                if path != "vmap":
                    raise
                log.warning("maml_vmap_unavailable", error=str(exc)[:200])
                return None
            if i >= 2:
                timings[path].append(time.perf_counter() - t0)
            grads[path] = [None if p.grad is None else p.grad.detach().clone() for p in params]
        return grads, {k: min(v) for k, v in timings.items()}, sums

    def compute_meta_gradients(self, tasks: MetaBatch | Iterable[TaskLike], total_tasks: int | None = None) -> dict[str, torch.Tensor]:
        """Add this batch's share of the meta-gradient to ``.grad`` (no optimiser step).

        The meta-loss is the mean over ``total_tasks`` tasks (default: this batch's size), which lets a
        distributed run give each process a shard and sum the gradients. Returns summed statistics
        (``query``, ``support``, ``acc``) over this batch's tasks. A ``total_tasks`` that is not an
        integer at least this batch's size raises ValueError naming it, before any gradient.
        """
        batch = as_meta_batch(tasks).to(self.device).detach()
        # a count below the batch's (0, negative) would divide by zero or turn descent into ascent
        total = len(batch) if total_tasks is None else check_count("total_tasks", total_tasks, low=len(batch))
        with integer_inputs_named(self.model, _batch_inputs(batch)):
            self._check_batch(batch)
            self._size_lazy_layers(_first_support_x(batch))
            with _attention_differentiable_twice(not self.first_order):
                return self._meta_gradients(batch, total)

    def _meta_gradients(self, batch: MetaBatch, total: int) -> dict[str, torch.Tensor]:
        """``compute_meta_gradients`` of a checked batch: on the path chosen, or chosen now."""
        if self.path is None:
            try:
                return self._choose_path(batch, total)
            except BaseException:
                # a refused batch decides nothing: the next meta-step measures the paths afresh
                self.path, self.path_timings_s, self.path_grads_agree = None, {}, None
                raise
        if self.path == "vmap":
            # checked at every step, as on the first: a module switched to training mode can make
            # vmap wrong later, and a later batch may hold tasks of different shapes
            reason = self._loop_reason(batch)
            if reason is not None:
                if self.vectorize == "vmap":
                    raise VmapUnsafeError(f"vectorize='vmap' cannot be used for this batch: {reason}")
                self.path = "loop"
                log.info("maml_path", path="loop", reason=reason)
        return self._gradients(batch, self.path, total)

    def apply_meta_update(self, meta_loss: float) -> None:
        """Check the loss and gradients for NaN, clip, and take one meta-optimiser step. A refused
        update clears the meta-gradients: ``compute_meta_gradients`` adds to them, so they would
        carry the refused step into the next."""
        try:
            self._check_finite(meta_loss)
            params = [p for p in self.meta_parameters() if p.grad is not None]
            norm = torch.nn.utils.clip_grad_norm_(params, self.grad_clip or float("inf"))
            if not torch.isfinite(norm):
                self._check_finite(float("nan"), what="meta-gradient norm")
        except NonFiniteLossError:
            self.zero_meta_grad()
            raise
        self.meta_optimizer.step()
        self.meta_step_count += 1

    @synchronized
    def meta_train_step(self, tasks: MetaBatch | Iterable[TaskLike]) -> dict[str, Any]:
        """One meta-update from a meta-batch; returns ``meta_loss``, ``support_loss``, ``path`` (and
        ``query_accuracy`` for classification).

        Raises ``NonFiniteLossError`` (a ValueError) with the step number on a NaN or infinite
        meta-loss or meta-gradient; the parameters and buffers (BatchNorm's running statistics)
        are then left as they were. A batch that cannot be
        trained on is refused before anything changes: ``TaskShapeError`` for a task without query
        examples or targets that do not fit the predictions of a built-in loss (``mse``, ``l1``:
        the prediction's shape; ``cross_entropy``: class labels or probabilities), TypeError for
        floating inputs of another dtype than the model's, and for integer or complex inputs the
        model fails on.
        """
        batch = as_meta_batch(tasks)
        self.zero_meta_grad()
        with refused_step_undone(self.model, self.meta_parameters()):
            sums = self.compute_meta_gradients(batch)
            meta_loss = float(sums["query"]) / len(batch)
            self.apply_meta_update(meta_loss)
        metrics: dict[str, Any] = {
            "meta_loss": meta_loss,
            "support_loss": float(sums["support"]) / len(batch),
            "path": self.path,
        }
        if self.classification:
            metrics["query_accuracy"] = float(sums["acc"]) / len(batch)
        return metrics

    # ------------------------------------------------------------------ adaptation and evaluation
    @synchronized
    def adapt_to_task(
        self, support_x: torch.Tensor, support_y: torch.Tensor, num_steps: int | None = None
    ) -> dict[str, torch.Tensor]:
        """Adapted weights for one task: a dict ``name -> tensor`` of every parameter of the model.

        Adapted parameters are new (detached) tensors; the others are the model's own values. Pass
        the dict to ``_forward_with_weights``. ``num_steps`` defaults to ``num_inner_steps``. The
        model is left as it was, BatchNorm's running statistics included. The inner steps take
        their gradients under the caller's ``torch.no_grad`` or ``torch.inference_mode`` too.
        Raises ``NonFiniteLossError`` (a ValueError) when an adapted weight is NaN or infinite: the
        support set holds such values, or the steps diverged.
        """
        # the support set in the query's place, which adds no check of its own: an empty query cut
        # from it failed a 0-d support_x or support_y with torch's "slice() cannot be applied to a
        # 0-dim tensor", naming neither
        validate_task_tensors(support_x, support_y, support_x, support_y)
        self._check_input_dtype(support_x, "support_x")
        steps = self._num_steps(num_steps)
        with integer_inputs_named(self.model, [("support_x", support_x)]):
            self._size_lazy_layers(support_x)
            self._check_labels(support_x, {"support_y": support_y.to(self.device)})
            with _autograd_on(), buffers_restored(self.model):
                support_x, support_y = (_ordinary(t.to(self.device).detach()) for t in (support_x, support_y))
                fast, _ = self._inner_loop_autograd(
                    self._adapted_meta_values(), support_x, support_y, steps, first_order=True, keep_graph=False
                )
        bad = [n for n, t in fast.items() if not bool(torch.isfinite(t).all())]
        if bad:
            # weights like these would predict NaN for every input without a word
            raise NonFiniteLossError(
                f"adapt_to_task: adapted weights {bad[:3]} are NaN or infinite after {steps} inner steps of "
                f"{type(self).__name__}; support_x or support_y hold NaN or infinite values, or the steps "
                "diverged (fewer num_steps or a smaller lr_inner)"
            )
        weights = {n: p.detach() for n, p in self.model.named_parameters()}
        weights.update(fast)
        return weights

    def _num_steps(self, num_steps: int | None) -> int:
        """``num_steps``, or ``num_inner_steps`` for None; ValueError unless a non-negative int."""
        steps = self.num_inner_steps if num_steps is None else num_steps
        return check_count("num_steps", steps)

    @synchronized
    def evaluate(self, tasks: MetaBatch | Iterable[TaskLike], num_steps: int | None = None) -> dict[str, torch.Tensor]:
        """Per-task query loss (and accuracy for classification) after ``num_steps`` inner steps.

        Uses the same path as training (vmap where chosen and possible); nothing is meta-updated,
        and BatchNorm's running statistics are left as they were. Works under the caller's
        ``torch.no_grad`` or ``torch.inference_mode``, as ``adapt_to_task`` does.
        Tasks whose adaptation diverged keep their NaN/inf loss and are logged as
        ``evaluation_diverged`` (for MetaSGD, more steps than it was trained for can diverge).
        """
        batch = as_meta_batch(tasks).to(self.device).detach()
        steps = self._num_steps(num_steps)
        with integer_inputs_named(self.model, _batch_inputs(batch)):
            return self._evaluate(batch, steps)

    def _evaluate(self, batch: MetaBatch, steps: int) -> dict[str, torch.Tensor]:
        """``evaluate`` of a batch on the learner's device."""
        self._check_batch(batch)
        self._size_lazy_layers(_first_support_x(batch))
        use_vmap = self.path == "vmap" and batch.stacked() is not None and self.vmap_blocker() is None
        start = {n: t.detach() for n, t in self._adapted_meta_values().items()}

        def one(sx, sy, qx, qy):  # type: ignore[no-untyped-def]
            if use_vmap:
                fast, _ = self._inner_loop_func(start, sx, sy, steps, first_order=True)
            else:
                fast, _ = self._inner_loop_autograd(start, sx, sy, steps, True, keep_graph=False)
            loss, acc = self._query_scores(fast, qx, qy)
            return loss.detach(), acc.detach()

        with _autograd_on(), buffers_restored(self.model):
            if use_vmap:
                loss, acc = torch.func.vmap(one, randomness="different")(*map(_ordinary, batch.stacked()))  # type: ignore[misc]
            else:
                pairs = [one(*map(_ordinary, t.as_tuple())) for t in batch]
                loss = torch.stack([p[0] for p in pairs])
                acc = torch.stack([p[1] for p in pairs])
        bad = int((~torch.isfinite(loss)).sum())
        if bad:
            # an evaluation may legitimately diverge (MetaSGD's rates are learned for
            # num_inner_steps steps, not more): report it loudly, and keep the NaN in the result
            log.warning("evaluation_diverged", tasks=bad, of=len(loss), num_steps=steps, learner=type(self).__name__)
        result = {"loss": loss}
        if self.classification:
            result["accuracy"] = acc
        return result


# Inductor options tried in turn. torch 2.13's inductor can build a CPU kernel against a
# precompiled header made without the vectorised types the kernel uses ("'at::vec' has not been
# declared"; seen on the second compilation in a process), so a failure is retried without
# precompiled headers (slower to compile, by some 20 s here) before giving up on compilation.
_COMPILE_ATTEMPTS: tuple[dict[str, Any], ...] = ({}, {"cpp_cache_precompile_headers": False})


class _MetaObjective(nn.Module):
    """A learner's scaled, summed query loss over a stacked meta-batch, as a module, so that
    ``functional_call`` can swap in the meta-parameters it is differentiated at. Kept outside the
    learner's modules (in its cache), so it adds nothing to ``state_dict``."""

    def __init__(self, learner: MAML) -> None:
        super().__init__()
        self.learner = learner

    def forward(self, scale: torch.Tensor, *stacked: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        q, s, a = self.learner._over_tasks("_task_objective_func")(*stacked)
        return q.sum() * scale, (q.detach(), s.detach(), a.detach())


class _CompiledOrEager:
    """``torch.compile`` of a function, retried with the next of ``_COMPILE_ATTEMPTS`` when the
    compiler backend fails and, when every attempt has failed (no C++ compiler, say), the eager
    function; each failure is logged as a warning. Any other error (a bug in the model, a shape
    mismatch) is raised at once, as eagerly."""

    def __init__(self, eager: Callable[..., Any], name: str) -> None:
        self.eager = eager
        self.name = name
        self._attempts = list(_COMPILE_ATTEMPTS)
        self.compiled: Callable[..., Any] | None = None
        self._next()

    def _next(self) -> None:
        options = self._attempts.pop(0) if self._attempts else None
        self.compiled = None if options is None else torch.compile(self.eager, dynamic=False, options=options)

    def __call__(self, *args: Any) -> Any:
        while self.compiled is not None:
            try:
                return self.compiled(*args)
            except torch._dynamo.exc.BackendCompilerFailed as exc:  # the compiler, not the model: try the next way
                log.warning("maml_compile_failed", function=self.name, error=str(exc)[:300], retrying=bool(self._attempts))
                self._next()
        return self.eager(*args)


def _describe(layers: list[VmapUnsafeLayer]) -> str:
    more = f" and {len(layers) - 3} more" if len(layers) > 3 else ""
    return ", ".join(layer.describe() for layer in layers[:3]) + more


def _grads_agree(a: list[torch.Tensor | None], b: list[torch.Tensor | None], rtol: float = 1e-3) -> bool:
    num = 0.0
    den = 0.0
    for x, y in zip(a, b):
        if (x is None) != (y is None):
            return False
        if x is None:
            continue
        num += float((x - y).pow(2).sum())
        den += float(y.pow(2).sum())
    return math.sqrt(num) <= rtol * math.sqrt(den) + 1e-7


class MAMLFirstOrder(MAML):
    """First-order MAML (FOMAML): the meta-gradient is the query gradient at the adapted weights.

    Same arguments as ``MAML`` (``first_order`` is fixed to True); cheaper in time and memory.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from meta import MAMLFirstOrder, create_meta_batch
        >>> model = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear(64, 1))
        >>> maml = MAMLFirstOrder(model=model, lr_inner=0.01, lr_meta=0.001, num_inner_steps=5)
        >>> tasks = [(torch.randn(5, 10), torch.randn(5, 1), torch.randn(5, 10), torch.randn(5, 1))] * 4
        >>> "meta_loss" in maml.meta_train_step(create_meta_batch(tasks, batch_size=4))
        True
    """

    def __init__(self, model: nn.Module, lr_inner: float = 0.01, lr_meta: float = 0.001, num_inner_steps: int = 1, **kwargs: Any) -> None:
        if "first_order" in kwargs:
            raise TypeError("MAMLFirstOrder is always first-order: do not pass first_order")
        super().__init__(model, lr_inner, lr_meta, num_inner_steps, first_order=True, **kwargs)


class MetaSGD(MAML):
    """Meta-SGD: MAML with a learned inner learning rate for every parameter entry.

    The rates start at ``lr_inner`` and are meta-trained with the model (second-order by default).
    ``inner_lrs`` holds them, one tensor per adapted parameter, shaped like it, in the order of
    ``adapt_names``; ``inner_lr(name)`` looks one up by the parameter's name. A model with lazily
    sized layers (``nn.LazyLinear``) is sized first, by one call on a batch of inputs: the rates
    take the parameters' shapes when the learner is built. Checkpoints written
    when ``inner_lrs`` was keyed by mangled names (``"0__weight"`` for ``"0.weight"``) load as they are.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from meta import MetaSGD
        >>> msgd = MetaSGD(nn.Linear(1, 1), lr_inner=0.01)
        >>> task = (torch.randn(5, 1), torch.randn(5, 1), torch.randn(5, 1), torch.randn(5, 1))
        >>> _ = msgd.meta_train_step([task])
        >>> bool((msgd.inner_lr("weight") != 0.01).any())
        True
    """

    def _init_extras(self) -> None:
        named = dict(self.model.named_parameters())
        lazy = [n for n in self.adapt_names if is_lazy(named[n])]
        if lazy:
            # one rate per entry needs the parameter's shape, which a lazy layer only has once it
            # has seen an input (torch failed with "Attempted to use an uninitialized parameter")
            module = lazy[0].rpartition(".")[0]
            kind = type(self.model.get_submodule(module)).__name__
            raise ValueError(
                f"model: parameter {lazy[0]!r} of {kind} {module or 'model'!r} is not sized yet, and MetaSGD "
                "learns one inner rate per entry of it: call the model once on a batch of inputs "
                "(model(x)) before building MetaSGD"
            )
        # a list, not a dict keyed by name: a key may hold no '.', and turning '.' into '__' gave
        # "a.b.weight" and "a__b.weight" one key (one rate for both); a key named like a dict
        # method ("keys", "update") was refused
        self.inner_lrs = nn.ParameterList(
            [nn.Parameter(torch.full_like(named[n].detach(), self.lr_inner)) for n in self.adapt_names]
        )
        self._lr_index = {n: i for i, n in enumerate(self.adapt_names)}
        self.register_load_state_dict_pre_hook(
            lambda module, state, prefix, *_: module._upgrade_state_dict(state, prefix)
        )

    def _upgrade_state_dict(self, state: dict[str, torch.Tensor], prefix: str = "") -> None:
        """Rename in place the rates of a state dict written when ``inner_lrs`` was keyed by mangled
        names to today's keys (``load_checkpoint`` and ``load_state_dict`` call it)."""
        renamed = {f"{prefix}inner_lrs.{_legacy_key(n)}": f"{prefix}inner_lrs.{i}" for i, n in enumerate(self.adapt_names)}
        if any(new in state for new in renamed.values()):
            return  # today's keys
        # one tensor for all the names whose keys collided: the rate they all used then
        moved = {new: state[old] for old, new in renamed.items() if old in state}
        for old in renamed:
            state.pop(old, None)
        state.update(moved)

    def _inner_lr(self, name: str) -> torch.Tensor:
        return self.inner_lrs[self._lr_index[name]]

    def inner_lr(self, name: str) -> torch.Tensor:
        """The learned inner learning rates of parameter ``name`` (same shape as the parameter)."""
        if name not in self.adapt_names:
            raise KeyError(f"parameter {name!r} is not adapted; adapted: {self.adapt_names[:5]!r}")
        return self._inner_lr(name).detach()


def _legacy_key(name: str) -> str:
    """The key of parameter ``name``'s rates in checkpoints written before ``inner_lrs`` was a list."""
    return name.replace(".", "__")


class MultiTaskMAML(MAML):
    """MAML whose meta-loss weights tasks by difficulty: ``w_i = B * softmax(L_i / temperature)``.

    Hard tasks (high query loss after adaptation) weigh more, so a few hard task families are not
    drowned by many easy ones; ``temperature`` -> infinity recovers MAML. The weights are computed
    from detached losses (they steer the meta-gradient, they are not differentiated).

    Arguments:
        temperature: positive; smaller values focus harder on the worst tasks.
        (all other arguments as ``MAML``)

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from meta import MultiTaskMAML
        >>> mt = MultiTaskMAML(nn.Linear(2, 1), temperature=0.5)
        >>> tasks = [(torch.randn(4, 2), torch.randn(4, 1), torch.randn(4, 2), k * torch.randn(4, 1)) for k in (1, 5)]
        >>> m = mt.meta_train_step(tasks)
        >>> m["task_weight_max"] >= 1.0 >= m["task_weight_min"]
        True
    """

    def __init__(self, model: nn.Module, lr_inner: float = 0.01, lr_meta: float = 0.001, num_inner_steps: int = 1, *, temperature: float = 1.0, **kwargs: Any) -> None:
        self.temperature = _positive("temperature", temperature)
        self._last_weights: torch.Tensor | None = None
        super().__init__(model, lr_inner, lr_meta, num_inner_steps, **kwargs)

    def settings(self) -> dict[str, Any]:
        """``MAML.settings()`` and ``temperature``."""
        return {**super().settings(), "temperature": self.temperature}

    def _needs_all_losses(self) -> bool:
        return True

    def compute_meta_gradients(self, tasks: MetaBatch | Iterable[TaskLike], total_tasks: int | None = None) -> dict[str, torch.Tensor]:
        """As ``MAML.compute_meta_gradients``, for a whole meta-batch only: a ``total_tasks`` other
        than its size raises ValueError naming it, before any gradient. A task's weight is a
        softmax over the losses of every task of the meta-batch, which a shard does not hold: each
        shard's tasks would be weighed among themselves, and the shards' gradients would not add
        up to the meta-batch's."""
        batch = as_meta_batch(tasks)
        if total_tasks is not None and check_count("total_tasks", total_tasks, low=len(batch)) != len(batch):
            raise ValueError(
                f"total_tasks: {total_tasks} for a meta-batch of {len(batch)} tasks; {type(self).__name__} weighs each "
                "task by a softmax over the losses of all tasks, so it takes the whole meta-batch, not a shard"
            )
        return super().compute_meta_gradients(batch, total_tasks)

    def _task_weights(self, query_losses: torch.Tensor) -> torch.Tensor:
        losses = query_losses.detach()
        weights = len(losses) * torch.softmax(losses / self.temperature, dim=0)
        self._last_weights = weights
        return weights

    @synchronized
    def meta_train_step(self, tasks: MetaBatch | Iterable[TaskLike]) -> dict[str, Any]:
        """As ``MAML.meta_train_step``; adds ``task_weight_min``/``task_weight_max``."""
        metrics = super().meta_train_step(tasks)
        assert self._last_weights is not None  # set by _task_weights during the step
        metrics["task_weight_min"] = float(self._last_weights.min())
        metrics["task_weight_max"] = float(self._last_weights.max())
        return metrics


class Reptile(MAML):
    """Reptile: adapt on each task with plain SGD, then move the meta-weights towards the result.

    The meta-gradient handed to the meta-optimiser is ``mean_i (theta - theta_i')``, where
    ``theta_i'`` are the weights after ``num_inner_steps`` SGD steps on task i's support and query
    examples together (Reptile has no separate query objective). ``meta_train_step`` reports what
    those steps give, at no extra cost: ``meta_loss`` (and ``query_accuracy``) of the query at
    ``theta_i'``, which saw the query, and ``support_loss`` of support and query together before
    them. They are lower than the figures of MAML and its variants, which adapt on the support
    alone, and do not compare with them: ``evaluate`` adapts every learner on the support alone
    (measuring that at each step would run the inner loop twice, nearly doubling a step on small
    tasks). With the default Adam meta-optimiser
    this is "Reptile with Adam"; pass ``meta_optimizer=lambda ps: torch.optim.SGD(ps, lr=eps)`` for
    the classic update ``theta += eps * mean_i (theta_i' - theta)``.

    Only adapted parameters move (a parameter the inner loop leaves alone has ``theta_i' = theta``),
    so every parameter that requires grad must be among ``adapt_parameters``: one that is not is
    refused with a ValueError naming it (freeze it with ``requires_grad_(False)``, or adapt it).

    Example:
        >>> import torch
        >>> from torch import nn
        >>> from meta import Reptile
        >>> rep = Reptile(nn.Linear(1, 1), lr_inner=0.02, num_inner_steps=5)
        >>> task = (torch.randn(5, 1), torch.randn(5, 1), torch.randn(5, 1), torch.randn(5, 1))
        >>> rep.meta_train_step([task, task])["path"] in ("vmap", "loop")
        True
    """

    def __init__(self, model: nn.Module, lr_inner: float = 0.01, lr_meta: float = 0.001, num_inner_steps: int = 5, **kwargs: Any) -> None:
        if "first_order" in kwargs:
            raise TypeError("Reptile is first-order by construction: do not pass first_order")
        super().__init__(model, lr_inner, lr_meta, num_inner_steps, first_order=True, **kwargs)
        idle = [n for n, p in self.model.named_parameters() if p.requires_grad and n not in self.adapt_names]
        if idle:
            # their Reptile step is always zero: they would look trainable and never be trained
            raise ValueError(
                f"adapt_parameters: Reptile meta-trains only the parameters it adapts, but {idle[:5]!r} require "
                "grad and are not adapted; adapt them too, or freeze them with requires_grad_(False)"
            )

    def _reptile_task_func(self, sx, sy, qx, qy):  # type: ignore[no-untyped-def]
        x, y = torch.cat([sx, qx]), torch.cat([sy, qy])
        start = {n: t.detach() for n, t in self._adapted_meta_values().items()}
        fast, first = self._inner_loop_func(start, x, y, self.num_inner_steps, first_order=True)
        final, acc = self._query_scores(fast, qx, qy)
        return {n: start[n] - fast[n] for n in start}, final.detach(), first, acc.detach()

    def _reptile_task_loop(self, sx, sy, qx, qy):  # type: ignore[no-untyped-def]
        x, y = torch.cat([sx, qx]), torch.cat([sy, qy])
        start = {n: t.detach() for n, t in self._adapted_meta_values().items()}
        fast, first = self._inner_loop_autograd(start, x, y, self.num_inner_steps, True, keep_graph=False)
        with torch.no_grad():
            final, acc = self._query_scores(fast, qx, qy)
        return {n: start[n] - fast[n] for n in start}, final.detach(), first, acc.detach()

    def _gradients(self, batch: MetaBatch, path: Path, total_tasks: int) -> dict[str, torch.Tensor]:
        named = dict(self.model.named_parameters())
        if path == "vmap":
            stacked = batch.stacked()
            if stacked is None:
                raise ValueError("the vmap path needs tasks of equal shapes; use vectorize='loop'")
            deltas, q, s, a = self._vmapped("_reptile_task_func")(*stacked)
            sums = {n: d.sum(0) for n, d in deltas.items()}
            q_sum, s_sum, a_sum = q.sum(), s.sum(), a.sum()
        else:
            sums = {n: torch.zeros_like(named[n]) for n in self.adapt_names}
            q_sum = s_sum = a_sum = torch.zeros(())
            for t in batch:
                deltas, q, s, a = self._reptile_task_loop(*t.as_tuple())
                for n in sums:
                    sums[n] += deltas[n]
                q_sum, s_sum, a_sum = q_sum + q, s_sum + s, a_sum + a
        for n, total in sums.items():
            p = named[n]
            if not p.requires_grad:
                continue  # frozen: never meta-updated
            g = total / total_tasks
            p.grad = g if p.grad is None else p.grad + g
        return {"query": q_sum.detach(), "support": s_sum.detach(), "acc": a_sum.detach()}
