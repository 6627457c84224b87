"""ContinualLearner: trains one model on a sequence of tasks with a strategy, and keeps score."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import ConfigDict, Field
from torch import nn

from meta._checks import NumbersOnly, check_count, check_flag
from meta._log import event_log
from meta._sync import synchronized
from meta.continual._data import (
    Batch,
    DuplicateTaskError,
    UnknownTaskError,
    as_task_mapping,
    as_tensors,
    check_task_id,
)
from meta.base import eval_mode, gradients_finite, train_mode
from meta.checkpoint import load_state, rng_state, save_state, set_rng_state
from meta.continual._undo import restored_on_failure
from meta.continual.metrics import AccuracyMatrix, detect_collapse
from meta.continual.progressive import Progressive, ProgressiveNetwork
from meta.continual.strategies import EWC, LwF, Compose, ExperienceReplay, Naive, Strategy, set_generator_state

# Through the stdlib logger, so the library stays quiet unless the application enables it.
log = event_log(__name__)

Setting = Literal["task", "class", "domain"]


class ContinualConfig(NumbersOnly):
    """Training settings of a :class:`ContinualLearner` (every field validated, when set too).

    ``setting``, ``buffer_size`` and ``seed`` are fixed once the learner is built (it built its
    strategy and generator from them, and checked the strategy against the setting): set later,
    they had no effect, or served predictions of another setting than the model was trained for.
    The others may be changed between tasks. Defaults were chosen on the permuted-digits benchmark
    (``docs/benchmarks/continual.md``).
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # an infinite lr passes gt=0

    setting: Setting = Field(
        "class",
        frozen=True,
        description="'task': the task id is known at training and test time, logits are masked to the "
        "task's classes (and a progressive network picks the task's column); 'class': one head over all "
        "classes, no task id at test time; 'domain': like 'class' but every task shares the label space.",
    )
    buffer_size: int = Field(200, ge=0, frozen=True, description="Replay memory size, for strategies named by string.")
    optimizer: Literal["sgd", "adam"] = Field("sgd", description="Optimiser, rebuilt at the start of each task.")
    lr: float = Field(0.05, gt=0, description="Learning rate.")
    momentum: float = Field(0.9, ge=0, lt=1, description="SGD momentum (ignored by Adam).")
    batch_size: int = Field(
        32,
        ge=1,
        description="Samples of the current task per step (above 1, a last batch of one sample joins the one before it).",
    )
    seed: int = Field(
        0, ge=-(2**63), le=2**64 - 1, frozen=True, description="Seeds the data order and the strategies named by string."
    )
    collapse_threshold: float = Field(
        0.9, gt=0.5, le=1.0, description="Share of one predicted class from which a task counts as collapsed."
    )
    grad_clip: float | None = Field(
        None, gt=0, description="Clip the gradient norm to this value (None: no clipping)."
    )
    lr_decay: float = Field(
        1.0,
        gt=0,
        le=1,
        description="Per-experience learning-rate decay: the k-th training stage (counting from 0) runs at "
        "lr * lr_decay**k, so later tasks take smaller steps away from the earlier ones' solutions "
        "(Mirzadeh et al., 2020). 1 keeps the rate constant.",
    )


STRATEGY_NAMES = (
    "naive",
    "ewc",
    "online_ewc",
    "replay",
    "replay_balanced",
    "replay_prioritized",
    "lwf",
    "progressive",
)


def make_strategy(name: str, buffer_size: int = 200, seed: int = 0) -> Strategy:
    """A strategy from its name; ``"a+b"`` composes (for example ``"ewc+replay"``).

    Names: naive, ewc, online_ewc, replay (reservoir), replay_balanced (class-balanced),
    replay_prioritized (loss-prioritised), lwf, progressive. Defaults are documented on each class.
    A replay with ``buffer_size`` 0 is refused (ValueError naming it): it would replay nothing.

    >>> make_strategy("ewc+replay", buffer_size=100).name
    'ewc+replay'
    """
    if not isinstance(name, str):
        raise TypeError(f"strategy: expected a name such as 'ewc+replay', got {name!r}")
    parts = [p.strip() for p in name.split("+")]
    replays = [p for p in parts if p in ("replay", "replay_balanced", "replay_prioritized")]
    if replays and check_count("buffer_size", buffer_size) < 1:  # no memory replays nothing: naive training
        raise ValueError(
            f"buffer_size: {buffer_size!r} leaves {replays[0]!r} of strategy {name!r} no memory to replay; "
            "give buffer_size >= 1, or leave replay out"
        )
    built: list[Strategy] = []
    for part in parts:
        if part == "naive":
            built.append(Naive())
        elif part == "ewc":
            built.append(EWC(seed=seed))
        elif part == "online_ewc":
            built.append(EWC(mode="online", seed=seed))
        elif part == "replay":
            built.append(ExperienceReplay(buffer_size, "reservoir", seed=seed))
        elif part == "replay_balanced":
            built.append(ExperienceReplay(buffer_size, "class_balanced", seed=seed))
        elif part == "replay_prioritized":
            built.append(ExperienceReplay(buffer_size, "loss_prioritized", seed=seed))
        elif part == "lwf":
            built.append(LwF())
        elif part == "progressive":
            built.append(Progressive(seed=seed))
        else:
            raise ValueError(f"strategy: unknown name {part!r} in {name!r}; choose from {list(STRATEGY_NAMES)}")
    return built[0] if len(built) == 1 else Compose(built)


