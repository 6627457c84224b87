"""``Expert``: a model that learns new tasks from a few labelled examples and may call tools.

An expert owns one ``nn.Module`` (``expert.model``) and a set of *tasks*. A task is learned from a
few labelled examples (``adapt``): what the expert derives from them (prototypes, adapted adapter
weights) is kept per task, beside the model, so learning a new task never changes how an older one
is served (nothing is forgotten). ``process_task`` serves one input with a stored task, or with a
support set given in the call, and returns an ``ExpertResult``: the decision, its confidence, which
task and which kind of adaptation served it, and, when the expert called tools through the router
(``add_tool_optimization``), the plan and every attempt.

Meta-learning is attached with ``add_meta_learning``: a learner of the MAML family (``meta.MAML``,
``MAMLFirstOrder``, ``Reptile``, ``MetaSGD``, ``MultiTaskMAML``) built on ``expert.model``, or a
``meta.FewShotLearner`` whose network is (or encodes with) ``expert.model``. A learner built on any
other model is refused with ``LearnerModelError``: it would train weights the expert never uses.

Subclasses (``LanguageExpert``, ``VisionExpert``) say what an input is (``_check_input``), how a
task is learned from its support set (``_fit_task``) and how it scores inputs (``_scores``).

The expert is saved to one safetensors file (``save``/``load``): the model's weights, each task's
tensors and support set, and a JSON description; no pickle. The attached meta-learner and router
are not in it: each is an object of its own, built with its own options, that keeps its own state
(``learner.save``/``learner.load``: a ``MetaSGD``'s learned step sizes, the meta-optimiser's
moments; the router's store). The file names the meta-learner's class, and ``load`` warns
(``expert_loaded_without_meta_learner``) when the expert it loads into has none of that class
attached: its saved tasks are served as they were learned, but the tasks learned from then on would
not be learned as the saved expert learned them.
"""

from __future__ import annotations

import abc
import inspect
import itertools
import os
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from meta._checks import check_seed
from meta._sync import share_lock
from meta.base import modes_kept
from toolrouter._checks import check_count
from toolrouter.errors import CorruptStateError
from toolrouter.logging import EventLog
from toolrouter.serialization import checked_path, read_blob, short_repr, write_atomically, write_blob

__all__ = [
    "Expert",
    "ExpertInputError",
    "ExpertOutputError",
    "ExpertResult",
    "Label",
    "LearnerModelError",
    "ModalityError",
    "TaskState",
    "UnknownTaskError",
    "normalize_support",
    "prototype_scores",
]

log = EventLog(__name__)

#: The expert each attached meta-learner takes turns with (``add_meta_learning``), so that one
#: learner is attached to one expert at a time: its calls hold that expert's lock alone.
_learner_experts: weakref.WeakKeyDictionary[Any, weakref.ref[Any]] = weakref.WeakKeyDictionary()
_learner_experts_guard = threading.Lock()

#: A class label: a string or an integer (kept as such through save and load).
Label = Union[str, int]

_FORMAT = "integrations.Expert/1"


class ExpertInputError(ValueError):
    """An input, a support set or its labels that the expert cannot take; the message names the
    argument and the value. Nothing changes when it is raised."""


class ModalityError(ExpertInputError, TypeError):
    """An input of the wrong kind for the expert (an image to a language expert, text to a vision
    expert); also a ``TypeError``."""


class ExpertOutputError(RuntimeError):
    """The expert's model produced NaN or infinite numbers (weights that diverged in training, or
    input values so large that they overflow it); nothing is returned or learned from them."""


class LearnerModelError(ValueError):
    """A meta-learner built on another model than the expert's, or of a kind the expert cannot use."""


