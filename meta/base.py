"""The common ground of every meta-learner: task containers, meta-batches and ``BaseMetaLearner``.

A *task* is four tensors: a support set the learner adapts on and a query set it is judged on. A
*meta-batch* is a list of tasks; when all its tasks have the same shapes it also keeps them stacked
along a leading task dimension, which is what ``torch.func.vmap`` consumes.

Example:
    >>> import torch
    >>> from meta import Task, create_meta_batch
    >>> tasks = [Task(torch.randn(5, 1), torch.randn(5, 1), torch.randn(10, 1), torch.randn(10, 1))
    ...          for _ in range(8)]
    >>> batch = create_meta_batch(tasks, batch_size=4, seed=0)
    >>> len(batch), batch.stacked()[0].shape
    (4, torch.Size([4, 5, 1]))
"""

from __future__ import annotations

import abc
import inspect
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Union

import torch
from torch import nn
from torch.nn.parameter import is_lazy

from meta._checks import check_count, check_seed
from meta._log import event_log
from meta._sync import synchronized

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)


class NonFiniteLossError(ValueError):
    """A loss became NaN or infinite during meta-training; the update was not applied."""


class TaskShapeError(ValueError):
    """A task's tensors do not fit together (sizes, feature shapes, empty sets)."""


# equal only to itself, as its tensors are: a field-wise == compares tensors elementwise and raised
@dataclass(frozen=True, eq=False)
class Task:
    """One task: ``support_x``/``support_y`` to adapt on, ``query_x``/``query_y`` to be judged on.

    The first dimension of each tensor counts examples. Support and query must hold the same kind
    of example (equal shapes after the first dimension); the support set must not be empty.

    Example:
        >>> import torch
        >>> t = Task(torch.zeros(5, 3), torch.zeros(5), torch.zeros(7, 3), torch.zeros(7))
        >>> t.n_support, t.n_query
        (5, 7)
    """

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    task_id: Any = None

    def __post_init__(self) -> None:
        validate_task_tensors(self.support_x, self.support_y, self.query_x, self.query_y)

    @property
    def n_support(self) -> int:
        """Number of support examples."""
        return int(self.support_x.shape[0])

    @property
    def n_query(self) -> int:
        """Number of query examples."""
        return int(self.query_x.shape[0])

    def to(self, device: torch.device | str) -> Task:
        """The same task with every tensor on ``device``."""
        return Task(
            self.support_x.to(device),
            self.support_y.to(device),
            self.query_x.to(device),
            self.query_y.to(device),
            self.task_id,
        )

    def as_tuple(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(support_x, support_y, query_x, query_y)``."""
        return self.support_x, self.support_y, self.query_x, self.query_y


def validate_task_tensors(
    support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor, query_y: torch.Tensor
) -> None:
    """Raise ``TaskShapeError`` naming the field when the four tensors cannot form a task."""
    for name, value in (
        ("support_x", support_x),
        ("support_y", support_y),
        ("query_x", query_x),
        ("query_y", query_y),
    ):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
        if value.dim() == 0:
            raise TaskShapeError(f"{name} must have an example dimension, got a scalar")
    if support_x.shape[0] == 0:
        raise TaskShapeError("support_x is empty (0 examples): a task needs at least one support example")
    if support_x.shape[0] != support_y.shape[0]:
        raise TaskShapeError(
            f"support_x has {support_x.shape[0]} examples but support_y has {support_y.shape[0]}"
        )
    if query_x.shape[0] != query_y.shape[0]:
        raise TaskShapeError(f"query_x has {query_x.shape[0]} examples but query_y has {query_y.shape[0]}")
    if support_x.shape[1:] != query_x.shape[1:]:
        raise TaskShapeError(
            f"support_x examples have shape {tuple(support_x.shape[1:])} but query_x examples have "
            f"shape {tuple(query_x.shape[1:])}"
        )
    if support_y.shape[1:] != query_y.shape[1:]:
        raise TaskShapeError(
            f"support_y examples have shape {tuple(support_y.shape[1:])} but query_y examples have "
            f"shape {tuple(query_y.shape[1:])}"
        )


TaskLike = Union[Task, Sequence[torch.Tensor]]


def as_task(task: TaskLike) -> Task:
    """A ``Task`` from a ``Task`` or a 4-sequence ``(support_x, support_y, query_x, query_y)``."""
    if isinstance(task, Task):
        return task
    if isinstance(task, (tuple, list)) and len(task) == 4:
        return Task(*task)
    raise TypeError(
        "a task must be a Task or a (support_x, support_y, query_x, query_y) tuple, got "
        f"{type(task).__name__}" + (f" of length {len(task)}" if isinstance(task, (tuple, list)) else "")
    )


class MetaBatch:
    """A meta-batch: a list of tasks, and the same tasks stacked when their shapes agree.

    Build one with ``create_meta_batch`` or, when tensors are already stacked along a task
    dimension (as the samplers in ``meta.data`` produce them), with ``MetaBatch.from_tensors``;
    the per-task views of a stacked batch are only made when ``tasks`` is read (the vmap path
    never reads it, and slicing 4 x batch views is a noticeable share of a small meta-step).
    """

    def __init__(self, tasks: list[Task]) -> None:
        if len(tasks) == 0:
            raise TaskShapeError("tasks is empty: a meta-batch needs at least one task")
        self._tasks: list[Task] | None = list(tasks)
        self._stacked: tuple[torch.Tensor, ...] | None = None
        self._stack_checked = False

    @classmethod
    def from_tensors(
        cls,
        support_x: torch.Tensor,
        support_y: torch.Tensor,
        query_x: torch.Tensor,
        query_y: torch.Tensor,
    ) -> MetaBatch:
        """A meta-batch from tensors with a leading task dimension ``[n_tasks, n_examples, ...]``."""
        sizes = {support_x.shape[0], support_y.shape[0], query_x.shape[0], query_y.shape[0]}
        if len(sizes) != 1:
            raise TaskShapeError(f"the four tensors disagree on the number of tasks: {sorted(sizes)}")
        if support_x.shape[0] == 0:
            raise TaskShapeError("tasks is empty: a meta-batch needs at least one task")
        # validated once: every task of a stacked tensor has the same shapes
        validate_task_tensors(support_x[0], support_y[0], query_x[0], query_y[0])
        batch = cls.__new__(cls)
        batch._tasks = None
        batch._stacked = (support_x, support_y, query_x, query_y)
        batch._stack_checked = True
        return batch

    @property
    def tasks(self) -> list[Task]:
        """The tasks, in order (views into the stacked tensors for a batch built from them)."""
        if self._tasks is None:
            assert self._stacked is not None  # from_tensors sets one of the two
            tasks = []
            for i in range(self._stacked[0].shape[0]):
                t = Task.__new__(Task)
                for name, tensor in zip(("support_x", "support_y", "query_x", "query_y"), self._stacked):
                    object.__setattr__(t, name, tensor[i])
                object.__setattr__(t, "task_id", i)
                tasks.append(t)
            self._tasks = tasks
        return self._tasks

    def __repr__(self) -> str:
        return f"MetaBatch({len(self)} tasks{', stacked' if self._stacked is not None else ''})"

    def __len__(self) -> int:
        return len(self._tasks) if self._tasks is not None else self._stacked[0].shape[0]  # type: ignore[index]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.tasks)

    def __getitem__(self, index: int) -> Task:
        return self.tasks[index]

    def stacked(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor] | None:
        """The four tensors stacked along a new task dimension, or None when task shapes differ."""
        if not self._stack_checked:
            self._stack_checked = True
            first = self.tasks[0]
            same = all(
                a.shape == b.shape
                for t in self.tasks[1:]
                for a, b in zip(t.as_tuple(), first.as_tuple())
            )
            if same:
                self._stacked = tuple(
                    torch.stack([t.as_tuple()[i] for t in self.tasks]) for i in range(4)
                )
        return self._stacked  # type: ignore[return-value]

    def to(self, device: torch.device | str) -> MetaBatch:
        """The same meta-batch with every tensor on ``device`` (no copy when already there)."""
        stacked = self.stacked()
        if stacked is not None:
            if all(s.device == torch.device(device) for s in stacked):
                return self
            return MetaBatch.from_tensors(*(s.to(device) for s in stacked))
        return MetaBatch([t.to(device) for t in self.tasks])

    def detach(self) -> MetaBatch:
        """The same meta-batch cut from any autograd graph its tensors were computed in (no copy);
        itself when there is none. Learners take tasks as data: a tensor computed from another
        model's parameters sent the meta-gradient into that model's ``.grad``, and its freed graph
        failed the next step with "Trying to backward through the graph a second time"."""
        stacked = self.stacked()
        tensors = stacked if stacked is not None else [x for t in self.tasks for x in t.as_tuple()]
        if not any(x.requires_grad for x in tensors):
            return self
        if stacked is not None:
            return MetaBatch.from_tensors(*(s.detach() for s in stacked))
        return MetaBatch([Task(*(x.detach() for x in t.as_tuple()), t.task_id) for t in self.tasks])

    def shard(self, index: int, count: int) -> MetaBatch:
        """Every ``count``-th task starting at ``index``: one process's share in distributed runs."""
        if not 0 <= index < count:
            raise ValueError(f"shard index must lie in [0, {count}), got {index}")
        if count > len(self.tasks):
            raise ValueError(
                f"cannot shard {len(self.tasks)} tasks over {count} processes: each needs a task"
            )
        stacked = self.stacked()
        if stacked is not None:
            return MetaBatch.from_tensors(*(s[index::count] for s in stacked))
        return MetaBatch(self.tasks[index::count])


def as_meta_batch(tasks: MetaBatch | Iterable[TaskLike]) -> MetaBatch:
    """A ``MetaBatch`` from a ``MetaBatch`` or any finite iterable of tasks or 4-tuples; an
    ``EpisodeSampler`` or its iterator, which never run out, is refused (TypeError naming ``tasks``)."""
    from meta.data.episodes import is_endless  # meta.data builds on this module

    if isinstance(tasks, MetaBatch):
        return tasks
    if isinstance(tasks, Task):
        raise TypeError("tasks must be a collection of tasks, got a single Task: wrap it in a list")
    if is_endless(tasks):
        # reading it whole would never end, and would fill the memory on the way
        raise TypeError(
            f"tasks is an {type(tasks).__name__}, which never runs out of episodes: pass sampler.sample_batch(n)"
        )
    return MetaBatch([as_task(t) for t in tasks])


def sampler_generator(seed: Any, generator: Any) -> torch.Generator:
    """The random generator of a task sampler: ``generator`` when given, else a new one seeded with
    ``seed``; TypeError naming ``generator``, or ValueError naming ``seed``, for anything else (torch
    would take neither at once, and a wrong generator only failed at the first sample). Sampling
    draws on the CPU, so a generator of another device (CUDA) is refused naming ``generator`` too."""
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        if generator.device.type != "cpu":
            raise ValueError(
                f"generator: a {generator.device} generator; task sampling draws on the CPU, give a CPU torch.Generator"
            )
        return generator
    return torch.Generator().manual_seed(check_seed("seed", seed))


def create_meta_batch(
    tasks: Sequence[TaskLike],
    batch_size: int,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> MetaBatch:
    """Draw ``batch_size`` tasks (without replacement) into a ``MetaBatch``.

    With exactly ``batch_size`` tasks, or with neither ``seed`` nor ``generator``, the first
    ``batch_size`` tasks are taken in order; otherwise a random subset drawn with that seed.
    A ``seed`` that is not an integer, or a ``generator`` that is not a ``torch.Generator``, is
    refused naming it.

    Example:
        >>> import torch
        >>> tasks = [(torch.randn(5, 10), torch.randn(5, 1), torch.randn(5, 10), torch.randn(5, 1))] * 4
        >>> len(create_meta_batch(tasks, batch_size=4))
        4
    """
    batch_size = check_count("batch_size", batch_size, low=1)
    tasks = list(tasks)
    if batch_size > len(tasks):
        raise ValueError(f"batch_size={batch_size} is larger than the number of tasks ({len(tasks)})")
    if generator is not None or seed is not None:
        generator = sampler_generator(seed, generator)
    if generator is not None and batch_size < len(tasks):
        order = torch.randperm(len(tasks), generator=generator)[:batch_size].tolist()
        chosen = [tasks[i] for i in order]
    else:
        chosen = tasks[:batch_size]
    return MetaBatch([as_task(t) for t in chosen])


def model_device(model: nn.Module) -> torch.device:
    """The device of a module's first parameter or buffer (CPU for a module with neither)."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


def model_dtype(model: nn.Module) -> torch.dtype:
    """The dtype of a module's first floating parameter or buffer (torch's default for a module
    with neither): what the tensors built to meet its outputs (loss weights, masks' fills,
    penalties) take, so that a float64 or bfloat16 model computes in its own precision."""
    for tensor in itertools.chain(model.parameters(), model.buffers()):
        if tensor.is_floating_point() and not is_lazy(tensor):
            return tensor.dtype
    return torch.get_default_dtype()


def check_weights(model: nn.Module, weights: dict[str, torch.Tensor]) -> None:
    """KeyError naming the entry of ``weights`` that is not a parameter or buffer of ``model``,
    TypeError for one that is not a tensor, TaskShapeError for one whose shape is not the shape of
    what it replaces (``functional_call`` ignores unknown names and takes any shape that computes)."""
    own = dict(model.named_parameters(remove_duplicate=False))
    own.update(model.named_buffers(remove_duplicate=False))
    unknown = [n for n in weights if n not in own]
    if unknown:
        raise KeyError(
            f"weights names {unknown[:5]!r} that are not parameters or buffers of the model; "
            f"known names start with {list(own)[:5]!r}"
        )
    for name, value in weights.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"weights[{name!r}] must be a torch.Tensor, got {type(value).__name__}")
        if not is_lazy(own[name]) and value.shape != own[name].shape:
            raise TaskShapeError(
                f"weights[{name!r}] has shape {tuple(value.shape)} but the model's {name} has shape "
                f"{tuple(own[name].shape)}"
            )


def gradients_finite(params: Iterable[torch.Tensor]) -> bool:
    """Whether every gradient of ``params`` (those that have one) is finite. A finite loss can have a
    NaN gradient (``torch.where(a > 0, a.sqrt(), 0)`` at a negative ``a``, a half-precision overflow):
    a step on it writes NaN into the weights without a word, and no later loss can undo that."""
    checks = [torch.isfinite(p.grad).all() for p in params if p.grad is not None]
    return not checks or bool(torch.stack(checks).all())  # one synchronisation for all of them


def check_input_dtype(field: str, x: torch.Tensor, dtype: torch.dtype) -> None:
    """TypeError naming ``field`` when ``x`` is floating but not of the parameters' ``dtype``
    (torch's own error names neither the tensor nor the fix)."""
    if x.is_floating_point() and x.dtype != dtype:
        raise TypeError(f"{field} has dtype {x.dtype} but the model's parameters are {dtype}: convert it with .to({dtype})")


# torch's messages for an input whose dtype is not its parameters' (linear, conv, bilinear, layer
# norm, batch norm); an embedding's "one of the following scalar types" is not one: integer ids
# are what it wants, and advising .to(float) would be wrong
_DTYPE_MISMATCH = (
    "same dtype", "expected scalar type", "expected object of scalar type", ") should be the same",
    "same datatype", "not implemented for '",
)


@contextmanager
def integer_inputs_named(model: nn.Module, inputs: Iterable[tuple[str, torch.Tensor]]) -> Iterator[None]:
    """A TypeError naming the integer (or boolean, or complex) ``inputs`` (``(field, tensor)``
    pairs, read only then) when ``model`` fails on their dtype: torch's own error ("mat1 and mat2
    must have the same dtype") names neither the tensor nor the fix. Such inputs are not refused
    up front: integers may be ids an ``nn.Embedding`` takes, complex numbers what a model of
    complex parameters takes."""
    try:
        yield
    except RuntimeError as exc:  # NotImplementedError too ("not implemented for 'Long'")
        non_float = {field: x.dtype for field, x in inputs if not x.is_floating_point()}
        if not non_float or not any(marker in str(exc).lower() for marker in _DTYPE_MISMATCH):
            raise
        dtype = model_dtype(model)
        if len(set(non_float.values())) == 1:
            named = f"{' and '.join(non_float)}: dtype {next(iter(non_float.values()))}"
        else:  # each its own, or an int32 query_x would be reported as the int64 of support_x
            named = " and ".join(f"{field}: dtype {d}" for field, d in non_float.items())
        fix = f"convert it with .to({dtype})"
        if any(d.is_complex for d in non_float.values()):  # .to() would drop the imaginary part
            fix = f"give the model its .real, or torch.view_as_real of it, in {dtype}"
        raise TypeError(
            f"{named}, but the model's parameters are {dtype} and the model failed on it ({str(exc)[:200]}): {fix}"
        ) from exc


def checked_optimizer(field: str, optimizer: Any, params: list[nn.Parameter]) -> torch.optim.Optimizer:
    """``optimizer`` (what the factory ``field`` returned) if it is an optimiser over every one of
    ``params``, else an error naming ``field``: one that leaves a parameter out (a factory that
    ignores its argument and takes ``model.parameters()``, or another model's) never trains it."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"{field} must return a torch.optim.Optimizer, got {type(optimizer).__name__}")
    closure = inspect.signature(optimizer.step).parameters.get("closure")
    if closure is not None and closure.default is inspect.Parameter.empty:
        # a learner's step computes its gradient once and then steps; LBFGS's step re-evaluates the
        # loss through a closure, and failed at the first step with "missing ... 'closure'"
        raise ValueError(
            f"{field} returned {type(optimizer).__name__}, whose step needs a closure that re-evaluates the "
            "loss; a learner computes each step's gradient once: use an optimiser such as Adam or SGD"
        )
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    missing = sum(id(p) not in held for p in params)
    if missing:
        raise ValueError(
            f"{field} returned an optimiser that leaves {missing} of the {len(params)} parameters to "
            "train out: build it from the parameters the factory is given"
        )
    return optimizer


@contextmanager
def _undone_after(undo: Callable[[], None], on_success: bool) -> Iterator[None]:
    """Run ``undo`` after the block: always, or with ``on_success=False`` only when it raises."""
    succeeded = False
    try:
        yield
        succeeded = True
    finally:
        if on_success or not succeeded:
            undo()


@contextmanager
def modes_kept(model: nn.Module, on_success: bool = True) -> Iterator[None]:
    """Each of ``model``'s modules back in the mode it was in after the block (with
    ``on_success=False``, only when it raises): ``model.train(was)`` put them all in the top
    module's, so a BatchNorm frozen in eval mode inside a model in training mode (fine-tuning's
    usual set-up) came back training, and updated its running statistics from the next batch on."""
    modes = [(m, m.training) for m in model.modules()]

    def undo() -> None:
        for m, training in modes:
            m.training = training

    with _undone_after(undo, on_success):
        yield


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """``model`` in evaluation mode for the block, then each of its modules back in the mode it was
    in (``modes_kept``)."""
    with modes_kept(model):
        model.eval()
        yield


def train_unfrozen(model: nn.Module) -> None:
    """Put ``model`` in training mode, except the modules the user froze.

    A module is frozen when it is in evaluation mode inside a parent in training mode (a BatchNorm
    kept in eval for fine-tuning): it and the modules it holds keep their modes while the rest
    trains; ``model.train()`` switched it back to training, and the update moved its running
    statistics. A model wholly in evaluation mode (one serving) carries no such mark and trains
    whole, as ``model.train()`` puts it: freeze a module inside a model in training mode.

    The rule reads the user's model, not a wrapper the library builds around it (a few-shot
    network around its encoder: a class with ``wraps_user_model = True``). Such a wrapper's flag is
    no mark, as it does not follow its modules' (an encoder put in evaluation mode to embed leaves
    it in training mode), so each module it holds is read as a model of its own: wholly in
    evaluation mode, it trains whole; with a module frozen inside, that module stays frozen.
    """
    frozen = [(m, m.training) for parent in model.modules() if parent.training and not getattr(parent, "wraps_user_model", False)
              for child in parent.children() if not child.training for m in child.modules()]
    model.train()  # through train(), which a module may override
    for m, training in frozen:
        m.training = training


@contextmanager
def train_mode(model: nn.Module) -> Iterator[None]:
    """``model`` in training mode for the block, the modules the user froze excepted
    (``train_unfrozen``), then each of its modules back in the mode it was in (``modes_kept``)."""
    with modes_kept(model):
        train_unfrozen(model)
        yield


@contextmanager
def buffers_restored(model: nn.Module, on_success: bool = True) -> Iterator[None]:
    """Put ``model``'s buffers back as they were after the block (with ``on_success=False``, only
    when it raises). Forward passes in training mode update BatchNorm's running statistics in
    place: adapting to a task, evaluating it or predicting for it must not carry that task's data
    into the meta-learned model, and a refused step (a NaN loss) must not leave NaN statistics."""
    # an unmaterialised buffer (LazyBatchNorm before its first call) has no value to keep: one
    # materialised in the block is put back as a fresh one, running statistics reset
    buffers = list(model.buffers())
    saved = [(b, b.detach().clone()) for b in buffers if not is_lazy(b)]
    lazy = [m for m in model.modules() if any(is_lazy(b) for b in m.buffers(recurse=False))] if len(saved) < len(buffers) else []

    def undo() -> None:
        with torch.no_grad():
            for buffer, value in saved:
                buffer.copy_(value)
        for module in lazy:
            if not any(is_lazy(b) for b in module.buffers(recurse=False)) and hasattr(module, "reset_running_stats"):
                module.reset_running_stats()

    with _undone_after(undo, on_success):
        yield


@contextmanager
def refused_step_undone(model: nn.Module, params: Iterable[torch.Tensor] | None = None) -> Iterator[None]:
    """Around one training step's forward and backward passes: when the block raises (a NaN loss or
    gradient refused, the model failing) ``model``'s buffers are put back and the gradients of
    ``params`` (by default the model's parameters) cleared, then the error goes on. The refused step
    leaves neither NaN running statistics nor the NaN gradient it was refused for, which the
    caller's next optimiser step would take in."""
    with buffers_restored(model, on_success=False):
        try:
            yield
        except BaseException:
            for p in model.parameters() if params is None else params:
                p.grad = None
            raise


class OptimizerFollowsModule(nn.Module):
    """A module whose optimiser (the attribute ``_optimizer_attribute`` names) keeps its state
    (Adam's moments, say) on the device and dtype of the parameters.

    ``Module.to``, ``.double()`` and ``.cuda()`` all go through ``_apply``, which converts the
    parameters in place but leaves the optimiser's state as it was, so the next step would fail on
    mixed dtypes or devices. Reloading the state lets the optimiser cast it the way it does when it
    loads a checkpoint.
    """

    _optimizer_attribute = "optimizer"

    def _apply(self, fn: Any, recurse: bool = True) -> OptimizerFollowsModule:
        super()._apply(fn, recurse)
        optimizer = getattr(self, self._optimizer_attribute, None)
        if optimizer is not None and optimizer.state:
            optimizer.load_state_dict(optimizer.state_dict())
        return self


class BaseMetaLearner(OptimizerFollowsModule, abc.ABC):
    """What every meta-learner offers: ``meta_train_step(tasks)`` and ``adapt_to_task(...)``.

    Subclasses implement those two; the base keeps the model, its device, a count of meta-steps,
    and the NaN guard. It is an ``nn.Module`` so that ``state_dict``, ``.to(device)`` and
    checkpoints (``meta.checkpoint``) cover the model and any meta-learned extras alike.

    Arguments:
        model: any ``nn.Module``; it is used as is, never rewritten.
        device: where to run; defaults to the model's device (the model is moved when given).

    Example:
        >>> import torch
        >>> from torch import nn
        >>> class Nearest(BaseMetaLearner):
        ...     def meta_train_step(self, tasks):
        ...         return {"meta_loss": 0.0}
        ...     def adapt_to_task(self, support_x, support_y=None):
        ...         return {"support_x": support_x}
        >>> Nearest(nn.Linear(2, 1)).meta_step_count
        0
    """

    _optimizer_attribute = "meta_optimizer"

    def __init__(self, model: nn.Module, device: torch.device | str | None = None, **kwargs: Any):
        super().__init__()
        if not isinstance(model, nn.Module):
            raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if kwargs:
            raise TypeError(f"unexpected keyword arguments for {type(self).__name__}: {sorted(kwargs)}")
        if device is not None:
            model = model.to(device)
        self.model = model
        self.meta_step_count = 0

    @property
    def device(self) -> torch.device:
        """The device the model's parameters live on."""
        return model_device(self.model)

    @abc.abstractmethod
    def meta_train_step(self, tasks: Any) -> dict[str, float]:
        """One meta-update from a meta-batch of tasks; returns metrics such as ``meta_loss``."""

    @abc.abstractmethod
    def adapt_to_task(self, *args: Any, **kwargs: Any) -> Any:
        """Adapt to one task's support set; returns what ``_forward_with_weights`` takes."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The model at its meta-learned values."""
        return self.model(x)

    @synchronized
    def _forward_with_weights(self, x: torch.Tensor, weights: dict[str, torch.Tensor]) -> torch.Tensor:
        """Run the model with ``weights`` (name -> tensor) in place of its own parameters.

        Names missing from ``weights`` keep the model's values, so the dict returned by an
        ``adapt_to_task`` that adapted only some parameters works as is. A prediction leaves the
        model's buffers (BatchNorm's running statistics in training mode) as they were; it holds
        the learner's lock, so that it never puts them back over a meta-step running in another
        thread. A name that is not one of the model's parameters or buffers raises KeyError, a
        tensor of another shape than the one it replaces TaskShapeError, each naming it: either
        would otherwise predict from the meta-learned weights, or from others, without a word;
        a floating ``x`` of another dtype than the model's, or an integer or complex one the model
        fails on, raises TypeError.
        """
        check_weights(self.model, weights)
        dtype = next((p.dtype for p in self.model.parameters() if not is_lazy(p)), None)
        if dtype is not None and isinstance(x, torch.Tensor):  # a model may take other inputs
            check_input_dtype("x", x, dtype)
        inputs = [("x", x)] if isinstance(x, torch.Tensor) else []
        with integer_inputs_named(self.model, inputs), buffers_restored(self.model):
            return torch.func.functional_call(self.model, weights, (x,), strict=False)

    @synchronized
    def save(self, path: str, metadata: dict[str, Any] | None = None) -> None:
        """Write the learner (model, meta-learned extras, meta-optimiser state, torch's global random
        state) to a safetensors file.

        ``metadata`` is stored with the file (JSON-serialisable; ``class``, ``meta_step_count`` and
        ``settings``, the learner's ``settings()``, are written by ``save`` itself and may not be given).
        """
        from meta.checkpoint import learner_metadata, save_checkpoint

        own = {"class": type(self).__name__, "meta_step_count": self.meta_step_count, "settings": self.settings()}
        save_checkpoint(path, self, getattr(self, "meta_optimizer", None), learner_metadata(own, metadata))

    @synchronized
    def load(self, path: str) -> dict[str, Any]:
        """Restore a learner written by ``save`` into this one (same class, architecture and
        ``settings()``); returns the metadata. Training resumes where it stopped: torch's global random
        state is put back as it was at the save too, so dropout draws what it would have drawn. A file
        saved by another class or with other settings raises ValueError naming the file and the field,
        and changes nothing."""
        from meta.checkpoint import check_learner, checkpoint_metadata, load_checkpoint, stored_count

        optimizer = getattr(self, "meta_optimizer", None)
        meta = checkpoint_metadata(path)
        steps = stored_count(path, meta, "meta_step_count")
        check_learner(path, meta, type(self).__name__, self.settings())
        info = load_checkpoint(path, self, optimizer if "optimizer" in meta else None, restore_rng=True)
        self.meta_step_count = steps
        return info

    def settings(self) -> dict[str, Any]:
        """The options that define what the learner optimises (JSON values), saved with it and
        checked on load; none here."""
        return {}

    def _check_finite(self, loss: torch.Tensor | float, what: str = "meta-loss") -> None:
        """Raise ``NonFiniteLossError`` with the step number when ``loss`` is NaN or infinite."""
        value = float(loss)
        if value != value or value in (float("inf"), float("-inf")):
            log.error("non_finite_loss", step=self.meta_step_count + 1, loss=value, what=what)
            raise NonFiniteLossError(
                f"{what} is {value} at meta-step {self.meta_step_count + 1} of {type(self).__name__}; "
                "the update was not applied (lower the learning rates or check the data)"
            )