# what a failed training call or a refused load puts back (model and strategies aside)
_RECORDS = ("task_classes", "_generator", "num_outputs", "trained_tasks", "stage_tasks", "_accuracy",
            "_baseline", "history", "_joint_stages")
_SAVED_FIELDS = ("config", "strategy", "columns", "model", "initial_model", "strategies", "generator", "num_outputs",
                 "task_classes", "trained_tasks", "stage_tasks", "accuracy", "baseline", "history", "joint_stages")


def _flatten(strategy: Strategy) -> list[Strategy]:
    if isinstance(strategy, Compose):
        return [s for inner in strategy.strategies for s in _flatten(inner)]
    return [strategy]


def _unnamed_policies(strategy: Strategy) -> str:
    """``strategy``'s name as files saved before a replay's name said its policy hold it: every
    replay was ``"replay"`` then, so such a file loads into a learner of any replay policy."""
    return "+".join("replay" if isinstance(s, ExperienceReplay) else s.name for s in _flatten(strategy))


class ContinualLearner:
    """Train one model on tasks that arrive one after another, without forgetting the earlier ones.

    Arguments:
        model: any ``nn.Module`` mapping a batch of inputs to class logits. With the progressive
            strategy an ``nn.Sequential`` MLP is turned into a :class:`ProgressiveNetwork` of the same
            shape (``learner.model`` is then that network).
        strategy: a :class:`Strategy`, a list of them (composed), or a name (``"ewc"``, ``"replay"``,
            ``"ewc+replay"``, ... see :func:`make_strategy`).
        buffer_size: replay memory size for strategies given by name; strategies without a memory
            (naive, EWC, LwF, progressive) do not use it.
        **config: the fields of :class:`ContinualConfig` (setting, optimizer, lr, batch_size, seed, ...).

    Task data, for :meth:`train_task`: an ``(x, y)`` pair of tensors, a ``TensorDataset(x, y)`` or a
    ``DataLoader`` of ``(x, y)`` batches (read once); ``y`` holds integer class labels. Test data, for
    :meth:`evaluate_all_tasks`: a list whose i-th element is task i's data, or a mapping
    ``{task_id: data}``, each element in any of those forms.

    ``save(path)`` writes the whole learner to one safetensors file (JSON for the rest, no pickle): the
    model (a progressive network with its columns), the untrained model that forward transfer is
    measured against, every strategy's state (EWC's importance weights and anchors, the replay memory
    with its priorities and the count offered to it, LwF's teacher), the random generators (the
    learner's own, and torch's global one that a model's dropout draws from), and the records (task
    classes, stages, accuracy matrix, history). The optimiser is rebuilt at the start of each task, so
    between tasks it holds nothing to keep. ``load(path)`` on a learner built with the same model
    architecture, strategy and settings restores it all, torch's global random state included (it is
    the process's, shared by everything in it): the next task trains exactly as it would have without
    the restart (data order, replay, sampled Fisher labels, new columns, dropout masks). A damaged
    file, or one saved with another architecture, strategy or setting, raises ValueError naming the
    file and the field and leaves the learner unchanged.

    Threads: ``predict``, ``train_task``, ``train_joint``, ``evaluate_all_tasks``, ``save`` and
    ``load`` hold the learner's lock, so threads may share one learner (predictions served while
    another thread trains a task); its calls then run one at a time, each on a consistent model in
    the right mode. To predict in parallel, give each thread its own copy (``copy.deepcopy(learner)``).

    Example:
        >>> from meta import ContinualLearner
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> model = nn.Sequential(nn.Linear(8, 32), nn.ReLU(), nn.Linear(32, 4))
        >>> learner = ContinualLearner(model, strategy="ewc+replay", buffer_size=40)
        >>> # task t: classes 2t and 2t+1, told apart by the sign of feature t
        >>> tasks = [(x, (x[:, t] > 0).long() + 2 * t) for t, x in enumerate(torch.randn(2, 40, 8))]
        >>> for task_id, task_data in enumerate(tasks):
        ...     _ = learner.train_task(task_data, task_id, num_epochs=5)
        >>> res = learner.evaluate_all_tasks(tasks)
        >>> sorted(res["accuracy"]), res["collapsed_tasks"]
        ([0, 1], [])
    """

    def __init__(
        self,
        model: nn.Module,
        strategy: str | Strategy | Sequence[Strategy] = "ewc",
        buffer_size: int = 200,
        **config: Any,
    ) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model: expected an nn.Module, got {type(model).__name__}")
        self.config = ContinualConfig(buffer_size=buffer_size, **config)
        if isinstance(strategy, str):
            strategy = make_strategy(strategy, self.config.buffer_size, self.config.seed)
        elif isinstance(strategy, Sequence):
            strategy = Compose(list(strategy))
        elif not isinstance(strategy, Strategy):
            raise TypeError(f"strategy: expected a name, a Strategy or a list of them, got {type(strategy).__name__}")
        self.strategy: Strategy = strategy
        parts = _flatten(strategy)
        if any(isinstance(s, Progressive) for s in parts):
            if self.config.setting != "task":
                raise ValueError(
                    f"setting: the progressive strategy picks a column by task id, so it needs setting='task', "
                    f"got {self.config.setting!r}"
                )
            if len(parts) > 1:
                raise ValueError(f"strategy: progressive networks do not forget; combine it with nothing, got {strategy.name!r}")
            if not isinstance(model, ProgressiveNetwork):
                model = ProgressiveNetwork.from_mlp(model)
        self.model = model
        self._initial_model = copy.deepcopy(model)  # the random-init baseline for forward transfer
        self._generator = torch.Generator().manual_seed(self.config.seed)
        self.num_outputs: int | None = model.sizes[-1] if isinstance(model, ProgressiveNetwork) else None
        self.task_classes: dict[int, list[int]] = {}
        self.trained_tasks: list[int] = []  # distinct task ids in order of first training
        self.stage_tasks: list[int] = []  # task id trained at each stage
        self._accuracy: dict[tuple[int, int], float] = {}  # (stage, task id) -> accuracy
        self._baseline: dict[int, float] = {}
        self.history: list[dict[str, Any]] = []
        self._joint_stages: dict[int, list[int]] = {}  # stage -> tasks trained together by train_joint

    # ------------------------------------------------------------------------------ model access
    def forward(self, x: torch.Tensor, task_ids: torch.Tensor, model: nn.Module | None = None) -> torch.Tensor:
        """Logits of ``model`` (default: the trained one); masking happens in :meth:`per_sample_loss`."""
        model = self.model if model is None else model
        if isinstance(model, ProgressiveNetwork):
            return model(x, task_ids)
        return model(x)

    def _mask(self, task_ids: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor | None:
        if self.config.setting != "task":
            return None
        # one row per known task, matched by comparison: ids are labels, and a table indexed by id
        # up to the largest cost seconds a batch at id 10**7 (gigabytes at 10**9). No torch.unique
        # either: the Fisher's per-sample gradients run this under vmap. Built where the outputs
        # are (task ids are kept on the CPU): a mask on another device fails masked_fill on a GPU
        device = outputs.device
        ids = list(self.task_classes)
        table = torch.zeros(len(ids), outputs.shape[1], dtype=torch.bool, device=device)
        for i, t in enumerate(ids):
            table[i, self.task_classes[t]] = True
        match = task_ids.to(device).unsqueeze(-1) == torch.tensor(ids, dtype=task_ids.dtype, device=device)
        return (match.unsqueeze(-1) & table).any(dim=-2)

    def masked_logits(self, outputs: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        """Logits with the classes outside each sample's task set to -inf ('task' setting only)."""
        mask = self._mask(task_ids, outputs)
        return outputs if mask is None else outputs.masked_fill(~mask, float("-inf"))

    def per_sample_loss(self, outputs: torch.Tensor, y: torch.Tensor, task_ids: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of each sample, over its task's classes in the 'task' setting."""
        return F.cross_entropy(self.masked_logits(outputs, task_ids), y, reduction="none")

    @torch.no_grad()
    @synchronized
    def predict(self, x: torch.Tensor, task_id: int | None = None) -> torch.Tensor:
        """Predicted classes; ``task_id`` is required in the 'task' setting and ignored otherwise.

        Raises ValueError for inputs that are NaN or infinite (their logits would still name a
        class) or that the model cannot take (naming their shape and dtype).
        """
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"x: expected a tensor, got {type(x).__name__}")
        if x.dim() == 0:
            raise ValueError("x: a 0-d tensor; give one row per sample (one sample as a batch of one)")
        if x.is_floating_point() and not bool(torch.isfinite(x).all()):
            raise ValueError("x: holds NaN or infinite values; a prediction from them would pass for a class")
        if task_id is not None:
            task_id = check_task_id(task_id)
        progressive = isinstance(self.model, ProgressiveNetwork)
        if progressive:
            self._num_outputs(x, "x")  # the shape alone: its forward pass needs the task's column
        else:
            outputs = self._checked_outputs(x, "x")  # one forward pass checks x and predicts
        if self.config.setting == "task":
            if task_id is None:
                raise ValueError("task_id: required in the 'task' setting, got None")
            if task_id not in self.task_classes:
                raise UnknownTaskError(f"task_id: {task_id} was never trained; trained: {self.trained_tasks}")
        t = torch.full((x.shape[0],), task_id or 0, dtype=torch.long)
        if progressive:
            outputs = self._checked_outputs(x, "x", t)
        return self.masked_logits(outputs, t).argmax(dim=1)

    # ------------------------------------------------------------------------------ validation
    def _check_task(self, x: torch.Tensor, y: torch.Tensor, field: str) -> torch.Tensor:
        """``y`` as int64 labels, after checking that the model takes ``x`` and has an output for each
        label (int32, int16 and uint8 labels, as numpy and image datasets give them, failed in the
        loss and in the replay memory's gather)."""
        if y.dim() != 1 or y.is_floating_point() or y.dtype == torch.bool or y.is_complex():
            raise TypeError(f"{field}: y must be a 1-d tensor of integer class labels, got {y.dtype} {tuple(y.shape)}")
        if int(y.min()) < 0:
            raise ValueError(f"{field}: class labels must be >= 0, got {int(y.min())}")
        n_out = self._num_outputs(x, field)
        if int(y.max()) >= n_out:
            raise ValueError(f"{field}: label {int(y.max())} but the model has only {n_out} outputs")
        return y.long()

    def _num_outputs(self, x: torch.Tensor, field: str) -> int:
        """The model's number of outputs, after checking that it takes ``x``: data it cannot take is
        refused here, naming the data, before a training call changes anything (torch's own error
        would come from the first training step, after the task was recorded)."""
        model = self.model
        if isinstance(model, ProgressiveNetwork):
            # the task's column may not exist yet: check what every column takes
            dtype = model.dtype
            if x.dim() != 2 or x.shape[1] != model.sizes[0] or x.dtype != dtype:
                raise ValueError(
                    f"{field}: x has shape {tuple(x.shape)} and dtype {x.dtype}; the progressive network "
                    f"takes (n, {model.sizes[0]}) {dtype}"
                )
            return model.sizes[-1]
        return int(self._checked_outputs(x, field, rows=1).shape[1])

    @torch.no_grad()
    def _checked_outputs(self, x: torch.Tensor, field: str, task_ids: torch.Tensor | None = None, rows: int | None = None) -> torch.Tensor:
        """The model's logits in eval mode for the first ``rows`` of ``x`` (all by default); an ``x``
        the model cannot take raises ValueError naming ``field``, its shape and dtype."""
        part = x if rows is None else x[:rows]
        t = torch.zeros(part.shape[0], dtype=torch.long) if task_ids is None else task_ids
        try:
            with eval_mode(self.model):
                out = self.forward(part, t)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(f"{field}: the model cannot take x of shape {tuple(x.shape)} and dtype {x.dtype} ({exc})") from exc
        if not isinstance(out, torch.Tensor) or out.dim() != 2:
            # a model that returns a tuple or a dict (as many wrappers do) failed with "'tuple' object has no attribute 'dim'"
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else f"a {type(out).__name__}"
            raise ValueError(f"model: expected logits of shape (n, classes), got {got}")
        self.num_outputs = int(out.shape[1])
        return out

    # ------------------------------------------------------------------------------ training
    def stage_lr(self) -> float:
        """Learning rate of the next training stage: ``lr * lr_decay**stages_trained_so_far``."""
        return self.config.lr * self.config.lr_decay ** len(self.stage_tasks)

    def _optimizer(self, lr: float) -> torch.optim.Optimizer:
        params = [p for p in self.model.parameters() if p.requires_grad]
        if self.config.optimizer == "adam":
            return torch.optim.Adam(params, lr=lr)
        return torch.optim.SGD(params, lr=lr, momentum=self.config.momentum)

    def _step(
        self, optimizer: torch.optim.Optimizer, lr: float, batch: Batch, strategy: Strategy, where: str
    ) -> float:
        outputs = self.forward(batch.x, batch.task_ids)
        losses = self.per_sample_loss(outputs, batch.y, batch.task_ids)
        loss = (batch.weight * losses).sum() / batch.n_current
        penalty = strategy.penalty(self, batch, outputs)
        if penalty is not None:
            loss = loss + penalty
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"loss: became {float(loss.detach())} ({where}, strategy {strategy.name}); lower lr or the penalty strength"
            )
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if not gradients_finite(self.model.parameters()):
            raise FloatingPointError(
                f"gradients: a gradient is NaN or infinite ({where}, strategy {strategy.name}, loss "
                f"{float(loss.detach())}); the model computes a function whose gradient is not finite there"
            )
        if self.config.grad_clip is not None:
            nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], self.config.grad_clip)
        optimizer.step()
        strategy.after_step(self, lr)
        strategy.after_batch(self, batch, losses.detach())
        return float(loss.detach())

    def _train_loop(
        self, x: torch.Tensor, y: torch.Tensor, t: torch.Tensor, num_epochs: int, strategy: Strategy, where: str
    ) -> list[float]:
        lr = self.stage_lr()
        optimizer = self._optimizer(lr)
        epoch_losses = []
        bs = self.config.batch_size
        # a last batch of one sample joins the one before it: BatchNorm cannot train on a single
        # sample, and a task of 33 samples with batch_size 32 failed at its last step
        starts = list(range(0, x.shape[0], bs))
        if bs > 1 and len(starts) > 1 and x.shape[0] - starts[-1] == 1:
            starts.pop()
        ends = starts[1:] + [x.shape[0]]
        with train_mode(self.model):  # a module the user froze in eval mode stays so
            for epoch in range(num_epochs):
                order = torch.randperm(x.shape[0], generator=self._generator)
                total, steps = 0.0, 0
                for start, end in zip(starts, ends):
                    idx = order[start:end]
                    batch = strategy.augment_batch(self, Batch.current(x[idx], y[idx], t[idx], self.model))
                    total += self._step(optimizer, lr, batch, strategy, f"{where}, epoch {epoch}")
                    steps += 1
                epoch_losses.append(total / steps)
        return epoch_losses

    @contextmanager
    def _undone_on_failure(self, *others: object) -> Iterator[None]:
        """Put the model, the strategy, the learner's records and ``others`` back as they were if the
        block raises.

        A task that fails midway (its loss stops being finite, a strategy raises) must not leave a
        half-trained model, a progressive column, replay priorities or task classes behind: the
        caller retries it with other settings; a refused :meth:`load` leaves nothing of the file
        behind. Model and strategies are restored in place (see :func:`restored_on_failure`), so the
        references the caller holds stay valid.
        """
        records = copy.deepcopy({name: getattr(self, name) for name in _RECORDS})
        try:
            # a composition holds no state of its own: its parts are restored
            with restored_on_failure(self, self.model, *_flatten(self.strategy), *others):
                yield
        except BaseException:
            for name, value in records.items():
                setattr(self, name, value)
            raise

    # ------------------------------------------------------------------------------ persistence
    @synchronized
    def save(self, path: str) -> None:
        """Write the whole learner to one safetensors file (see the class docstring for what it holds)."""
        parts = _flatten(self.strategy)
        columns = None
        if isinstance(self.model, ProgressiveNetwork):
            columns = sorted(self.model.task_to_column, key=self.model.task_to_column.__getitem__)
        state = {
            "config": self.config.model_dump(),
            "strategy": self.strategy.name,
            "columns": columns,
            "model": self.model.state_dict(),
            "initial_model": self._initial_model.state_dict(),
            "strategies": [s.state_dict() for s in parts],
            "generator": self._generator.get_state(),
            "torch_rng": rng_state(),
            "num_outputs": self.num_outputs,
            "task_classes": self.task_classes,
            "trained_tasks": self.trained_tasks,
            "stage_tasks": self.stage_tasks,
            "accuracy": [[stage, tid, acc] for (stage, tid), acc in self._accuracy.items()],
            "baseline": self._baseline,
            "history": self.history,
            "joint_stages": self._joint_stages,
        }
        save_state(path, type(self).__name__, state)

    @synchronized
    def load(self, path: str) -> None:
        """Restore a learner written by :meth:`save` into this one, built with the same model
        architecture, strategy and settings. A file that is damaged or does not fit raises
        ValueError naming the file and the field, and leaves the learner unchanged. The strategies'
        tensors go where the model is: EWC's weights beside their parameters, the replay memory's
        samples on the model's device."""
        state = load_state(path, type(self).__name__)
        where = repr(str(path))
        missing = sorted(set(_SAVED_FIELDS) - set(state))
        if missing:
            raise ValueError(f"{where}: the saved learner lacks {missing}; the file was not loaded")
        saved, own = state["config"], self.config.model_dump()
        differ = [f"config.{k}: {saved.get(k)!r} in the file, {v!r} in this learner" for k, v in own.items() if saved.get(k) != v]
        if state["strategy"] not in (self.strategy.name, _unnamed_policies(self.strategy)):
            differ.insert(0, f"strategy: {state['strategy']!r} in the file, {self.strategy.name!r} in this learner")
        if differ:
            raise ValueError(f"{where}: {'; '.join(differ)}; build the learner as the saved one was")
        parts = _flatten(self.strategy)
        steps = [
            ("model", lambda: self._load_model(state["columns"], state["model"])),
            ("initial_model", lambda: self._initial_model.load_state_dict(state["initial_model"])),
            ("strategies", lambda: self._load_strategies(parts, state["strategies"])),
            ("generator", lambda: set_generator_state(self._generator, state["generator"])),
            ("records", lambda: self._load_records(state)),
            # last, and checked before it changes anything: the process's stream changes only with a
            # load that succeeds (files saved before it was kept have none, and leave it as it is)
            ("torch_rng", lambda: set_rng_state(state.get("torch_rng", {}), where)),
        ]
        # only a load writes the untrained model: training leaves it alone, so it is copied only here
        with self._undone_on_failure(self._initial_model):
            for field, step in steps:
                try:
                    step()
                except (KeyError, ValueError, TypeError, RuntimeError, IndexError, AttributeError) as exc:
                    raise ValueError(f"{where}: {field} does not fit this learner: {exc}") from exc
        log.info("continual_loaded", path=str(path), stages=len(self.stage_tasks), strategy=self.strategy.name)

    def _load_model(self, columns: list[int] | None, weights: dict[str, torch.Tensor]) -> None:
        if columns is not None:
            if not isinstance(self.model, ProgressiveNetwork):
                raise TypeError(f"the file holds a progressive network, this learner a {type(self.model).__name__}")
            known = sorted(self.model.task_to_column, key=self.model.task_to_column.__getitem__)
            if known != columns[: len(known)]:
                raise ValueError(f"columns for tasks {columns} in the file, {known} in this learner's network")
            for task_id in columns[len(known) :]:
                self.model.add_column(int(task_id))
        self.model.load_state_dict(weights)

    def _load_strategies(self, parts: list[Strategy], states: list[dict[str, Any]]) -> None:
        if len(states) != len(parts):
            raise ValueError(f"{len(states)} strategy states for {len(parts)} strategies")
        for part, part_state in zip(parts, states):
            part.load_state_dict(part_state, self)

    def _load_records(self, state: dict[str, Any]) -> None:
        self.num_outputs = state["num_outputs"]
        self.task_classes = {int(t): [int(c) for c in cs] for t, cs in state["task_classes"].items()}
        self.trained_tasks = [int(t) for t in state["trained_tasks"]]
        self.stage_tasks = [int(t) for t in state["stage_tasks"]]
        self._accuracy = {(int(stage), int(tid)): float(acc) for stage, tid, acc in state["accuracy"]}
        self._baseline = {int(t): float(a) for t, a in state["baseline"].items()}
        self.history = list(state["history"])
        self._joint_stages = {int(s): [int(t) for t in ts] for s, ts in state["joint_stages"].items()}

    @synchronized
    def train_task(self, task_data: Any, task_id: int, num_epochs: int = 1) -> dict[str, Any]:
        """Train on one task with the strategy; returns ``{"task_id", "epochs", "losses", "final_loss",
        "samples", "seconds"}`` (``losses``: mean training loss of each epoch, penalties included).

        Raises EmptyTaskError (a ValueError) for empty data, ValueError for data the model cannot
        take (its shape or dtype; checked on one example before anything changes),
        DuplicateTaskError for a repeated task id when the strategy forbids it, FloatingPointError
        if the loss or a gradient stops being finite. A call that raises, before or during training, leaves the
        learner unchanged (model, strategy and records), so the task can be retried. The model trains
        in training mode, a module frozen in eval mode inside a model in training mode staying so
        (``meta.base.train_unfrozen``), and is left with each module in the mode it was in.
        """
        task_id = check_task_id(task_id)
        num_epochs = check_count("num_epochs", num_epochs, low=1)
        x, y = as_tensors(task_data, "task_data")
        y = self._check_task(x, y, "task_data")
        if task_id in self.trained_tasks and not self.strategy.allows_repeated_tasks:
            raise DuplicateTaskError(
                f"task_id: {task_id} was already trained and strategy {self.strategy.name!r} forbids a repeat"
            )
        t0 = time.perf_counter()
        classes = sorted(set(self.task_classes.get(task_id, [])) | set(torch.unique(y).tolist()))
        t = torch.full((x.shape[0],), task_id, dtype=torch.long)
        with self._undone_on_failure():
            self.strategy.before_task(self, task_id, x, y)
            self.task_classes[task_id] = classes
            losses = self._train_loop(x, y, t, num_epochs, self.strategy, f"task {task_id}")
            self.strategy.after_task(self, task_id, x, y)
        if task_id not in self.trained_tasks:
            self.trained_tasks.append(task_id)
        self.stage_tasks.append(task_id)
        result = {
            "task_id": task_id,
            "epochs": num_epochs,
            "losses": losses,
            "final_loss": losses[-1],
            "samples": int(x.shape[0]),
            "seconds": time.perf_counter() - t0,
        }
        self.history.append(result)
        log.info("continual_task_trained", task_id=task_id, strategy=self.strategy.name, final_loss=losses[-1])
        return result

    @synchronized
    def train_joint(self, tasks: Mapping[int, Any] | Sequence[Any], num_epochs: int = 1) -> dict[str, Any]:
        """The upper reference: train once on the union of all tasks (shuffled together).

        Only with the naive strategy, since it is not continual learning. Counts as one stage in
        which every task was trained.
        """
        if not isinstance(self.strategy, Naive):
            raise ValueError(f"strategy: train_joint is the reference for strategy 'naive', got {self.strategy.name!r}")
        num_epochs = check_count("num_epochs", num_epochs, low=1)
        data = {tid: (x, self._check_task(x, y, f"tasks[{tid}]")) for tid, (x, y) in as_task_mapping(tasks, "tasks").items()}
        t0 = time.perf_counter()
        x = torch.cat([d[0] for d in data.values()])
        y = torch.cat([d[1] for d in data.values()])
        t = torch.cat([torch.full((d[0].shape[0],), tid, dtype=torch.long) for tid, d in data.items()])
        with self._undone_on_failure():
            for tid, (_, labels) in data.items():
                self.task_classes[tid] = sorted(set(self.task_classes.get(tid, [])) | set(torch.unique(labels).tolist()))
            losses = self._train_loop(x, y, t, num_epochs, self.strategy, "joint")
        stage = len(self.stage_tasks)
        for tid in data:
            if tid not in self.trained_tasks:
                self.trained_tasks.append(tid)
        self.stage_tasks.append(-1)  # one stage for all tasks
        self._joint_stages[stage] = list(data)
        return {"task_ids": list(data), "epochs": num_epochs, "losses": losses, "final_loss": losses[-1],
                "samples": int(x.shape[0]), "seconds": time.perf_counter() - t0}

    # ------------------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def _evaluate(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, task_id: int, classes: list[int]) -> tuple[float, float, torch.Tensor]:
        t = torch.full((x.shape[0],), task_id, dtype=torch.long)
        with eval_mode(model):
            out = self.forward(x, t, model=model)
        if self.config.setting == "task":
            mask = torch.zeros(out.shape[1], dtype=torch.bool, device=out.device)
            mask[classes] = True
            out = out.masked_fill(~mask, float("-inf"))
        pred = out.argmax(dim=1)
        loss = float(F.cross_entropy(out, y))
        return float((pred == y).float().mean()), loss, pred

    def _baseline_accuracy(self, task_id: int, x: torch.Tensor, y: torch.Tensor, classes: list[int]) -> float:
        """The untrained model's accuracy on task ``task_id``: measured on the test data of its last
        evaluation before it was trained, the data of the accuracy forward transfer compares with."""
        if task_id not in self._baseline or task_id not in self.trained_tasks:
            model = self._initial_model
            if isinstance(model, ProgressiveNetwork):
                model = copy.deepcopy(model)
                if task_id not in model.task_to_column:
                    # drawn from a generator of its own: an evaluation leaves torch's global random
                    # stream, which the caller's draws and a model's dropout take, as it was
                    model.add_column(task_id, torch.Generator().manual_seed(self.config.seed))
            self._baseline[task_id] = self._evaluate(model, x, y, task_id, classes)[0]
        return self._baseline[task_id]

    @synchronized
    def evaluate_all_tasks(self, test_data: Any, include_untrained: bool = False) -> dict[str, Any]:
        """Accuracy on each task's test data, collapse checks, and the continual metrics so far.

        Each call after a training stage fills that stage's row of the accuracy matrix. A task that
        was never trained raises UnknownTaskError, unless ``include_untrained`` (used to measure
        forward transfer): such a task is then scored with the current model, masked in the 'task'
        setting to the classes present in its test labels (NaN for a progressive network, which has
        no column for it yet). In the 'task' setting, test labels that a trained task never had
        raise ValueError: its logits are masked to its own classes, so they could never be predicted.

        Returns ``{"accuracy": {task: acc}, "loss": {task: loss}, "average_accuracy" (over trained
        tasks), "collapsed_tasks": [task ids], "collapsed": bool, "per_task": {task: details},
        "metrics": {...}}``. ``collapsed_tasks`` lists trained tasks on whose test data nearly all
        predictions are one class (see :func:`detect_collapse`); ``collapsed`` says the same of the
        model on the pooled test data of all trained tasks. Both are logged as warnings.
        """
        include_untrained = check_flag("include_untrained", include_untrained)
        data = as_task_mapping(test_data, "test_data")
        unknown = [tid for tid in data if tid not in self.task_classes]
        if unknown and not include_untrained:
            raise UnknownTaskError(
                f"test_data: task(s) {unknown} were never trained; trained: {self.trained_tasks} "
                "(pass include_untrained=True to score them anyway)"
            )
        data = {tid: (x, self._check_task(x, y, f"test_data[{tid}]")) for tid, (x, y) in data.items()}
        for tid, (x, y) in data.items():
            if self.config.setting == "task" and tid in self.task_classes:
                unseen = sorted(set(torch.unique(y).tolist()) - set(self.task_classes[tid]))
                if unseen:
                    # masked out of the task's logits: they could never be predicted, and the loss is infinite
                    raise ValueError(
                        f"test_data[{tid}]: labels {unseen[:5]} never occurred in task {tid}'s training data "
                        f"(its classes: {self.task_classes[tid]}); the 'task' setting predicts only those"
                    )
        stage = len(self.stage_tasks) - 1
        per_task: dict[int, dict[str, Any]] = {}
        collapsed: list[int] = []
        pooled_pred: list[torch.Tensor] = []
        pooled_y: list[torch.Tensor] = []
        for tid, (x, y) in data.items():
            classes = self.task_classes.get(tid) or sorted(torch.unique(y).tolist())
            baseline = self._baseline_accuracy(tid, x, y, classes)
            if isinstance(self.model, ProgressiveNetwork) and tid not in self.model.task_to_column:
                per_task[tid] = {"accuracy": float("nan"), "loss": float("nan"), "n": int(x.shape[0]),
                                 "trained": False, "collapsed": False, "baseline_accuracy": baseline}
                continue
            acc, loss, pred = self._evaluate(self.model, x, y, tid, classes)
            if tid in self.trained_tasks:
                pooled_pred.append(pred)
                pooled_y.append(y)
            report = detect_collapse(pred, y, self.config.collapse_threshold)
            per_task[tid] = {
                "accuracy": acc,
                "loss": loss,
                "n": int(x.shape[0]),
                "trained": tid in self.task_classes and tid in self.trained_tasks,
                "collapsed": report.collapsed,
                "majority_class": report.majority_class,
                "majority_fraction": report.majority_fraction,
                "baseline_accuracy": baseline,
            }
            if report.collapsed and tid in self.trained_tasks:
                collapsed.append(tid)
                log.warning(
                    "continual_collapse",
                    task_id=tid,
                    strategy=self.strategy.name,
                    majority_class=report.majority_class,
                    majority_fraction=report.majority_fraction,
                )
            if stage >= 0:
                self._accuracy[(stage, tid)] = acc
        trained_accs = [p["accuracy"] for tid, p in per_task.items() if tid in self.trained_tasks]
        model_collapse = self._pooled_collapse(pooled_pred, pooled_y)
        return {
            "accuracy": {tid: p["accuracy"] for tid, p in per_task.items()},
            "loss": {tid: p["loss"] for tid, p in per_task.items()},
            "average_accuracy": float(np.nanmean(trained_accs)) if trained_accs else float("nan"),
            "collapsed_tasks": collapsed,
            "collapsed": model_collapse,
            "per_task": per_task,
            "metrics": self.accuracy_matrix().to_dict() if self.stage_tasks else {},
        }

    def _pooled_collapse(self, preds: list[torch.Tensor], labels: list[torch.Tensor]) -> bool:
        """Whether the model predicts one class for nearly all test inputs of all trained tasks."""
        if not preds:
            return False
        report = detect_collapse(torch.cat(preds), torch.cat(labels), self.config.collapse_threshold)
        if report.collapsed:
            log.warning(
                "continual_model_collapse",
                strategy=self.strategy.name,
                majority_class=report.majority_class,
                majority_fraction=report.majority_fraction,
            )
        return report.collapsed

    def accuracy_matrix(self) -> AccuracyMatrix:
        """The accuracy matrix so far: one row per training stage, one column per trained task."""
        tasks = list(self.trained_tasks)
        joint = self._joint_stages
        stages = len(self.stage_tasks)
        values = np.full((stages, len(tasks)), np.nan)
        for (stage, tid), acc in self._accuracy.items():
            if tid in tasks:
                values[stage, tasks.index(tid)] = acc
        trained_at: list[list[int]] = []
        for tid in tasks:
            at = [s for s, st in enumerate(self.stage_tasks) if st == tid or tid in joint.get(s, [])]
            trained_at.append(at)
        baseline = np.array([self._baseline.get(tid, math.nan) for tid in tasks], dtype=float)
        return AccuracyMatrix(values, tasks, trained_at, baseline)