class UnknownTaskError(ExpertInputError, KeyError):
    """A task name the expert has not learned."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass
class TaskState:
    """What an expert keeps of one task.

    Attributes:
        labels: the task's classes, in the order of the columns of its scores.
        adaptation: how it was learned (``"prototypes"``, ``"MAML"``, ...), reported in results.
        support: the labelled examples it was learned from, per label (kept so that the task can
            be learned again after meta-training changes the model, and saved with the expert).
        tensors: what the subclass derived from the support set (prototypes, adapted weights).
        info: JSON-able extras of the subclass (label descriptions, options).
    """

    labels: list[Label]
    adaptation: str
    support: dict[Label, list[Any]]
    tensors: dict[str, torch.Tensor] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ExpertResult:
    """What ``Expert.process_task`` did with one input.

    Attributes:
        output: the answer: the predicted label, or, when tools ran, what the plan's last
            successful step returned (``label`` keeps the decision that chose the tools).
        label: the predicted label.
        confidence: the probability of ``label`` among the task's labels (softmax of the scores).
        scores: every label's probability.
        task: the stored task that served the input (None for a support set given in the call).
        adaptation: how that task was learned (``"prototypes"``, ``"MAML"``, ...).
        plan: the router's ``ExecutionPlan`` when tools were called, else None.
        attempts: every tool attempt (``ExecutionResult``), failures and fallbacks included.
        tool_outputs: the output of each step that succeeded, by step.
        latency_s: wall time of the whole call, tools included.
        notes: things the caller should know (the encoder that was available, a failed plan).
    """

    output: Any
    label: Label
    confidence: float
    scores: dict[Label, float]
    task: str | None
    adaptation: str
    plan: Any = None
    attempts: tuple[Any, ...] = ()
    tool_outputs: dict[str, Any] = field(default_factory=dict)
    latency_s: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def used_tools(self) -> bool:
        """Whether the router planned and ran tools for this input."""
        return self.plan is not None


def _check_label(label: Any, field: str) -> Label:
    if isinstance(label, bool) or not isinstance(label, (str, int, np.integer)):
        raise ExpertInputError(f"{field}: a label must be a str or an int, got {type(label).__name__} ({short_repr(label)})")
    if isinstance(label, str) and not label.strip():
        raise ExpertInputError(f"{field}: a label must not be blank, got {label!r}")
    return int(label) if isinstance(label, np.integer) else label


def _as_inputs(values: Any) -> Any:
    """A tensor or numpy array of inputs as the list of its inputs along the first dimension (a
    batch of images, an array of texts); anything else as it is."""
    if isinstance(values, (torch.Tensor, np.ndarray)) and values.ndim > 0:
        return list(values.unbind(0)) if isinstance(values, torch.Tensor) else list(values)
    return values


def normalize_support(examples: Any, labels: Any = None, field: str = "examples") -> dict[Label, list[Any]]:
    """A support set as ``{label: [inputs]}``, from either form a caller may use.

    - a mapping ``{label: [inputs]}`` (``labels`` must then be None);
    - a sequence of inputs with ``labels``, a sequence of the same length (a tensor or numpy array
      of inputs is a sequence along its first dimension, in the mapping's values too).

    Raises ``ExpertInputError`` naming ``field`` for an empty set, a label without examples, labels
    whose number differs from the examples', or a label that is not a str or int.

    Example:
        >>> normalize_support(["hi", "bye", "hello"], ["greet", "leave", "greet"])
        {'greet': ['hi', 'hello'], 'leave': ['bye']}
    """
    support: dict[Label, list[Any]] = {}
    if isinstance(examples, Mapping):
        if labels is not None:
            raise ExpertInputError(f"labels: give labels with a sequence of {field}, not with a mapping label -> examples")
        for label, items in examples.items():
            label = _check_label(label, f"{field} key")
            items = _as_inputs(items)  # a 0-d tensor or array stays one: a single value, not examples
            if isinstance(items, (str, bytes, torch.Tensor, np.ndarray)) or not isinstance(items, Iterable):
                raise ExpertInputError(f"{field}[{label!r}]: expected a list of examples, got {short_repr(items)}")
            items = list(items)
            if not items:
                raise ExpertInputError(f"{field}[{label!r}]: a label needs at least one example, got none")
            support[label] = items
    else:
        if examples is None or isinstance(examples, (str, bytes)):
            raise ExpertInputError(f"{field}: expected a list of examples with labels, or a mapping label -> examples, got {short_repr(examples)}")
        items = _as_inputs(examples)
        if not isinstance(items, Sequence):
            raise ExpertInputError(f"{field}: expected a sequence of examples, got {type(examples).__name__}")
        if labels is None:
            raise ExpertInputError(f"labels: {field} is a sequence, so labels are needed (one per example), got None")
        label_list = labels.tolist() if isinstance(labels, (torch.Tensor, np.ndarray)) else labels
        if isinstance(label_list, (str, bytes)) or not isinstance(label_list, Sequence):
            raise ExpertInputError(f"labels: expected a sequence of labels, got {short_repr(labels)}")
        if len(label_list) != len(items):
            raise ExpertInputError(
                f"labels: {len(label_list)} labels for {len(items)} {field}; give exactly one label per example"
            )
        for i, (x, label) in enumerate(zip(items, label_list)):
            support.setdefault(_check_label(label, f"labels[{i}]"), []).append(x)
    if not support:
        raise ExpertInputError(f"{field}: the support set is empty; give at least one labelled example")
    return support


def prototype_scores(z: torch.Tensor, prototypes: torch.Tensor, distance: str) -> torch.Tensor:
    """Logits ``[len(z), len(prototypes)]`` of embeddings against a task's class prototypes, as
    ``meta.PrototypicalNetwork`` scores them with ``distance``: minus the squared euclidean
    distance, or 10 times the cosine similarity."""
    if distance == "cosine":
        return 10.0 * F.normalize(z, dim=-1) @ F.normalize(prototypes, dim=-1).T
    return -torch.cdist(z, prototypes).pow(2)


def checked_seed(seed: Any) -> int:
    """An expert's seed: ``TypeError`` unless an integer, ``ValueError`` naming it outside what
    torch's generators take (torch's own "Overflow when unpacking long long" names neither)."""
    check_count("seed", seed, low=None, error=TypeError)
    return check_seed("seed", seed)


def _check_task_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise ExpertInputError(f"task: expected a non-empty task name, got {short_repr(name)}")
    return name


def learner_model(learner: Any) -> nn.Module:
    """The model a meta-learner adapts: ``learner.model`` for the MAML family, the network (or its
    encoder) of a ``FewShotLearner``. Raises ``LearnerModelError`` for another kind of learner."""
    from meta.few_shot import FewShotLearner
    from meta.maml import MAML

    if isinstance(learner, MAML):
        return learner.model
    if isinstance(learner, FewShotLearner):
        return learner.network
    raise LearnerModelError(
        f"learner: expected a meta.MAML-family learner (MAML, MAMLFirstOrder, Reptile, MetaSGD, "
        f"MultiTaskMAML) or a meta.FewShotLearner, got {type(learner).__name__}"
    )


class Expert(abc.ABC):
    """A model that learns tasks from a few labelled examples and serves inputs with them.

    Arguments:
        model: the expert's ``nn.Module`` (``expert.model``); meta-learners are built on it.
        seed: seeds everything stochastic the expert does itself.

    Subclasses implement ``_check_input`` (one input, checked for the expert's modality),
    ``_fit_task`` (a ``TaskState`` from a support set) and ``_scores`` (logits of inputs for a task).
    """

    #: What the expert takes: ``"text"`` or ``"image"`` (``ExpertSystem`` teaches and serves each
    #: input with the experts of its modality; ``input_kind`` says which of them can take it).
    modality: ClassVar[str] = "any"

    #: Saved options (``_config``) that must equal this expert's for ``load``: what its inputs are,
    #: which the weights' shapes alone do not show (an image size, the text encoder).
    _load_must_match: ClassVar[tuple[str, ...]] = ()

    def __init__(self, model: nn.Module, *, seed: int = 0) -> None:
        if not isinstance(model, nn.Module):
            raise TypeError(f"model: expected a torch.nn.Module, got {type(model).__name__}")
        self.seed = checked_seed(seed)
        self._model = model
        self.meta_learner: Any = None
        self.tool_learner: Any = None
        self._tasks: dict[str, TaskState] = {}
        # held to serve an input, learn a task and meta-train: from several threads, an input is
        # scored by one model with prototypes made by it, never by a half-trained one
        self._lock = threading.RLock()
        # saves reach the disk in the order their snapshots were taken (the last file holds the newest
        # state): each snapshot is numbered, and a file keeps the newest one written to it. The save
        # lock is held around a write only: a save waits for another's write without holding the
        # expert's lock, and one made under the expert's lock (in a training callback) waits for no one
        # who waits for it
        self._save_lock = threading.Lock()
        self._snapshots = itertools.count()
        self._written: dict[str, int] = {}  # absolute path -> number of the snapshot written there last

    # --- parts ---------------------------------------------------------------------------------
    @property
    def model(self) -> nn.Module:
        """The expert's network; build meta-learners on it (``MAML(expert.model)``)."""
        return self._model

    @property
    def input_kind(self) -> str:
        """The inputs the expert takes, as a name: experts of one kind take the same inputs, and
        ``ExpertSystem`` routes a request only among the experts of the kind that takes it (never
        to one that would refuse it). The modality by default; an expert that takes only some
        inputs of its modality names them (``VisionExpert``: its image shape, ``"image[1x28x28]"``)."""
        return self.modality

    @property
    def tasks(self) -> list[str]:
        """Names of the learned tasks, in the order they were learned."""
        return list(self._tasks)

    def task(self, name: str) -> TaskState:
        """The stored state of task ``name`` (``UnknownTaskError`` if there is none)."""
        if not isinstance(name, str) or name not in self._tasks:
            raise UnknownTaskError(f"task: no task named {short_repr(name)}; learned tasks: {self.tasks}")
        return self._tasks[name]

    def add_meta_learning(self, learner: Any) -> "Expert":
        """Adapt tasks with ``learner``: a MAML-family learner built on ``self.model``, or a
        ``FewShotLearner`` whose network is ``self.model`` or has it as its encoder.

        Attaching changes no weight, so the tasks learned before are served as they were learned
        (``relearn_tasks`` learns them again as a new task would be); the tasks learned from then
        on, and a ``LanguageExpert``'s router capabilities when next served, are learned with it.

        From then on the learner's calls (``train_episode``, ``meta_train_step``, ``predict``...)
        hold the expert's lock: made from another thread, they wait for an input being served, and
        an input waits for them, as for ``meta_train``. (The stored tasks are learned again after
        ``meta_train`` only: after training the learner directly, call ``relearn_tasks``.)

        A learner is attached to one expert at a time: one attached to another expert (until that
        one attaches another learner) is refused, as its calls, holding this expert's lock, would
        no longer take turns with that one.

        Raises ``LearnerModelError`` naming the problem for a learner built on another model or of
        another kind, or attached to another expert; the expert and learner are unchanged then.
        Returns the expert.
        """
        built_on = learner_model(learner)
        if built_on is not self.model and getattr(built_on, "encoder", None) is not self.model:
            raise LearnerModelError(
                f"learner: this {type(learner).__name__} was built on a {type(built_on).__name__} that is not "
                f"this {type(self).__name__}'s model (a {type(self.model).__name__}); build it on "
                f"expert.model, e.g. {type(learner).__name__}(expert.model)"
            )
        with self._lock:  # an input served meanwhile is scored as before the learner, or after
            with _learner_experts_guard:  # two experts attaching one learner at once: one is refused
                other = _learner_experts.get(learner)
                other = None if other is None else other()
                if other is not None and other is not self:
                    raise LearnerModelError(
                        f"learner: this {type(learner).__name__} is attached to another {type(other).__name__} "
                        f"already; attached to this {type(self).__name__} too, its calls would no longer take "
                        "turns with that one's: attach one learner to one expert"
                    )
                self._attach_meta_learning(learner)
                if self.meta_learner is not None:
                    _learner_experts.pop(self.meta_learner, None)  # no longer in this expert's turns
                _learner_experts[learner] = weakref.ref(self)
            # the learner trains the model the expert serves with: its calls take the expert's turns
            share_lock(learner, self._lock)
            self.meta_learner = learner
        log.info("expert_meta_learning", expert=type(self).__name__, learner=type(learner).__name__)
        return self

    def add_tool_optimization(self, router: Any) -> "Expert":
        """Call tools through ``router`` (a ``toolrouter.ToolMetaLearner``) when serving inputs.

        Returns the expert. Raises ``TypeError`` for anything but a ``ToolMetaLearner``, and
        ``ExpertInputError`` for an expert that calls no tools (``VisionExpert``): attached, the
        router would make every ``process_task`` fail. Nothing changes then.
        """
        from toolrouter.learner import ToolMetaLearner

        if not isinstance(router, ToolMetaLearner):
            raise TypeError(f"router: expected a toolrouter.ToolMetaLearner, got {type(router).__name__}")
        if type(self)._run_tools is Expert._run_tools:  # the subclass has no tool run of its own
            raise ExpertInputError(
                f"router: a {type(self).__name__} does not call tools, so process_task would fail with the router "
                f"attached; to route requests among experts, register them with an ExpertSystem"
            )
        self._attach_tools(router)
        self.tool_learner = router
        log.info("expert_tool_optimization", expert=type(self).__name__, tools=len(router.tools))
        return self

    # --- learning tasks ------------------------------------------------------------------------
    def adapt(self, examples: Any, labels: Any = None, *, task: str = "default", replace: bool = False, **options: Any) -> TaskState:
        """Learn task ``task`` from a few labelled examples; the other tasks are not touched.

        ``examples`` is a mapping ``{label: [inputs]}`` or a sequence of inputs with ``labels`` (one
        per input). ``options`` go to the subclass (``descriptions=`` for a language expert).
        A task name already learned raises unless ``replace=True``. Bad input raises
        ``ExpertInputError`` (or ``ModalityError``) naming it, and nothing changes.

        Returns the task's new ``TaskState``.
        """
        name = _check_task_name(task)
        if not isinstance(replace, bool):  # replace="no" would have replaced the task
            raise ExpertInputError(f"replace: expected True or False, got {short_repr(replace)}")
        self._check_option_names(self._fit_task, 1, options, "tasks")
        support = self._checked_support(examples, labels, "examples")
        # the task keeps its examples (to learn it again, to save it): its own copies, not the caller's
        # tensors, which a caller refilling one buffer per example would change under it
        support = {label: [x.detach().clone() if isinstance(x, torch.Tensor) else x for x in items]
                   for label, items in support.items()}
        with self._lock:  # checked under it: two threads learning one name would both pass a check before
            if name in self._tasks and not replace:
                raise ExpertInputError(f"task: {name!r} is already learned; pass replace=True to learn it again")
            state = self._finite(name, self._fit_task(support, **options), "examples", "which is not learned")
            self._tasks[name] = state
        log.info("expert_task_learned", expert=type(self).__name__, task=name, labels=len(state.labels),
                 examples=sum(len(v) for v in support.values()), adaptation=state.adaptation)
        return state

    def remove_task(self, name: str) -> None:
        """Forget task ``name``. Called while the expert meta-trains, it waits for the end: the
        tasks are learned again then, and a task removed meanwhile would come back."""
        with self._lock:
            self.task(name)
            del self._tasks[name]

    def _put_task(self, name: str, state: TaskState | None) -> None:
        """Set task ``name`` back to ``state`` (None: not learned), to undo an ``adapt``."""
        with self._lock:
            if state is None:
                self._tasks.pop(name, None)
            else:
                self._tasks[name] = state

    def relearn_tasks(self) -> None:
        """Learn every stored task again from its support set, under the current model (call it
        after meta-training changed the model). A model that turns a task's examples into NaN or
        infinite numbers (weights that diverged) raises ``ExpertOutputError``, and every task is
        kept as it was."""
        with self._lock:
            fresh = {name: self._finite(name, self._fit_task(s.support, **s.info.get("options", {})), "support", "which is kept as it was")
                     for name, s in self._tasks.items()}
            self._tasks.update(fresh)

    @staticmethod
    def _finite(name: str, state: TaskState, field: str, then: str) -> TaskState:
        """``state``, unless the model turned the task's examples into NaN or infinite numbers:
        prototypes of those would make every input of the task fail (``ExpertOutputError``)."""
        bad = [key for key, t in state.tensors.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
        if bad:
            raise ExpertOutputError(f"{field}: the model turned them into NaN or infinite {bad} for task {name!r}, "
                                    f"{then} (its weights diverged, or an example's values overflow it)")
        return state

    @contextmanager
    def _meta_training(self) -> Iterator[None]:
        """Around a meta-training of ``self.model``: when it ends, every stored task is learned
        again under the new weights; when it fails or is stopped midway, the model's weights and
        buffers are put back as they were (the stored tasks were learned under those). Either way
        each module is left in the mode it was in, so a module frozen in eval mode inside a model
        in training mode is frozen in the next training too (``meta.base.train_unfrozen``): a
        model left all in eval mode (``train_protonet`` returns it so) trains whole. Inputs served
        and tasks learned from other threads meanwhile wait for it to end."""
        with self._lock:
            # kept on the CPU: a copy beside the weights would halve what the accelerator has for training
            before = {name: t.detach().to("cpu", copy=True) for name, t in self.model.state_dict().items()}
            try:
                with modes_kept(self.model):  # each module's: a frozen BatchNorm stays so
                    yield
                    self.relearn_tasks()
            except BaseException:
                self.model.load_state_dict(before)
                raise

    def _check_option_names(self, hook: Any, own: int, options: Mapping[str, Any], what: str) -> None:
        """``ExpertInputError`` naming the ``options`` that ``hook`` (a subclass's ``_fit_task`` or
        ``_run_tools``, whose first ``own`` arguments the expert passes) does not take: passed on,
        they failed with a ``TypeError`` naming the hook. A hook taking ``**options`` checks its own."""
        params = list(inspect.signature(hook).parameters.values())
        if any(p.kind is p.VAR_KEYWORD for p in params):
            return
        names = [p.name for p in params[own:] if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        unknown = sorted(set(options) - set(names))
        if unknown:
            raise ExpertInputError(f"options: {unknown} are not options of a {type(self).__name__}'s {what} (they are {names})")

    def _checked_support(self, examples: Any, labels: Any, field: str) -> dict[Label, list[Any]]:
        support = normalize_support(examples, labels, field)
        return {
            label: [self._check_input(x, f"{field}[{label!r}][{i}]") for i, x in enumerate(items)]
            for label, items in support.items()
        }

    # --- serving -------------------------------------------------------------------------------
    def _model_input(self, x: torch.Tensor) -> torch.Tensor:
        """Float input rows (or a task's weights) in the dtype of the model's parameters: a model
        made ``.double()`` or bfloat16 refuses the float32 rows the inputs are turned into."""
        dtype = next((p.dtype for p in self.model.parameters() if p.is_floating_point()), None)
        return x.to(dtype) if dtype is not None and x.is_floating_point() else x

    def _resolve_task(self, task: str | None, support: Any, support_labels: Any, options: dict[str, Any]) -> tuple[str | None, TaskState]:
        if support is not None:
            if task is not None:
                raise ExpertInputError("task: give either task= (a learned task) or support= (a support set), not both")
            return None, self._fit_task(self._checked_support(support, support_labels, "support"), **options)
        if support_labels is not None:
            raise ExpertInputError("support_labels: given without support=")
        if task is not None:
            return task, self.task(task)
        if len(self._tasks) == 1:
            name = next(iter(self._tasks))
            return name, self._tasks[name]
        default = self._default_task()
        if default is not None:
            return None, default
        if not self._tasks:
            raise ExpertInputError(f"task: {type(self).__name__} has learned no task; call adapt(...) first or pass support=")
        raise ExpertInputError(f"task: {len(self._tasks)} tasks are learned ({self.tasks}); name one with task=")

    def predict_proba(self, inputs: Sequence[Any], *, task: str | None = None, support: Any = None, support_labels: Any = None) -> tuple[list[Label], torch.Tensor]:
        """``(labels, probabilities [len(inputs), len(labels)])`` of a batch of inputs (a sequence, or
        a tensor or numpy array along its first dimension) under a task (a learned one, or one
        learned from ``support`` for this call only)."""
        rows = _as_inputs(inputs)
        if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence):
            raise ExpertInputError(f"inputs: expected a sequence of inputs, got {type(inputs).__name__}")
        items = [self._check_input(x, f"inputs[{i}]") for i, x in enumerate(rows)]
        with self._lock:
            name, state = self._resolve_task(task, support, support_labels, {})
            if not items:
                return list(state.labels), torch.zeros(0, len(state.labels))
            return list(state.labels), self._probabilities(name, state, items, "inputs").float()

    def _probabilities(self, name: str | None, state: TaskState, items: list[Any], field: str) -> torch.Tensor:
        """Each input's probabilities over the task's labels; ``ExpertOutputError`` where they are
        not numbers (a label with confidence NaN would be an answer that means nothing)."""
        probs = torch.softmax(self._scores(state, items).double(), dim=-1)
        rows = torch.isnan(probs).any(-1).nonzero().flatten().tolist()
        if rows:
            where = field if field == "input" else f"{field}{rows[:5]}"
            under = f" under task {name!r}" if name is not None else ""
            raise ExpertOutputError(f"{where}: the model scored it NaN{under} (its weights diverged, "
                                    f"or the input's values overflow it)")
        return probs

    def predict(self, inputs: Sequence[Any], *, task: str | None = None, support: Any = None, support_labels: Any = None) -> list[Label]:
        """The predicted label of each input (see ``predict_proba``)."""
        labels, probs = self.predict_proba(inputs, task=task, support=support, support_labels=support_labels)
        return [labels[i] for i in probs.argmax(-1).tolist()]

    def process_task(
        self,
        input: Any,
        *,
        task: str | None = None,
        support: Any = None,
        support_labels: Any = None,
        use_tools: bool | None = None,
        **options: Any,
    ) -> ExpertResult:
        """Serve one input: classify it with a task and, with a router attached, act on it with tools.

        Arguments:
            input: one input of the expert's modality.
            task: a learned task; default: the only one, or the subclass's default task.
            support: a support set for this call only (``{label: [inputs]}`` or inputs with
                ``support_labels``); the expert learns it, serves the input, and keeps nothing.
            use_tools: call tools through the router (default: when one is attached).
            options: passed on to the subclass's tool run.

        Raises ``ExpertInputError``/``ModalityError`` naming a bad argument, before anything runs.
        """
        t0 = time.perf_counter()
        if use_tools is not None and not isinstance(use_tools, bool):  # "no" would have called the tools
            raise ExpertInputError(f"use_tools: expected True, False or None, got {short_repr(use_tools)}")
        x = self._check_input(input, "input")
        tools = self.tool_learner is not None if use_tools is None else use_tools
        if tools and self.tool_learner is None:
            raise ExpertInputError("use_tools: True, but no router is attached; call add_tool_optimization(router) first")
        if options:
            if not tools:
                raise ExpertInputError(f"options: {sorted(options)} apply to tool runs only, and no tools are used")
            self._check_option_names(self._run_tools, 3, options, "tool runs")
        with self._lock:  # not around the tool run: the router calls tools at its own pace
            name, state = self._resolve_task(task, support, support_labels, {})
            probs = self._probabilities(name, state, [x], "input")[0]
        best = int(probs.argmax())
        label = state.labels[best]
        scores = {lab: float(p) for lab, p in zip(state.labels, probs.tolist())}
        result = self._run_tools(x, label, state, **options) if tools else {}
        notes = tuple(self._notes()) + tuple(result.pop("notes", ()))
        out = ExpertResult(
            output=result.pop("output", label),
            label=label,
            confidence=scores[label],
            scores=scores,
            task=name,
            adaptation=state.adaptation,
            latency_s=time.perf_counter() - t0,
            notes=notes,
            **result,
        )
        log.debug("expert_processed", expert=type(self).__name__, task=name, label=label,
                  confidence=out.confidence, tools=out.used_tools, latency_s=out.latency_s)
        return out

    # --- persistence ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Write the model's weights and every task (tensors, support set, labels) to one
        safetensors file ``path``, with the expert's class and options as JSON metadata. A save from
        another thread while the expert meta-trains waits for it to end: the file's tasks fit its weights.
        The file is written outside the expert's lock (inputs are served meanwhile, and a save
        started meanwhile waits for it without holding that lock), through a temporary file moved
        into place: a reader never sees half of it. The attached meta-learner and router are not
        saved, only the meta-learner's class: save the learner with its own ``save`` (see the module's
        docstring)."""
        target = checked_path(path)
        number, data = self._snapshot()
        where = os.path.abspath(target)
        with self._save_lock:
            if self._written.get(where, -1) > number:
                return target  # a newer snapshot is there already: its save overtook this one
            written = write_atomically(path, data)
            self._written[where] = number
        return written

    def _snapshot(self) -> tuple[int, bytes]:
        """The expert as ``save`` writes it, taken at one instant, and the number of that snapshot."""
        with self._lock:  # the arrays are views of the weights: made bytes before another thread trains them
            arrays: dict[str, np.ndarray] = {f"model.{k}": _to_numpy(v) for k, v in self.model.state_dict().items()}
            tasks = []
            for i, (name, state) in enumerate(self._tasks.items()):
                support_meta = []
                for j, (label, items) in enumerate(state.support.items()):
                    if all(isinstance(x, str) for x in items):
                        support_meta.append({"label": label, "texts": items})
                    else:
                        arrays[f"task.{i}.support.{j}"] = _to_numpy(torch.stack([torch.as_tensor(x) for x in items]))
                        support_meta.append({"label": label, "tensor": f"task.{i}.support.{j}"})
                for key, value in state.tensors.items():
                    arrays[f"task.{i}.tensor.{key}"] = _to_numpy(value)
                tasks.append({"name": name, "labels": state.labels, "adaptation": state.adaptation,
                              "support": support_meta, "info": state.info,
                              # shapes too: a 0-d tensor is written as a 1-element array
                              "tensors": {k: list(v.shape) for k, v in state.tensors.items()}})
            config = {"format": _FORMAT, "class": type(self).__name__, "options": self._config(), "tasks": tasks,
                      "meta_learner": _class_name(self.meta_learner)}
            return next(self._snapshots), write_blob(arrays, _FORMAT, config)

    def load(self, path: str | Path) -> dict[str, Any]:
        """Restore weights and tasks written by ``save`` into this expert (same class and model
        architecture), with the options that say how it scores (a ``VisionExpert``'s distance, a
        ``LanguageExpert``'s description weight), all at once for inputs served meanwhile. A file that is missing, damaged, or made for another model or other inputs
        (``_load_must_match``) raises (``FileNotFoundError``, ``toolrouter.errors.CorruptStateError``)
        naming the file and what is wrong; the expert is unchanged then. Returns the saved options.
        The meta-learner and router attached to this expert stay attached (the file holds neither);
        a file saved with a meta-learner of a class this expert has not attached is loaded with
        the warning ``expert_loaded_without_meta_learner``."""
        source = checked_path(path)
        if not source.is_file():
            raise FileNotFoundError(f"path: no saved expert at {str(source)!r}")
        where = f"path: {str(source)!r}"
        try:
            blob = read_blob(source.read_bytes(), _FORMAT)
            config = blob.config
            if config.get("class") != type(self).__name__:
                raise CorruptStateError(f"saved by a {config.get('class')!r}, not a {type(self).__name__}")
            saved_options, own = config.get("options") or {}, self._config()
            if not isinstance(saved_options, dict):  # read as one below, and returned once the expert has changed
                raise CorruptStateError(f"options: expected a mapping of the saved options, got {short_repr(saved_options)}")
            for key in self._load_must_match:
                if key in saved_options and saved_options[key] != own[key]:
                    raise CorruptStateError(
                        f"options.{key}: saved by an expert with {key}={short_repr(saved_options[key])}, "
                        f"this one has {key}={short_repr(own[key])}"
                    )
            self._check_saved_options(saved_options)
            state = {}
            for key, value in self.model.state_dict().items():
                saved = blob.arrays.get(f"model.{key}")
                if saved is not None and value.dim() == 0 and saved.shape == (1,):
                    saved = saved.reshape(())
                if saved is None or tuple(saved.shape) != tuple(value.shape):
                    found = "missing" if saved is None else f"shape {tuple(saved.shape)}"
                    raise CorruptStateError(f"model weight {key!r}: expected shape {tuple(value.shape)}, {found}")
                state[key] = torch.from_numpy(np.array(saved)).to(value.dtype)
            extra = sorted(k for k in blob.arrays if k.startswith("model.") and k[6:] not in state)
            if extra:
                raise CorruptStateError(f"weights {extra[:3]} are not in this expert's model")
            tasks = {}
            for i, t in enumerate(config.get("tasks", [])):
                support: dict[Label, list[Any]] = {}
                for part in t["support"]:
                    if "texts" in part:
                        support[part["label"]] = list(part["texts"])
                    else:
                        support[part["label"]] = list(torch.from_numpy(np.array(blob.arrays[part["tensor"]])).unbind(0))
                tensors = {k: torch.from_numpy(np.array(blob.arrays[f"task.{i}.tensor.{k}"]).reshape(shape))
                           for k, shape in t["tensors"].items()}
                tasks[t["name"]] = TaskState(list(t["labels"]), t["adaptation"], support, tensors, dict(t["info"]))
        except CorruptStateError as exc:
            raise exc.within(where) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise CorruptStateError(f"the saved tasks do not fit together ({exc!r})", where) from None
        with self._lock:  # an input served meanwhile is scored with the old weights, tasks and options, or the new
            self.model.load_state_dict(state)
            self._tasks = tasks
            self._restore_options(saved_options)
            attached = _class_name(self.meta_learner)
        saved_learner = config.get("meta_learner")
        if isinstance(saved_learner, str) and saved_learner != attached:
            log.warning("expert_loaded_without_meta_learner", expert=type(self).__name__, path=str(source),
                        saved=saved_learner, attached=attached,
                        advice=f"the file holds no meta-learner: attach a {saved_learner} built on expert.model "
                               f"(add_meta_learning) and restore its own state with its load(), or new tasks are "
                               f"learned otherwise than the saved expert learned them")
        return dict(saved_options)

    # --- for subclasses ------------------------------------------------------------------------
    @abc.abstractmethod
    def _check_input(self, x: Any, field: str) -> Any:
        """One input, checked for the expert's modality (``ModalityError`` naming ``field``), in
        the form ``_scores`` takes."""

    @abc.abstractmethod
    def _fit_task(self, support: dict[Label, list[Any]], **options: Any) -> TaskState:
        """A task's state from its checked support set; must not change ``self.model``."""

    @abc.abstractmethod
    def _scores(self, state: TaskState, inputs: list[Any]) -> torch.Tensor:
        """Logits ``[len(inputs), len(state.labels)]`` of checked inputs under a task."""

    def _attach_meta_learning(self, learner: Any) -> None:
        """Check (or configure) a meta-learner already known to be built on ``self.model``."""

    def _check_saved_options(self, options: dict[str, Any]) -> None:
        """Raise ``CorruptStateError`` where a file's saved options show inputs this expert would
        see otherwise than the saved one (beyond the equal values of ``_load_must_match``)."""

    def _restore_options(self, options: dict[str, Any]) -> None:
        """Take up what a file's saved options hold beyond the weights and tasks (a distance);
        ``load`` calls it under the expert's lock, with the file's weights and tasks just set."""

    def _attach_tools(self, router: Any) -> None:
        """Check a router before it is attached."""

    def _default_task(self) -> TaskState | None:
        """The task to use when none is named and several or none are learned (None: ask)."""
        return None

    def _run_tools(self, x: Any, label: Label, state: TaskState, **options: Any) -> dict[str, Any]:
        """Act on ``x`` through ``self.tool_learner``: a dict with ``output``, ``plan``,
        ``attempts``, ``tool_outputs`` and ``notes``."""
        raise ExpertInputError(f"use_tools: {type(self).__name__} does not call tools")

    def _notes(self) -> list[str]:
        """Notes added to every result (e.g. which encoder is in use)."""
        return []

    def _config(self) -> dict[str, Any]:
        """JSON-able options saved with the expert."""
        return {"seed": self.seed}


def _class_name(obj: Any) -> str | None:
    return None if obj is None else type(obj).__name__


def _to_numpy(tensor: torch.Tensor) -> np.ndarray:
    tensor = tensor.detach().cpu()
    if tensor.dtype in (torch.bfloat16, torch.float16):
        tensor = tensor.float()  # numpy has no bfloat16; float32 holds both exactly, and load casts back
    return tensor.contiguous().numpy()

