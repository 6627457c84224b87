"""Which layers keep the MAML family from vectorising tasks with ``torch.func.vmap``.

vmap computes the same meta-gradient as a per-task loop for layers that treat each example on its
own with plain tensor arithmetic (Linear, Conv, pooling, GroupNorm, RMSNorm, Dropout in
distribution). Two kinds of normalisation layer are different in torch 2.13:

* a layer that updates running statistics in place (BatchNorm1d/2d/3d, SyncBatchNorm,
  LazyBatchNorm*, and InstanceNorm1d/2d/3d, LazyInstanceNorm* with ``track_running_stats=True``,
  in training mode) writes one buffer shared by every task: vmap cannot run it;
* second-order gradients under vmap are wrong, by 0.3% to a few percent in the cases measured,
  through a layer that normalises with batch statistics (those layers in training mode, and in any
  mode without ``track_running_stats``; InstanceNorm runs batch_norm underneath) and through
  LayerNorm with an elementwise weight. The batching rules of the double backward of batch_norm and
  layer_norm are at fault; first-order gradients are exact.

Both are found by type and mode (``vmap_unsafe_layers``) and, for user modules that call
``F.batch_norm``, ``F.instance_norm``, ``F.layer_norm`` (or their ``torch.`` forms) themselves, by
recording those calls during one forward pass (``trace_vmap_unsafe_layers``). Calls made from C++
or TorchScript are not seen; the first-step comparison of the two paths in ``MAML`` remains the
safety net for them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call
from torch.overrides import TorchFunctionMode

from meta._log import event_log

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)


class VmapUnsafeError(ValueError):
    """``vectorize="vmap"`` was asked for a model whose meta-gradient vmap cannot compute correctly,
    or for a meta-batch whose tasks it cannot stack (tasks of different shapes)."""


@dataclass(frozen=True)
class VmapUnsafeLayer:
    """A layer whose second-order meta-gradients vmap gets wrong, or which vmap cannot run at all.

    Attributes:
        module: its name in ``model.named_modules()`` (``""`` for the model itself).
        layer: its class name.
        found_by: ``"type"`` (a BatchNorm, InstanceNorm or LayerNorm class) or the function it was
            seen calling (``"F.batch_norm"``, ...).
        batch_statistics: it normalises with the statistics of its input batch (else: a LayerNorm
            with an elementwise weight).
        updates_running_stats: it writes running statistics in place in the current mode.
    """

    module: str
    layer: str
    found_by: str
    batch_statistics: bool
    updates_running_stats: bool

    def describe(self) -> str:
        """``module 'encoder.1' (InstanceNorm2d)``, with the function called when found by a trace."""
        where = f"module '{self.module}'" if self.module else "the model itself"
        how = "" if self.found_by == "type" else f", calling {self.found_by}"
        return f"{where} ({self.layer}{how})"


def vmap_unsafe_layers(model: nn.Module) -> list[VmapUnsafeLayer]:
    """The BatchNorm, InstanceNorm and LayerNorm modules of ``model`` that vmap cannot run or
    differentiate twice correctly in their current mode.

    A BatchNorm or InstanceNorm uses its input's statistics in training mode, and in eval mode too
    when it keeps no running statistics (``track_running_stats=False``); it updates running
    statistics in place when it is in training mode and keeps them (torch's rule, the same for both
    families). A LayerNorm counts when it has an elementwise weight.
    """
    found = []
    for name, m in model.named_modules():
        if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.modules.instancenorm._InstanceNorm)):
            if m.training or not m.track_running_stats:
                in_place = m.training and m.track_running_stats
                found.append(VmapUnsafeLayer(name, type(m).__name__, "type", True, in_place))
        elif isinstance(m, nn.LayerNorm) and m.weight is not None:
            found.append(VmapUnsafeLayer(name, type(m).__name__, "type", False, False))
    return found


# function -> (its name in messages, index and keyword of the argument that makes the call unsafe
# when true or given, that argument's default, index of running_mean: None for layer_norm)
_UNSAFE_CALLS: dict[Any, tuple[str, int, str, Any, int | None]] = {
    F.batch_norm: ("F.batch_norm", 5, "training", False, 1),
    F.instance_norm: ("F.instance_norm", 5, "use_input_stats", True, 1),
    F.layer_norm: ("F.layer_norm", 2, "weight", None, None),
    torch.batch_norm: ("torch.batch_norm", 5, "training", False, 3),
    torch.instance_norm: ("torch.instance_norm", 5, "use_input_stats", True, 3),
    torch.layer_norm: ("torch.layer_norm", 2, "weight", None, None),
}


def _argument(args: tuple[Any, ...], kwargs: dict[str, Any], index: int, name: str, default: Any) -> Any:
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


class _UnsafeCallRecorder(TorchFunctionMode):
    """Records the unsafe normalisation calls made while it is active, with the module that made
    each (the innermost module running, kept by ``stack``)."""

    def __init__(self, stack: list[tuple[str, nn.Module]]) -> None:
        super().__init__()
        self.stack = stack
        self.found: dict[str, VmapUnsafeLayer] = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        spec = _UNSAFE_CALLS.get(func)
        if spec is not None and self.stack:
            label, index, keyword, default, mean_index = spec
            value = _argument(args, kwargs, index, keyword, default)
            if isinstance(value, torch.Tensor) or bool(value):  # a weight given, or the flag set
                batch_statistics = mean_index is not None
                in_place = batch_statistics and _argument(args, kwargs, mean_index, "running_mean", None) is not None
                name, module = self.stack[-1]
                seen = self.found.get(name)
                self.found[name] = VmapUnsafeLayer(
                    name,
                    type(module).__name__,
                    label,
                    batch_statistics or (seen is not None and seen.batch_statistics),
                    in_place or (seen is not None and seen.updates_running_stats),
                )
        return func(*args, **kwargs)


def trace_vmap_unsafe_layers(model: nn.Module, x: torch.Tensor) -> list[VmapUnsafeLayer]:
    """The modules that make unsafe normalisation calls when ``model`` runs on ``x`` (see the
    module docstring), each named with the function it called.

    One forward pass without gradients that leaves nothing behind: running statistics are updated
    in copies of the buffers, and the random number generators of ``x``'s device are restored. A
    forward pass that fails is logged and yields what it found until then: the meta-step that
    follows runs the model again and raises the error where it belongs.
    """
    stack: list[tuple[str, nn.Module]] = []

    def enter(name: str, module: nn.Module) -> None:
        stack.append((name, module))

    def leave(*_: Any) -> None:  # returns None: the module's output stays as it is
        stack.pop()

    handles = []
    for name, module in model.named_modules():
        handles.append(module.register_forward_pre_hook(lambda m, args, name=name: enter(name, m)))
        handles.append(module.register_forward_hook(leave, always_call=True))
    devices = [x.device] if x.device.type != "cpu" else []
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    recorder = _UnsafeCallRecorder(stack)
    try:
        with torch.random.fork_rng(devices=devices, device_type=x.device.type), torch.no_grad(), recorder:
            functional_call(model, buffers, (x,), strict=False)
    except Exception as exc:  # noqa: BLE001 - an inspection; the real forward pass reports errors
        log.debug("vmap_trace_failed", error=str(exc)[:200])
    finally:
        for handle in handles:
            handle.remove()
    return list(recorder.found.values())


def active_dropout(model: nn.Module) -> list[nn.Module]:
    """The dropout modules of ``model`` that draw random masks in the current mode."""
    return [m for m in model.modules() if isinstance(m, nn.modules.dropout._DropoutNd) and m.training and m.p > 0]


@contextmanager
def dropout_disabled(model: nn.Module) -> Iterator[list[nn.Module]]:
    """Put the active dropout modules of ``model`` in eval mode for the block (yields them)."""
    modules = active_dropout(model)
    for m in modules:
        m.training = False
    try:
        yield modules
    finally:
        for m in modules:
            m.training = True
