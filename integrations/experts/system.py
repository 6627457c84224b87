"""``ExpertSystem``: several experts as tools of one router, each input sent to the expert that
serves it best.

Every expert is registered as a tool of a ``toolrouter.ToolMetaLearner`` whose capabilities are its
``input_kind`` (``"expert:text"``, ``"expert:image[1x28x28]"``: a request with its own support set,
which any expert of the kind can serve) and, checked at each request, one per task it has learned
(``"expert:text:intent"``), however it learned it (``ExpertSystem.adapt``, or ``expert.adapt``
directly); the ``expert:`` prefix keeps the other tools of a shared router (a ``"text"`` tool) off
the experts' routes. An input's task name is the router's task type. So a request is routed by what
it is (text, an image of a shape) and by the task it belongs to, only among the experts that take
it and have learned that task (one that has not, or that would refuse the input, is never asked,
nor taught that it fails), and the router learns from each outcome which expert to call first for
that task, cost and latency included: for example a cheap expert and an expensive one for the same
task, the expensive one called only while the cheap one is not good enough. With ``expected=``
(the right answer, when the caller knows it) a wrong answer is a failed attempt and the next expert
is tried; without it, an answer counts as a success with the expert's confidence as its quality.

Example:
    >>> from toolrouter.features import HashingFeaturizer
    >>> from integrations.experts.language import LanguageExpert
    >>> system = ExpertSystem(seed=0)
    >>> system.add_expert("small", LanguageExpert(HashingFeaturizer(dim=64)), cost_per_use=0.1)
    >>> system.adapt({"yes": ["yes please", "sure"], "no": ["no thanks", "nope"]}, task="answer")
    >>> system.process("yes, sure", task="answer").label
    'yes'
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from integrations.experts.base import (
    Expert,
    ExpertInputError,
    ExpertResult,
    Label,
    TaskState,
    _check_label,
    _check_task_name,
    normalize_support,
)
from toolrouter.attempts import ExecutorConfig, RetryPolicy, ToolFailure, ToolOutput
from toolrouter.executor import PlanExecutor, learner_executor
from toolrouter.learner import ToolMetaLearner
from toolrouter.logging import EventLog
from toolrouter.models import TaskProfile, ToolProfile
from toolrouter.serialization import short_repr

__all__ = ["ExpertSystem", "SystemResult", "modality_of"]

log = EventLog(__name__)


#: How the experts are called: once each. An expert's answer is the same when asked again, and a
#: wrong one is not an outage: retried, one wrong answer would count as two failures, and a circuit
#: breaker would stop calling an expert after a few wrong answers, which leaves requests unanswered.
_ANSWERING = ExecutorConfig(retry=RetryPolicy(max_retries=0), circuit_breaker=None)


def modality_of(x: Any) -> str:
    """``"text"`` for a string, ``"image"`` for a tensor, an array or a PIL image; else an
    ``ExpertInputError`` naming what was given."""
    if isinstance(x, str):
        return "text"
    if isinstance(x, (torch.Tensor, np.ndarray)) or type(x).__module__.startswith("PIL."):
        return "image"
    raise ExpertInputError(f"input: expected text (str) or an image (tensor, array, PIL image), got {type(x).__name__} ({short_repr(x)})")


def _capability(kind: str, task: str | None = None) -> str:
    """The router capability of the experts of input kind ``kind`` (that have learned ``task``):
    prefixed, so that another tool of a shared router (a ``"text"`` tool) never joins the route."""
    return f"expert:{kind}" if task is None else f"expert:{kind}:{task}"


@dataclass(frozen=True)
class _Request:
    input: Any
    task: str
    support: Any
    support_labels: Any
    expected: Label | None


@dataclass(frozen=True)
class SystemResult:
    """What ``ExpertSystem.process`` did.

    Attributes:
        expert: the name of the expert whose answer is returned (None when every expert failed).
        result: that expert's ``ExpertResult`` (None when every expert failed).
        plan: the router's plan (the experts in the order they would be tried).
        attempts: every attempt (``ExecutionResult``), a wrong answer under ``expected`` included.
        latency_s: wall time of the whole call.
    """

    expert: str | None
    result: ExpertResult | None
    plan: Any
    attempts: tuple[Any, ...]
    latency_s: float

    @property
    def label(self) -> Label | None:
        """The returned expert's label (None when every expert failed)."""
        return None if self.result is None else self.result.label


