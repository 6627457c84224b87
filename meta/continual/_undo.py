"""Put a learner's model and strategies back as they were when a training call fails midway."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from meta.continual.strategies import Strategy, TrainingContext, cloned_state


def _module_undo(module: nn.Module) -> Callable[[], None]:
    """What puts ``module`` back: the values of its parameters and buffers, and its structure.

    The structure is every submodule's attributes with their containers copied one level deep
    (submodule, parameter and buffer tables, training flags, a progressive network's column map),
    so a column added by the block goes away again and the parameters stay the same objects (an
    optimiser or another learner holding them keeps working). Tensors are copied by value only,
    never the module: a training call pays for one copy of its weights, not a deep copy of it.
    The parameters' gradients are cleared, as a refused step of the meta-learners clears them: the
    NaN gradient a step was refused for would otherwise reach the caller's next optimiser step.
    """
    tree = [(m, {k: v.copy() if isinstance(v, (dict, list, set)) else v for k, v in vars(m).items()})
            for m in module.modules()]
    tensors = [*module.named_parameters(), *module.named_buffers()]
    values = [(t, t.detach().clone()) for _, t in tensors]
    flags = [(p, p.requires_grad) for _, p in module.named_parameters()]

    def restore() -> None:
        for m, attrs in tree:
            m.__dict__.clear()
            m.__dict__.update(attrs)
        with torch.no_grad():
            for t, value in values:
                t.copy_(value)
        for p, flag in flags:
            p.requires_grad_(flag)
            p.grad = None

    return restore


def _undo(obj: object, ctx: TrainingContext) -> Callable[[], None]:
    if isinstance(obj, nn.Module):
        return _module_undo(obj)
    if isinstance(obj, Strategy) and type(obj).state_dict is not Strategy.state_dict:
        # what a strategy keeps between calls is its state_dict (the same that save/load keep)
        state = cloned_state(obj.state_dict())
        return lambda: obj.load_state_dict(state, ctx)
    saved = copy.deepcopy(vars(obj))

    def restore() -> None:
        obj.__dict__.clear()
        obj.__dict__.update(saved)

    return restore


@contextmanager
def restored_on_failure(ctx: TrainingContext, *objects: object) -> Iterator[None]:
    """Restore ``objects`` in place if the block raises, then re-raise.

    A module gets back its parameters' and buffers' values, ``requires_grad`` and training flags
    and its submodules, its gradients cleared (see :func:`_module_undo`); a strategy with a
    ``state_dict`` gets back the state it had, through ``load_state_dict(state, ctx)``; any other
    object gets back its attributes from a copy taken before the block. Modules are restored
    first, since a strategy checks its state against ``ctx.model``.
    """
    undo = [(isinstance(obj, nn.Module), _undo(obj, ctx)) for obj in objects]
    try:
        yield
    except BaseException:
        for is_module, restore in sorted(undo, key=lambda u: not u[0]):
            restore()
        raise