class ExpertSystem:
    """Experts registered as tools of a router, which learns which one serves each task.

    Arguments:
        router: the ``ToolMetaLearner`` to register the experts with; default: a new one.
        seed: the new router's seed.

    ``close()`` (or a ``with`` block) releases the threads that call the experts.
    """

    def __init__(self, router: ToolMetaLearner | None = None, *, seed: int = 0) -> None:
        if router is not None and not isinstance(router, ToolMetaLearner):
            raise TypeError(f"router: expected a toolrouter.ToolMetaLearner, got {type(router).__name__}")
        self.router = router if router is not None else ToolMetaLearner(seed=seed)
        self.experts: dict[str, Expert] = {}
        self._calls = itertools.count(1)
        self._executor: PlanExecutor | None = None  # made with the first expert; kept (a new one per call costs ms)
        self._registering = threading.Lock()  # _register_task reads a tool's profile and writes it back
        self._adding = threading.Lock()  # add_expert: one at a time, so that one executor is made

    def add_expert(self, name: str, expert: Expert, *, cost_per_use: float = 0.0, expected_latency_s: float = 0.05,
                   reliability: float = 0.8, description: str = "") -> None:
        """Register ``expert`` as the router's tool ``name`` serving its ``input_kind``.

        ``cost_per_use`` is charged for each call (the router weighs it against accuracy);
        ``expected_latency_s`` and ``reliability`` are the router's priors. Raises ``TypeError``
        for a non-expert, the router's errors for a bad or taken name; nothing changes then.
        Safe to call while other threads add experts or process inputs.
        """
        if not isinstance(expert, Expert):
            raise TypeError(f"expert: expected an integrations.experts.Expert, got {type(expert).__name__}")
        profile = ToolProfile(tool_id=name, capabilities=[_capability(expert.input_kind)], cost_per_use=cost_per_use,
                              expected_latency_s=expected_latency_s, reliability=reliability,
                              description=description or f"{type(expert).__name__} for {expert.input_kind}")
        with self._adding:
            self.router.add_tool(profile)
            self.router.functions[name] = self._caller(name, expert)
            # a new dict, not an update: a call going through the experts meanwhile keeps the one it read
            self.experts = {**self.experts, name: expert}
            if self._executor is None:
                self._executor = learner_executor(self.router, config=_ANSWERING)

    def _serving(self, modality: str, field: str) -> list[str]:
        names = [n for n, e in self.experts.items() if e.modality == modality]
        if not names:
            known = {n: e.modality for n, e in self.experts.items()}
            raise ExpertInputError(f"{field}: no registered expert takes {modality} input (experts and what they take: {known})")
        return names

    def adapt(self, examples: Any, labels: Any = None, *, task: str, modality: str | None = None, **options: Any) -> None:
        """Teach task ``task`` to every expert of the examples' modality (the first example's, or
        ``modality``) and input kind (that of the first expert that takes them: vision experts of
        another image shape are not taught images they cannot take). If one expert refuses the
        examples, the others are put back as they were (a task learned before, and replaced with
        ``replace=True``, comes back) and the error is raised."""
        support = normalize_support(examples, labels)  # once: every expert reads it, and examples may be iterators
        field = "modality" if modality is not None else "examples"
        if modality is None:
            modality = modality_of(next(iter(support.values()))[0])
        _, names = self._route(self._serving(modality, field), "examples",
                               lambda expert: expert._checked_support(support, None, "examples"))
        done: list[tuple[Expert, TaskState | None]] = []
        try:
            for name in names:
                expert = self.experts[name]
                before = expert.task(task) if task in expert.tasks else None
                expert.adapt(support, task=task, **options)
                done.append((expert, before))
        except BaseException:
            for expert, before in done:
                expert._put_task(task, before)
            raise

    def process(self, input: Any, *, task: str = "default", support: Any = None, support_labels: Any = None,
                expected: Label | None = None) -> SystemResult:
        """Send ``input`` to the expert the router picks for its modality and ``task``, falling back
        to the next on failure (with ``expected``, a wrong label is a failure); every attempt
        teaches the router. Only the experts of the input's kind (``Expert.input_kind``) that have
        learned ``task`` are candidates (with ``support``, every expert of the kind). An input,
        support set or ``expected`` that no expert can take, or a task no expert has learned,
        raises ``ExpertInputError`` naming it, and nothing is called or learned."""
        import time

        t0 = time.perf_counter()
        task = _check_task_name(task)  # also the router's task type, with a support set too
        modality = modality_of(input)
        serving = names = self._serving(modality, "input")
        if support is None:
            learned = [n for n in names if task in self.experts[n].tasks]
            if not learned:
                known = {n: self.experts[n].tasks for n in names}
                raise ExpertInputError(f"task: no {modality} expert has learned {task!r} (experts and their tasks: {known}); "
                                       f"adapt(..., task={task!r}) first or pass support=")
            names = learned
        if support is None and support_labels is not None:
            raise ExpertInputError("support_labels: given without support=")
        if support is not None:  # once: every expert reads it, and its examples may be iterators
            support, support_labels = normalize_support(support, support_labels, "support"), None

        def takes(expert: Expert) -> None:
            expert._check_input(input, "input")
            if support is not None:
                expert._checked_support(support, support_labels, "support")

        kind, names = self._route(names, "input", takes)
        if expected is not None:
            expected = _check_label(expected, "expected")
            # an answer no expert can give would fail them all, and teach the router that they fail
            if support is not None:
                where, labels = "the support set", list(support)
            else:
                where = f"task {task!r}"
                states = [self.experts[n].task(task) for n in names]
                labels = list(dict.fromkeys(label for state in states for label in state.labels))
            if expected not in labels:
                raise ExpertInputError(f"expected: {expected!r} is not a label of {where} (its labels: {labels[:10]})")
        profile = TaskProfile(task_id=f"expert-system-{next(self._calls)}", task_type=task,
                              required_capabilities=[_capability(kind, None if support is not None else task)],
                              context=input if modality == "text" else None)
        # also the step's name (as the router strips it): a learned task's route and a support set's never meet
        capability = profile.required_capabilities[0]
        if support is None:
            self._register_task([n for n in serving if self.experts[n].input_kind == kind], task, capability)
        execution = self.router.execute(profile, _Request(input, task, support, support_labels, expected), executor=self._executor)
        output = execution.outputs.get(capability)
        winner = next((a.tool_id for a in reversed(execution.run.attempts) if a.success), None)
        log.debug("expert_system_processed", task=task, modality=modality, expert=winner, attempts=len(execution.run.attempts))
        return SystemResult(winner, output, execution.plan, tuple(execution.run.attempts), time.perf_counter() - t0)

    def close(self) -> None:
        """Release the worker threads and event loops of the executor that calls the experts (an
        idle worker stayed for a minute, an event loop until collected). The system stays usable:
        a later call starts what it needs, to be released by ``close`` again. The router is left
        as it is (one passed in is its owner's)."""
        if self._executor is not None:
            self._executor.close()

    def __enter__(self) -> "ExpertSystem":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _register_task(self, names: list[str], task: str, capability: str) -> None:
        """Have the tools of the experts ``names`` serve ``capability`` (task ``task``) exactly when
        the expert has learned the task now: an expert taught (or made to forget) it directly,
        outside ``adapt``, joins (or leaves) its route before the router plans."""
        # one call at a time: a profile read before another call's update and written back after it
        # would drop that call's task from the tool (and its route's statistics with it)
        with self._registering:
            tools = self.router.tools
            for name in names:
                profile, learned = tools.get(name), task in self.experts[name].tasks
                if profile is not None and profile.serves(capability) != learned:
                    capabilities = (*profile.capabilities, capability) if learned else tuple(c for c in profile.capabilities if c != capability)
                    self.router.update_tool(profile.model_copy(update={"capabilities": capabilities}))

    def _route(self, names: list[str], field: str, takes: Callable[[Expert], Any]) -> tuple[str, list[str]]:
        """``(kind, experts)``: the input kind of the first expert of ``names`` that ``takes`` the
        request (raises ``ExpertInputError`` otherwise), and the experts of ``names`` of that kind,
        the only ones the request may be routed to. When none takes it, the first expert's error is
        raised (the caller's mistake, not a failure of the experts to learn from); when one of the
        kind refuses what another takes, an error naming it (its ``input_kind`` is too wide: routed
        there, the request would fail and count against it). Nothing is called then."""
        refusals: dict[str, ExpertInputError] = {}
        for name in names:
            try:
                takes(self.experts[name])
            except ExpertInputError as exc:
                refusals[name] = exc
        taker = next((n for n in names if n not in refusals), None)
        if taker is None:
            raise refusals[names[0]]
        kind = self.experts[taker].input_kind
        route = [n for n in names if self.experts[n].input_kind == kind]
        wide = next((n for n in route if n in refusals), None)
        if wide is not None:
            raise ExpertInputError(
                f"{field}: expert {wide!r} refuses it ({refusals[wide]}), though it takes the input kind "
                f"{kind!r} as {taker!r} does, which takes it; give {type(self.experts[wide]).__name__} an "
                f"input_kind of its own (every expert of a kind is asked its requests)"
            )
        return kind, route

    @staticmethod
    def _caller(name: str, expert: Expert) -> Any:
        def call(request: Any) -> ToolOutput:
            r: _Request = request.inputs
            result = expert.process_task(r.input, task=None if r.support is not None else r.task, support=r.support,
                                         support_labels=r.support_labels, use_tools=False)
            if r.expected is not None:
                if result.label != r.expected:
                    raise ToolFailure(f"{name} answered {result.label!r}, expected {r.expected!r}")
                return ToolOutput(result, quality=1.0)
            return ToolOutput(result, quality=result.confidence)

        call.__name__ = name
        return call
