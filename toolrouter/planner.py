"""Task graphs and tool assignment under a budget.

A task is a DAG of steps (``TaskStep``: a capability, and the steps whose outputs it needs). Its
steps come from the task itself (``TaskProfile.steps``, or ``required_capabilities`` as a chain), from
a template registered for its task type, or from the structure that most often succeeded before for
that task type (``TaskGraphLibrary``). ``build_task_graph`` turns steps into a validated
``networkx.DiGraph``: cycles, dependencies on missing steps and repeated ids raise
``TaskGraphError`` subclasses; ``check_capabilities`` raises ``NoToolForCapabilityError`` for a step
no tool serves. A step of capability ``"*"`` (``ANY_CAPABILITY``) may be served by any tool.

``assign_tools`` then picks one tool per step among its candidates. Each ``Candidate`` carries the
policy's prediction for that tool at that step: a (sampled) success probability, a cost and a
latency. The plan maximises

    J = value * prod_i p_i  -  w_cost * sum_i c_i  -  w_latency * critical_path(l)

(expected end-to-end success times the task's value, minus weighted expected cost and the latency
of the longest dependency chain: parallel branches overlap), subject to ``sum_i c_i <= max_cost`` and
``critical_path(l) <= max_latency_s``. Two solvers:

- ``exact``: branch and bound over Pareto-pruned candidates, with an admissible bound on the success
  product, the remaining cost and the critical path. Proven optimal; for small plans.
- ``lagrangian``: the budget constraints and the latency term are priced with multipliers (latency
  weighted by how critical each step is), each step picks its best priced candidate, the multipliers
  follow the constraint violations; the best feasible plan seen is then improved by exact
  single-step moves. Fast for large plans, not proven optimal: ``toolrouter bench planning``
  measures its gap against the exact solver.

``method="auto"`` runs ``lagrangian``, then ``exact`` seeded with its plan when the pruned search
space is not too large, within a budget of search nodes; ``Assignment.optimal`` says whether the
search finished.
A budget that cannot be met raises ``BudgetInfeasibleError``, or, with ``allow_infeasible=True``,
returns the plan that violates it least (the relative excess of cost plus that of latency; the best
objective among equals), flagged ``feasible=False``: searched as the best plan is, so proven by
``exact`` and the best seen by ``lagrangian``.

Example:
    >>> from toolrouter.models import TaskStep, UtilityWeights
    >>> graph = build_task_graph([
    ...     TaskStep(step_id="search", capability="search"),
    ...     TaskStep(step_id="fetch_a", capability="fetch", depends_on=["search"]),
    ...     TaskStep(step_id="fetch_b", capability="fetch", depends_on=["search"]),
    ...     TaskStep(step_id="summarise", capability="llm", depends_on=["fetch_a", "fetch_b"]),
    ... ])
    >>> fast = Candidate("fast", success_prob=0.9, cost=1.0, latency_s=0.2)
    >>> cheap = Candidate("cheap", success_prob=0.8, cost=0.1, latency_s=1.0)
    >>> candidates = {step: [fast, cheap] for step in graph}
    >>> plan = assign_tools(graph, candidates, max_cost=2.5, weights=UtilityWeights())
    >>> plan.feasible, plan.expected_cost <= 2.5
    (True, True)
    >>> parallel_stages(graph)
    [['search'], ['fetch_a', 'fetch_b'], ['summarise']]
"""

from __future__ import annotations

import heapq
import itertools
import math
import numbers
import time
import types
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import networkx as nx
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from toolrouter._checks import check_count, check_real
from toolrouter.errors import (
    BudgetInfeasibleError,
    CorruptStateError,
    CyclicTaskGraphError,
    DanglingDependencyError,
    NoToolForCapabilityError,
    TaskGraphError,
)
from toolrouter.logging import EventLog
from toolrouter.models import ANY_CAPABILITY, TaskProfile, TaskStep, ToolProfile, UtilityWeights, _identifier
from toolrouter.plan import BUDGET_SLACK, PlanStep
from toolrouter.serialization import Count, read_model
from toolrouter.structure import _probation

__all__ = [
    "ANY_CAPABILITY",
    "Assignment",
    "Candidate",
    "CyclicTaskGraphError",
    "DanglingDependencyError",
    "StepChoice",
    "TaskGraphError",
    "TaskGraphLibrary",
    "assign_tools",
    "build_task_graph",
    "candidates_from_choices",
    "chain_steps",
    "check_capabilities",
    "critical_path_latency",
    "parallel_stages",
    "plan_decisions",
    "plan_objective",
]

log = EventLog(__name__)


PlanningMethod = Literal["auto", "exact", "lagrangian", "brute_force"]

_EPS = BUDGET_SLACK  # what a plan may exceed its budget by and still meet it (fits_budget)


# --------------------------------------------------------------------------------------------------
# Task graphs
# --------------------------------------------------------------------------------------------------
def _task_type(value: Any) -> str:
    """``value`` as ``TaskProfile.task_type`` holds it (stripped), or the error naming it."""
    if not isinstance(value, str):
        raise TypeError(f"task_type: expected a string, got {value!r}")
    return _identifier("task_type", value)


def _as_steps(steps: Iterable[TaskStep | Mapping[str, Any]]) -> tuple[TaskStep, ...]:
    # one step, one dict or a string of capabilities iterated as steps: their fields, keys or
    # characters were each refused in pydantic's words, or a string's first letter named
    if isinstance(steps, (str, bytes, Mapping, TaskStep)) or not isinstance(steps, Iterable):
        raise TypeError(f"steps: expected a list of TaskStep or dicts, got {steps!r:.100}")
    out = []
    for i, s in enumerate(steps):
        if not isinstance(s, (TaskStep, Mapping)):
            raise TypeError(f"steps[{i}]: expected a TaskStep or a dict with step_id and capability, got {s!r:.100}")
        out.append(s if isinstance(s, TaskStep) else TaskStep.model_validate(s))
    return tuple(out)


def build_task_graph(steps: Iterable[TaskStep | Mapping[str, Any]]) -> nx.DiGraph:
    """A validated DAG of ``steps``: node = step id (attribute ``capability``), edge = dependency.

    Raises ``TaskGraphError`` for no steps or a repeated id, ``DanglingDependencyError`` for a
    dependency on a missing step and ``CyclicTaskGraphError`` for a cycle.

    Example:
        >>> g = build_task_graph([{"step_id": "a", "capability": "search"},
        ...                       {"step_id": "b", "capability": "llm", "depends_on": ["a"]}])
        >>> list(g.edges)
        [('a', 'b')]
    """
    steps = _as_steps(steps)
    if not steps:
        raise TaskGraphError("steps: a task graph needs at least one step, got none")
    graph = nx.DiGraph()
    for step in steps:
        if step.step_id in graph:
            raise TaskGraphError(f"steps: step id {step.step_id!r} is used twice")
        graph.add_node(step.step_id, capability=step.capability)
    for step in steps:
        for dep in step.depends_on:
            if dep not in graph:
                raise DanglingDependencyError(step.step_id, dep)
            graph.add_edge(dep, step.step_id)
    _refuse_cycles(graph)
    return graph


def _check_graph(graph: Any) -> None:
    """Raise ``TypeError`` unless ``graph`` is a ``networkx.DiGraph`` (a list of steps, say, failed
    in networkx's words)."""
    if not isinstance(graph, nx.DiGraph):
        raise TypeError(f"graph: expected a networkx.DiGraph from build_task_graph, got {type(graph).__name__}")


def _refuse_cycles(graph: nx.DiGraph) -> None:
    """Raise ``CyclicTaskGraphError`` naming the steps of a cycle of ``graph``, if it has one."""
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return
    raise CyclicTaskGraphError([u for u, _ in cycle])


def chain_steps(capabilities: Sequence[str]) -> tuple[TaskStep, ...]:
    """Steps for ``required_capabilities``: a chain, each step after the previous one.

    A step is named after its capability; a name already taken is numbered (``llm``, ``llm_2``,
    and ``llm_3`` where a capability ``llm_2`` took that name). No capabilities means one step
    ``main`` of capability ``"*"``: any tool may serve it.

    Example:
        >>> [s.step_id for s in chain_steps(["search", "llm", "llm"])]
        ['search', 'llm', 'llm_2']
    """
    if isinstance(capabilities, (str, bytes)) or not isinstance(capabilities, Iterable | None):
        # a string was read as its letters: a chain of steps "s", "e", "a"...
        raise TypeError(f"capabilities: expected a list of capability names, got {capabilities!r:.100}")
    if not capabilities:
        return (TaskStep(step_id="main", capability=ANY_CAPABILITY),)
    steps: list[TaskStep] = []
    used: set[str] = set()
    for i, capability in enumerate(capabilities):
        if not isinstance(capability, str):
            raise TypeError(f"capabilities[{i}]: expected a capability name, got {capability!r:.100}")
        # stripped as the step will hold it: " llm" after "llm" was named " llm", and stripped
        # into a second step "llm" that depends on itself
        capability = _identifier(f"capabilities[{i}]", capability)
        # numbered past the names taken: a count per capability named a step twice (["a", "a_2", "a"])
        step_id, k = capability, 1
        while step_id in used:
            k += 1
            step_id = f"{capability}_{k}"
        used.add(step_id)
        deps = (steps[-1].step_id,) if steps else ()
        steps.append(TaskStep(step_id=step_id, capability=capability, depends_on=deps))
    return tuple(steps)


def check_capabilities(graph: nx.DiGraph, tools: Iterable[ToolProfile]) -> None:
    """Raise ``NoToolForCapabilityError`` naming the first step whose capability no tool serves
    (a step of capability ``"*"``, or of none, as ``assign_tools`` reads it: when there are no
    tools); ``TypeError`` for a graph that is not a ``networkx.DiGraph`` or a tool that is not a
    ``ToolProfile``, naming it."""
    _check_graph(graph)
    if isinstance(tools, (str, bytes, Mapping, ToolProfile)) or not isinstance(tools, Iterable):
        # a mapping's keys are tool ids (pass its values), and one tool iterates its fields
        raise TypeError(f"tools: expected a list of ToolProfile, got {tools!r:.100}")
    served: set[str] = set()
    any_tool = False
    for i, tool in enumerate(tools):
        if not isinstance(tool, ToolProfile):
            raise TypeError(f"tools[{i}]: expected a ToolProfile, got {tool!r:.100}")
        served.update(tool.capabilities)
        any_tool = True
    for step, capability in graph.nodes(data="capability", default=ANY_CAPABILITY):
        if capability == ANY_CAPABILITY:
            if not any_tool:
                raise NoToolForCapabilityError(f"step {step!r}: no tools are registered")
        elif capability not in served:
            raise NoToolForCapabilityError(
                f"capability: step {step!r} needs {capability!r}, which no registered tool serves "
                f"(served: {sorted(served)!r})"
            )


def parallel_stages(graph: nx.DiGraph) -> list[list[str]]:
    """Steps grouped into stages: each stage's steps depend only on earlier stages, so they can
    run at the same time. ``TypeError`` for a graph that is not a ``networkx.DiGraph``,
    ``CyclicTaskGraphError`` naming the steps of a cycle."""
    _check_graph(graph)
    _refuse_cycles(graph)
    return [sorted(gen) for gen in nx.topological_generations(graph)]


def _structure_key(steps: Sequence[TaskStep]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    return tuple(sorted((s.step_id, s.capability, tuple(sorted(s.depends_on))) for s in steps))


def _saved_task_type(where: str, task_type: str) -> str:
    """A task type of a saved library as ``TaskProfile.task_type`` holds it (stripped), or
    ``CorruptStateError`` naming ``where``."""
    if not task_type.strip():
        raise CorruptStateError(f"{where}: task type must be a non-empty string, got {task_type!r}")
    return task_type.strip()


class _SavedRuns(BaseModel):
    """One structure's record in ``TaskGraphLibrary.state_dict``."""

    model_config = ConfigDict(extra="forbid")

    steps: list[TaskStep]
    runs: Count
    successes: Count


class _SavedLibrary(BaseModel):
    """``TaskGraphLibrary.state_dict``, checked field by field."""

    model_config = ConfigDict(extra="forbid")

    min_support: Annotated[int, Field(strict=True, ge=1, lt=2**63)] | None = None
    max_structures: Annotated[int, Field(strict=True, ge=1, lt=2**63)] | None = None  # absent before it existed
    templates: dict[str, list[TaskStep]] = {}
    runs: dict[str, list[_SavedRuns]] = {}


class TaskGraphLibrary:
    """Where a task's steps come from, in this order of precedence:

    1. the task itself: ``TaskProfile.steps``, or ``required_capabilities`` as a chain;
    2. a template registered for the task's type (``register_template``);
    3. the step structure that succeeded most often for the task's type (``record_success``), once
       it has succeeded ``min_support`` times;
    4. a single step ``main`` that any tool may serve.

    Arguments:
        min_support: successes a structure needs before ``propose`` returns it.
        max_structures: structures kept per task type (what ``outcomes`` lists and a router's
            snapshot saves). Beyond it, the run of a new structure replaces the one with the fewest
            successes, then the fewest runs, then the least recently run: the ones that keep
            succeeding stay, while structures run once (say with step ids made per request) take
            turns in the remaining places instead of growing the library without bound. The
            ``max(1, max_structures // 8)`` most recently run are on probation, never replaced: a
            new structure has the fewest successes, and may recur while other new ones are run.

    Example:
        >>> lib = TaskGraphLibrary()
        >>> lib.register_template("research", [
        ...     {"step_id": "search", "capability": "search"},
        ...     {"step_id": "summarise", "capability": "llm", "depends_on": ["search"]}])
        >>> steps, source = lib.steps_for(TaskProfile(task_id="t", task_type="research"))
        >>> [s.step_id for s in steps], source
        (['search', 'summarise'], 'template')
    """

    def __init__(self, min_support: int = 2, max_structures: int = 64) -> None:
        self.min_support = check_count("min_support", min_support, low=1)
        self.max_structures = check_count("max_structures", max_structures, low=1)
        self._templates: dict[str, tuple[TaskStep, ...]] = {}
        self._successes: dict[str, Counter] = {}
        self._runs: dict[str, Counter] = {}
        self._structures: dict[tuple, tuple[TaskStep, ...]] = {}

    @property
    def templates(self) -> dict[str, tuple[TaskStep, ...]]:
        """Registered templates by task type."""
        return dict(self._templates)

    def register_template(
        self, task_type: str, steps: Iterable[TaskStep | Mapping[str, Any]]
    ) -> None:
        """Use ``steps`` for tasks of ``task_type`` that give no steps of their own. The graph is
        validated now; an invalid one raises and registers nothing. ``task_type`` is read as
        ``TaskProfile.task_type`` is (a non-empty string, stripped), so the template serves them."""
        task_type = _task_type(task_type)
        steps = _as_steps(steps)
        build_task_graph(steps)
        self._templates[task_type] = steps

    def remove_template(self, task_type: str) -> None:
        """Forget the template of ``task_type``; an unknown type raises ``KeyError``."""
        task_type = _task_type(task_type)
        if task_type not in self._templates:
            raise KeyError(f"task_type: no template registered for {task_type!r}")
        del self._templates[task_type]

    def record_success(self, task_type: str, steps: Iterable[TaskStep | Mapping[str, Any]]) -> None:
        """Count one end-to-end success of ``steps`` for ``task_type``."""
        self.record_run(task_type, steps, succeeded=True)

    def record_run(
        self, task_type: str, steps: Iterable[TaskStep | Mapping[str, Any]], *, succeeded: bool
    ) -> None:
        """Count one end-to-end run of ``steps`` for ``task_type``, and whether it succeeded."""
        task_type = _task_type(task_type)  # as steps_for looks it up: another key would never be read
        if not isinstance(succeeded, bool):  # "no" would have counted as a success
            raise TypeError(f"succeeded: expected True or False, got {succeeded!r}")
        steps = _as_steps(steps)
        build_task_graph(steps)
        key = _structure_key(steps)
        self._structures.setdefault(key, steps)
        runs = self._runs.setdefault(task_type, Counter())
        runs[key] = runs.pop(key, 0) + 1  # moved to the end: the counter's order is that of the latest runs
        if succeeded:
            self._successes.setdefault(task_type, Counter())[key] += 1
        self._trim(task_type)

    def _trim(self, task_type: str) -> None:
        """Keep ``max_structures`` structures of ``task_type``: forget those with the fewest
        successes, then runs, then the least recently run, never the newest ``_probation`` (the
        one just run among them). Sparing only that one, a full library whose structures had
        more successes dropped each new structure as soon as another one was run."""
        runs = self._runs[task_type]
        excess = len(runs) - self.max_structures
        if excess <= 0:
            return
        wins = self._successes.get(task_type, Counter())
        older = itertools.islice(runs.items(), len(runs) - _probation(self.max_structures))
        order = [(wins.get(k, 0), n, i, k) for i, (k, n) in enumerate(older)]
        for *_, key in heapq.nsmallest(excess, order):
            del runs[key]
            wins.pop(key, None)
            if not any(key in counts for counts in self._runs.values()):  # no other task type ran it
                del self._structures[key]

    def outcomes(self, task_type: str) -> list[tuple[tuple[TaskStep, ...], int, int]]:
        """``(steps, runs, successes)`` of each structure run for ``task_type``, most run first."""
        runs = self._runs.get(task_type, Counter())
        wins = self._successes.get(task_type, Counter())
        return [(self._structures[k], n, wins.get(k, 0)) for k, n in runs.most_common()]

    def propose(self, task_type: str) -> tuple[TaskStep, ...] | None:
        """The structure that succeeded most often for ``task_type`` (at least ``min_support``
        times), or ``None``. Ties go to the one run fewest times (the better success rate), then
        to the one run most recently: what a saved library holds, so that a loaded one proposes
        as the saved one did (ties went to the structure first seen, which a load lost)."""
        counts = self._successes.get(task_type)
        if not counts:
            return None
        runs = self._runs[task_type]  # in the order of the latest runs
        latest = {k: i for i, k in enumerate(runs)}
        key = max(counts, key=lambda k: (counts[k], -runs[k], latest[k]))
        return self._structures[key] if counts[key] >= self.min_support else None

    def steps_for(self, task: TaskProfile) -> tuple[tuple[TaskStep, ...], str]:
        """``(steps, source)`` for ``task``; source is ``explicit``, ``chain``, ``template``,
        ``history`` or ``single``."""
        if task.steps:
            return task.steps, "explicit"
        if task.required_capabilities:
            return chain_steps(task.required_capabilities), "chain"
        if task.task_type in self._templates:
            return self._templates[task.task_type], "template"
        proposed = self.propose(task.task_type)
        if proposed is not None:
            return proposed, "history"
        return chain_steps(()), "single"

    def graph_for(self, task: TaskProfile) -> nx.DiGraph:
        """The validated graph of ``task``'s steps (see ``steps_for``); attribute ``source``."""
        steps, source = self.steps_for(task)
        graph = build_task_graph(steps)
        graph.graph["source"] = source
        return graph

    def state_dict(self) -> dict[str, Any]:
        """Templates and success counts as plain JSON-able data."""
        return {
            "min_support": self.min_support,
            "max_structures": self.max_structures,
            "templates": {
                t: [s.model_dump(mode="json") for s in steps] for t, steps in self._templates.items()
            },
            "runs": {
                t: [
                    {
                        "steps": [s.model_dump(mode="json") for s in self._structures[k]],
                        "runs": n,
                        "successes": self._successes.get(t, Counter()).get(k, 0),
                    }
                    for k, n in counts.items()
                ]
                for t, counts in self._runs.items()
            },
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what ``state_dict`` returned. A state of the wrong shape raises
        ``CorruptStateError`` (a ``ValueError``) naming the key; a template or structure that is
        not a valid graph raises ``build_task_graph``'s ``TaskGraphError``. Nothing changes then."""
        saved = read_model(_SavedLibrary, state, "state")
        fresh = TaskGraphLibrary(
            self.min_support if saved.min_support is None else saved.min_support,
            self.max_structures if saved.max_structures is None else saved.max_structures,
        )
        for task_type, steps in saved.templates.items():
            fresh.register_template(_saved_task_type("state.templates", task_type), steps)
        for task_type, entries in saved.runs.items():
            # as record_run keys it: a type kept with its spaces was never read, its structures lost
            task_type = _saved_task_type("state.runs", task_type)
            for entry in entries:
                runs, wins = entry.runs, entry.successes
                if not 0 <= wins <= runs or runs < 1:
                    raise CorruptStateError(
                        f"state.runs[{task_type!r}]: need 0 <= successes <= runs and runs >= 1, got "
                        f"{wins!r} of {runs!r}"
                    )
                steps = tuple(entry.steps)
                build_task_graph(steps)
                key = _structure_key(steps)
                fresh._structures.setdefault(key, steps)
                fresh._runs.setdefault(task_type, Counter())[key] += runs
                if wins:
                    fresh._successes.setdefault(task_type, Counter())[key] += wins
            if task_type in fresh._runs:
                fresh._trim(task_type)  # a state saved before the limit, or with a larger one
        self.__dict__.update(fresh.__dict__)


# --------------------------------------------------------------------------------------------------
# Assignment under budget
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """One tool that can serve a step, with the router's prediction for it there.

    ``success_prob`` is what the plan uses: pass a Thompson draw to explore, the posterior mean to
    exploit. ``utility`` is the per-call utility used to rank fallbacks; by default the expected
    utility of one call under the planning weights. ``Candidate.from_utility`` builds one from a
    policy's sampled utility.
    """

    tool_id: str
    success_prob: float
    cost: float = 0.0
    latency_s: float = 0.0
    utility: float | None = None
    quality: float = 1.0
    # (success, cost, latency, quality, utility or NaN): read in one go by the planner's hot path.
    _row: tuple[float, float, float, float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.tool_id, str) or not self.tool_id:  # the executor looks tools up by it
            raise ValueError(f"tool_id of candidate: expected a non-empty string, got {self.tool_id!r}")
        for name in ("success_prob", "cost", "latency_s", "quality", "utility"):
            value = getattr(self, name)
            if (type(value) is float and math.isfinite(value)) or (value is None and name == "utility"):
                continue
            object.__setattr__(self, name, _finite(self.tool_id, name, value))
        for name in ("success_prob", "quality"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(
                    f"{name} of candidate {self.tool_id!r} must lie in [0, 1], got {getattr(self, name)!r}"
                )
        if self.cost < 0 or self.latency_s < 0:
            raise ValueError(
                f"cost and latency_s of candidate {self.tool_id!r} must be >= 0, got "
                f"{self.cost!r} and {self.latency_s!r}"
            )
        row = (
            float(self.success_prob),
            float(self.cost),
            float(self.latency_s),
            float(self.quality),
            math.nan if self.utility is None else float(self.utility),
        )
        object.__setattr__(self, "_row", row)

    @classmethod
    def from_utility(
        cls,
        tool_id: str,
        utility: float,
        *,
        cost: float,
        latency_s: float,
        weights: UtilityWeights,
        quality: float = 1.0,
    ) -> "Candidate":
        """A candidate whose success probability is read off a (sampled) per-call utility.

        With ``u = p * (w_success + w_quality * quality) - w_cost * cost - w_latency * latency``
        (``UtilityWeights``), ``p = (u + w_cost * cost + w_latency * latency) / (w_success +
        w_quality * quality)``, clipped to [0, 1]: a Thompson draw of ``u`` is a draw of ``p``.
        """
        _check_weights(weights)
        # checked before they are computed with: a string or None failed in Python's words, naming
        # nothing, and a bool was taken for a number
        utility, cost, latency_s, quality = (
            _finite(tool_id, name, value)
            for name, value in (("utility", utility), ("cost", cost), ("latency_s", latency_s), ("quality", quality))
        )
        gain = weights.success + weights.quality * quality
        raw = (utility + weights.cost * cost + weights.latency * latency_s) / gain if gain > 0 else 1.0
        p = min(1.0, max(0.0, raw))
        return cls(tool_id, p, cost, latency_s, utility=utility, quality=quality)

    def expected_utility(self, weights: UtilityWeights) -> float:
        """Expected utility of one call under ``weights``."""
        gain = weights.success + weights.quality * self.quality
        return self.success_prob * gain - weights.cost * self.cost - weights.latency * self.latency_s

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        return {
            "tool_id": self.tool_id,
            "success_prob": self.success_prob,
            "cost": self.cost,
            "latency_s": self.latency_s,
            "utility": self.utility,
            "quality": self.quality,
        }


def _finite(tool_id: str, name: str, value: Any) -> float:
    """``value`` of candidate ``tool_id``'s field ``name`` as a finite float (an int, or a numpy
    number such as a policy's float32 draw, held as the float it is), else ``ValueError`` naming
    both; a bool is no number here."""
    if type(value) is float and math.isfinite(value):
        return value
    if not isinstance(value, bool) and isinstance(value, numbers.Real):
        value = float(value)
        if math.isfinite(value):
            return value
    raise ValueError(f"{name} of candidate {tool_id!r} must be finite, got {value!r}")


@dataclass(frozen=True)
class StepChoice:
    """The tool chosen for one step, and the fallbacks to try in order if it fails."""

    step_id: str
    capability: str
    depends_on: tuple[str, ...]
    tool: Candidate
    fallbacks: tuple[Candidate, ...] = ()

    @property
    def tool_ids(self) -> tuple[str, ...]:
        """The chosen tool, then the fallbacks."""
        return (self.tool.tool_id, *(c.tool_id for c in self.fallbacks))


@dataclass(frozen=True)
class Assignment:
    """A tool per step, with the plan's expected totals and how it was found.

    ``graph`` is a read-only copy of the graph it was planned on (its edges are the steps'
    ``depends_on``, which the executor runs by); ``steps`` is a read-only mapping of its own too (a
    step replaced by hand ran with a tool or dependencies the plan's totals and graph do not have).
    ``optimal`` is true when the solver proves optimality (``exact``, ``brute_force``).
    ``feasible`` is false only for a best-effort plan asked for with ``allow_infeasible=True``.
    A budget that is not a finite number > 0 raises ``ValueError`` naming it, in a copy made with
    ``dataclasses.replace`` too (the executor's ``enforce_budget`` compares with it).
    """

    graph: nx.DiGraph
    steps: Mapping[str, StepChoice]
    expected_utility: float
    expected_success: float
    expected_cost: float
    critical_path_latency_s: float
    feasible: bool
    method: str
    optimal: bool
    max_cost: float | None = None
    max_latency_s: float | None = None
    planning_time_s: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", types.MappingProxyType(dict(self.steps)))
        # a NaN or negative one had every call skipped as "over budget", a string failed the run
        for name in ("max_cost", "max_latency_s"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, check_real(name, getattr(self, name), low=0, low_open=True))

    # a mappingproxy neither pickles nor deep-copies: the state holds a plain dict
    def __getstate__(self) -> dict[str, Any]:
        return {**vars(self), "steps": dict(self.steps)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        vars(self).update(state, steps=types.MappingProxyType(state["steps"]))

    @property
    def order(self) -> list[str]:
        """Step ids in a topological order."""
        return list(self.steps)

    def stages(self) -> list[list[str]]:
        """Steps that can run at the same time, stage by stage."""
        return parallel_stages(self.graph)

    def tools(self) -> dict[str, str]:
        """The chosen tool id per step."""
        return {s: c.tool.tool_id for s, c in self.steps.items()}


def critical_path_latency(graph: nx.DiGraph, latency_s: Mapping[str, float]) -> float:
    """Length of the longest dependency chain, with ``latency_s[step]`` per step. A step without
    a latency raises ``KeyError``, one that is not a finite number >= 0 ``ValueError``, naming it
    (a NaN dropped out of the maximum, and the chain through it with it); ``TypeError`` for a
    graph that is not a ``networkx.DiGraph`` or latencies that are not a mapping,
    ``CyclicTaskGraphError`` for a graph with a cycle."""
    _check_graph(graph)
    _refuse_cycles(graph)
    _check_mapping("latency_s", latency_s)
    finish: dict[str, float] = {}
    for node in nx.topological_sort(graph):
        if node not in latency_s:
            raise KeyError(f"latency_s: no latency for step {node!r}")
        start = max((finish[p] for p in graph.predecessors(node)), default=0.0)
        finish[node] = start + check_real(f"latency_s[{node!r}]", latency_s[node], low=0)
    return max(finish.values(), default=0.0)


def _check_mapping(name: str, value: Any) -> None:
    """Raise ``TypeError`` naming ``name`` unless ``value`` is a mapping by step id (a list was
    searched for the step ids, and each step reported missing)."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name}: expected a mapping of step id to values, got {type(value).__name__}")


def _check_weights(weights: Any) -> None:
    """Raise ``TypeError`` naming ``weights`` unless they are ``UtilityWeights`` (None, say, failed
    later as an AttributeError naming nothing)."""
    if not isinstance(weights, UtilityWeights):
        raise TypeError(f"weights: expected UtilityWeights, got {weights!r:.100}")


def _default_value(weights: UtilityWeights) -> float:
    return weights.success + weights.quality


def plan_objective(
    graph: nx.DiGraph,
    chosen: Mapping[str, Candidate],
    weights: UtilityWeights,
    value: float | None = None,
) -> tuple[float, float, float, float]:
    """``(objective, success, cost, critical_path_latency_s)`` of a tool per step. A step without a
    ``Candidate`` raises ``KeyError`` naming it; a graph that is not a ``networkx.DiGraph``,
    ``chosen`` that is not a mapping, bad ``weights`` or ``value`` (not a finite number >= 0, as
    ``assign_tools`` takes it) ``TypeError`` or ``ValueError``, naming it."""
    _check_graph(graph)
    _check_mapping("chosen", chosen)
    _check_weights(weights)
    value = _default_value(weights) if value is None else check_real("value", value, low=0)
    for step in graph:
        if step not in chosen:
            raise KeyError(f"chosen: no tool for step {step!r}")
        if not isinstance(chosen[step], Candidate):
            raise TypeError(f"chosen[{step!r}]: expected a Candidate, got {chosen[step]!r:.100}")
    success = math.prod(chosen[s].success_prob for s in graph)
    cost = sum(chosen[s].cost for s in graph)
    cp = critical_path_latency(graph, {s: chosen[s].latency_s for s in graph})
    return value * success - weights.cost * cost - weights.latency * cp, success, cost, cp


def _finish_times(preds: list[tuple[int, ...]], lat: Sequence[float]) -> list[float]:
    # Plain loops over Python floats: several times faster than max() over generators here.
    finish: list[float] = []
    for i, ps in enumerate(preds):
        s = 0.0
        for j in ps:
            f = finish[j]
            if f > s:
                s = f
        finish.append(s + lat[i])
    return finish


class _Problem:
    """The planning problem in arrays: steps in topological order, Pareto-pruned candidates."""

    def __init__(
        self,
        graph: nx.DiGraph,
        candidates: Mapping[str, Sequence[Candidate]],
        weights: UtilityWeights,
        value: float,
        max_cost: float | None,
        max_latency_s: float | None,
        prune: bool = True,
    ) -> None:
        self.order = list(nx.topological_sort(graph))
        index = {s: i for i, s in enumerate(self.order)}
        self.preds = [tuple(index[p] for p in graph.predecessors(s)) for s in self.order]
        self.succs = [tuple(index[q] for q in graph.successors(s)) for s in self.order]
        self.n = len(self.order)
        self.value = value
        self.w_cost = weights.cost
        self.w_lat = weights.latency
        self.max_cost = math.inf if max_cost is None else max_cost
        self.max_lat = math.inf if max_latency_s is None else max_latency_s
        self.all_cands = [list(candidates[s]) for s in self.order]
        counts = np.array([len(cs) for cs in self.all_cands])
        width = int(counts.max())
        # Every candidate's (success, cost, latency, quality, utility or NaN) in one padded
        # (steps, width, 5) array, read once: pruning, the solvers and fallback ranking use it.
        self.all_valid = np.arange(width)[None, :] < counts[:, None]
        full = np.full((self.n, width, 5), np.nan)
        full[self.all_valid] = np.array([c._row for cs in self.all_cands for c in cs], dtype=float)
        self.all_full = full
        keep = _pareto_keep(full, self.all_valid) if prune else self.all_valid
        self.cands: list[list[Candidate]] = []
        self.p, self.logp, self.c, self.l = [], [], [], []
        for i, cs in enumerate(self.all_cands):
            idx = np.flatnonzero(keep[i])
            self.cands.append([cs[k] for k in idx.tolist()])
            raw = full[i, idx, :3]
            self.p.append(raw[:, 0])
            self.logp.append(np.log(np.maximum(raw[:, 0], 1e-300)))
            self.c.append(raw[:, 1])
            self.l.append(raw[:, 2])
        # Python lists for the scalar loops, arrays for the vector ones.
        self.logp_list = [a.tolist() for a in self.logp]
        self.c_list = [a.tolist() for a in self.c]
        self.l_list = [a.tolist() for a in self.l]
        self.space = math.prod(len(cs) for cs in self.cands)
        self._padded: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def padded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(log success, cost, latency, valid) as (steps, most candidates) arrays; steps with
        fewer candidates are padded, and ``valid`` masks the padding."""
        if self._padded is None:
            width = max(len(cs) for cs in self.cands)
            logp = np.zeros((self.n, width))
            cost = np.zeros((self.n, width))
            lat = np.zeros((self.n, width))
            valid = np.zeros((self.n, width), dtype=bool)
            for i, cs in enumerate(self.cands):
                m = len(cs)
                logp[i, :m], cost[i, :m], lat[i, :m] = self.logp[i], self.c[i], self.l[i]
                valid[i, :m] = True
            self._padded = (logp, cost, lat, valid)
        return self._padded

    def latencies(self, choice: Sequence[int]) -> list[float]:
        """Latency of the chosen candidate of each step."""
        return [self.l_list[i][k] for i, k in enumerate(choice)]

    def evaluate(self, choice: Sequence[int]) -> tuple[float, float, float, float]:
        """(objective, log success, cost, critical path) of candidate ``choice[i]`` per step."""
        logp = 0.0
        cost = 0.0
        for i, k in enumerate(choice):
            logp += self.logp_list[i][k]
            cost += self.c_list[i][k]
        cp = max(_finish_times(self.preds, self.latencies(choice)), default=0.0)
        obj = self.value * math.exp(logp) - self.w_cost * cost - self.w_lat * cp
        return obj, logp, cost, cp

    def feasible(self, cost: float, cp: float) -> bool:
        """Whether a plan with this cost and critical path meets the budget."""
        return cost <= self.max_cost + _EPS and cp <= self.max_lat + _EPS

    def violation(self, cost: float, cp: float) -> float:
        """How far a plan is over budget: the relative excess of cost plus that of latency."""
        v = 0.0
        if cost > self.max_cost:
            v += (cost - self.max_cost) / max(self.max_cost, _EPS)
        if cp > self.max_lat:
            v += (cp - self.max_lat) / max(self.max_lat, _EPS)
        return v

    def times(self, choice: Sequence[int]) -> tuple[list[float], list[float], list[float]]:
        """Start time, latency and tail (longest chain after the step ends) per step."""
        lat = self.latencies(choice)
        finish = _finish_times(self.preds, lat)
        start = [f - x for f, x in zip(finish, lat)]
        tail = [0.0] * self.n
        for i in range(self.n - 1, -1, -1):
            t = 0.0
            for j in self.succs[i]:
                v = lat[j] + tail[j]
                if v > t:
                    t = v
            tail[i] = t
        return start, lat, tail

    def critical_path_without(self, choice: Sequence[int], skip: int) -> float:
        """Critical path with step ``skip`` taking no time: the longest chain that avoids it."""
        lat = self.latencies(choice)
        lat[skip] = 0.0
        return max(_finish_times(self.preds, lat), default=0.0)


def _pareto_keep(full: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Which candidates no other candidate of the same step beats or equals on success, cost and
    latency at once (all steps in one batch): the objective and both constraints are monotone in
    each, so a dominated candidate is never needed. Of exact duplicates the first is kept."""
    p = np.where(valid, full[..., 0], -np.inf)
    c = np.where(valid, full[..., 1], np.inf)
    lat = np.where(valid, full[..., 2], np.inf)
    # [step, i, j]: candidate i dominates candidate j
    ge = (p[:, :, None] >= p[:, None, :]) & (c[:, :, None] <= c[:, None, :]) & (lat[:, :, None] <= lat[:, None, :])
    strict = (p[:, :, None] > p[:, None, :]) | (c[:, :, None] < c[:, None, :]) | (lat[:, :, None] < lat[:, None, :])
    width = valid.shape[1]
    earlier = np.arange(width)[:, None] < np.arange(width)[None, :]
    dominated = (ge & (strict | earlier[None]) & valid[:, :, None]).any(axis=1)
    return valid & ~dominated


def _brute_force(prob: _Problem) -> tuple[list[int] | None, list[int]]:
    """Every combination; (best feasible choice or None, least-violating choice)."""
    best, best_obj = None, -math.inf
    least, least_key = None, (math.inf, -math.inf)
    for choice in itertools.product(*(range(len(cs)) for cs in prob.cands)):
        obj, _, cost, cp = prob.evaluate(choice)
        if prob.feasible(cost, cp):
            if obj > best_obj + 1e-12:
                best, best_obj = list(choice), obj
        else:
            key = (prob.violation(cost, cp), -obj)
            if key < least_key:
                least, least_key = list(choice), key
    return best, (best if best is not None else least)  # type: ignore[return-value]


class _NodeLimit(Exception):
    """Branch and bound visited its budget of nodes without finishing."""


def _exact(
    prob: _Problem, incumbent: list[int] | None, node_limit: int | None = None, *, least: bool = False
) -> tuple[list[int] | None, bool]:
    """Branch and bound in topological order: (best choice, or ``None`` when no choice meets the
    budget; whether the search finished, i.e. the choice is proven optimal). With ``node_limit``
    it gives up after that many nodes and returns the best choice found so far. With ``least``,
    the choice is that of least budget violation (``_Problem.violation``), the best objective
    among equals, whether or not it meets the budget: the plan ``allow_infeasible`` asks for."""
    n = prob.n
    lmin = [float(l.min()) for l in prob.l]
    # tail_min[i]: shortest possible longest chain after step i ends (every later step at its
    # fastest candidate): finish_i + tail_min[i] bounds the critical path of every completion.
    tail_min = [0.0] * n
    for i in range(n - 1, -1, -1):
        tail_min[i] = max((lmin[j] + tail_min[j] for j in prob.succs[i]), default=0.0)
    cp_floor = max((lmin[i] + tail_min[i] for i in range(n) if not prob.preds[i]), default=0.0)
    suffix_cost = [0.0] * (n + 1)
    suffix_logp = [0.0] * (n + 1)
    for i in range(n - 1, -1, -1):
        suffix_cost[i] = suffix_cost[i + 1] + float(prob.c[i].min())
        suffix_logp[i] = suffix_logp[i + 1] + float(prob.logp[i].max())
    # Try promising candidates first so that good incumbents come early.
    orders = []
    for i in range(n):
        score = prob.value * prob.p[i] - prob.w_cost * prob.c[i] - prob.w_lat * prob.l[i]
        orders.append([int(k) for k in np.argsort(-score, kind="stable")])

    best = list(incumbent) if incumbent is not None else None
    best_obj, _, best_cost, best_cp = prob.evaluate(best) if best is not None else (-math.inf, 0.0, 0.0, 0.0)
    best_v = prob.violation(best_cost, best_cp) if best is not None else math.inf  # read with ``least``
    violation = prob.violation
    choice = [0] * n
    finish = [0.0] * n
    value, w_cost, w_lat, max_cost, max_lat = prob.value, prob.w_cost, prob.w_lat, prob.max_cost, prob.max_lat
    if least:  # no budget prunes: the violation's bound does
        max_cost = max_lat = math.inf

    limit = math.inf if node_limit is None else node_limit

    def children(i: int, logp: float, cost: float, cp_lb: float, cp: float) -> Iterator[tuple]:
        """The nodes under a node at step ``i`` that the bounds keep, best first; each sets its
        step's choice and finish time as it is taken (read by the steps after it). A complete
        plan is scored here rather than yielded."""
        nonlocal best, best_obj, best_v, nodes
        start = max((finish[j] for j in prob.preds[i]), default=0.0)
        ci, li, logpi = prob.c_list[i], prob.l_list[i], prob.logp_list[i]
        last = i + 1 == n
        for k in orders[i]:
            new_cost = cost + ci[k]
            if new_cost + suffix_cost[i + 1] > max_cost + _EPS:
                continue
            f = start + li[k]
            new_lb = max(cp_lb, f + tail_min[i])
            if new_lb > max_lat + _EPS:
                continue
            new_logp = logp + logpi[k]
            bound = (
                value * math.exp(new_logp + suffix_logp[i + 1])
                - w_cost * (new_cost + suffix_cost[i + 1])
                - w_lat * new_lb
            )
            if least:
                # every completion exceeds the budget at least as much as its cheapest, fastest one
                v_lb = violation(new_cost + suffix_cost[i + 1], new_lb)
                if v_lb > best_v + 1e-12 or (v_lb >= best_v - 1e-12 and bound <= best_obj + 1e-12):
                    continue
            elif bound <= best_obj + 1e-12:  # read as each child is taken: the incumbent improves
                continue
            nodes += 1
            if nodes > limit:
                raise _NodeLimit
            choice[i] = k
            finish[i] = f
            if last:
                obj = value * math.exp(new_logp) - w_cost * new_cost - w_lat * max(cp, f)
                if least:
                    v = violation(new_cost, max(cp, f))
                    if v < best_v - 1e-12 or (v <= best_v + 1e-12 and obj > best_obj + 1e-12):
                        best, best_obj, best_v = list(choice), obj, v
                elif obj > best_obj + 1e-12:
                    best, best_obj = list(choice), obj
            else:
                yield i + 1, new_logp, new_cost, new_lb, max(cp, f)

    # Depth first with a stack of the open nodes' children, not recursion: the search goes one
    # level per step, and a plan of a thousand steps would pass Python's recursion limit.
    nodes = 1  # the root
    stack: list[Iterator[tuple]] = [children(0, 0.0, 0.0, cp_floor, 0.0)]
    try:
        while stack:
            node = next(stack[-1], None)
            if node is None:
                stack.pop()
            else:
                stack.append(children(*node))
    except _NodeLimit:
        return best, False
    return best, True


def _price_moves(
    prob: _Problem, choice: list[int], logp: float, cost: float, cp: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For every single-step move (step i to candidate k) at once: the new objective, cost and
    critical path, and which moves exist (not padding, not the current choice).

    Off the critical path, a step's new latency gives the new critical path exactly
    (``max(cp, start + l' + tail)``); on it, the formula is optimistic (the longest chain avoiding
    the step may be longer), so callers check a move exactly before taking it.
    """
    logp_pad, cost_pad, lat_pad, valid = prob.padded()
    rows = np.arange(prob.n)
    start, lat, tail = prob.times(choice)
    through = np.add(start, tail)
    critical = through + np.asarray(lat) >= cp - 1e-12
    idx = np.asarray(choice)
    new_cost = cost - cost_pad[rows, idx][:, None] + cost_pad
    new_cp = np.maximum(np.where(critical, through, cp)[:, None], through[:, None] + lat_pad)
    new_obj = (
        prob.value * np.exp(logp - logp_pad[rows, idx][:, None] + logp_pad)
        - prob.w_cost * new_cost
        - prob.w_lat * new_cp
    )
    exists = valid.copy()
    exists[rows, idx] = False
    return new_obj, new_cost, new_cp, exists


def _violations(prob: _Problem, cost: np.ndarray | float, cp: np.ndarray | float) -> Any:
    over_cost = np.maximum(np.subtract(cost, prob.max_cost), 0.0) / max(prob.max_cost, _EPS)
    over_lat = np.maximum(np.subtract(cp, prob.max_lat), 0.0) / max(prob.max_lat, _EPS)
    return over_cost + over_lat


def _local_search(prob: _Problem, choice: list[int]) -> list[int]:
    """Best-improvement single-step moves that keep the plan feasible (see ``_price_moves``)."""
    choice = list(choice)
    obj, logp, cost, cp = prob.evaluate(choice)
    banned = np.zeros_like(prob.padded()[3])
    for _ in range(prob.n + 20):
        new_obj, new_cost, new_cp, exists = _price_moves(prob, choice, logp, cost, cp)
        ok = exists & ~banned & (new_cost <= prob.max_cost + _EPS) & (new_cp <= prob.max_lat + _EPS)
        new_obj = np.where(ok, new_obj, -np.inf)
        i, k = divmod(int(np.argmax(new_obj)), new_obj.shape[1])
        if not new_obj[i, k] > obj + 1e-12:
            break
        trial = list(choice)
        trial[i] = k
        t_obj, t_logp, t_cost, t_cp = prob.evaluate(trial)
        if prob.feasible(t_cost, t_cp) and t_obj > obj + 1e-12:
            choice, obj, logp, cost, cp = trial, t_obj, t_logp, t_cost, t_cp
            banned[:] = False
        else:
            banned[i, k] = True
    return choice


def _repair(prob: _Problem, choice: list[int]) -> list[int] | None:
    """Best-improvement single-step moves that shrink the budget violation; a feasible plan, or
    ``None`` if the moves get stuck first."""
    choice = list(choice)
    _, logp, cost, cp = prob.evaluate(choice)
    violation = float(_violations(prob, cost, cp))
    banned = np.zeros_like(prob.padded()[3])
    for _ in range(4 * prob.n + 20):
        if violation <= 0.0:
            return choice
        new_obj, new_cost, new_cp, exists = _price_moves(prob, choice, logp, cost, cp)
        new_v = np.where(exists & ~banned, _violations(prob, new_cost, new_cp), np.inf)
        # least violation first; among equals, the better objective
        best_v = new_v.min()
        if not best_v < violation - 1e-12:
            return None
        ties = np.where(new_v <= best_v + 1e-12, new_obj, -np.inf)
        i, k = divmod(int(np.argmax(ties)), ties.shape[1])
        trial = list(choice)
        trial[i] = k
        _, t_logp, t_cost, t_cp = prob.evaluate(trial)
        t_v = float(_violations(prob, t_cost, t_cp))
        if t_v < violation - 1e-12:
            choice, logp, cost, cp, violation = trial, t_logp, t_cost, t_cp, t_v
            banned[:] = False
        else:
            banned[i, k] = True
    return choice if violation <= 0.0 else None


def _lagrangian(
    prob: _Problem, iterations: int = 8, keep: int = 2
) -> tuple[list[list[int]], list[list[int]]]:
    """Priced relaxation; returns (up to ``keep`` best feasible choices, best first; up to three
    least-violating infeasible ones, least first, then the cheapest and the fastest plan when they
    are infeasible)."""
    n = prob.n
    logp, cost, lat, finite = prob.padded()
    padding = np.where(finite, 0.0, -np.inf)
    cost_scale = max(float(cost[finite].mean()), 1e-6)
    lat_scale = max(float(lat[finite].mean()), 1e-6)

    feasible: dict[tuple[int, ...], float] = {}
    infeasible: dict[tuple[int, ...], tuple[float, float]] = {}
    tried: set[tuple[int, ...]] = set()

    def consider(choice: list[int]) -> tuple[float, float, float, float]:
        res = prob.evaluate(choice)
        obj, _, c, cp = res
        tried.add(tuple(choice))
        if prob.feasible(c, cp):
            feasible[tuple(choice)] = obj
        else:
            infeasible[tuple(choice)] = (prob.violation(c, cp), -obj)
        return res

    # The two extreme plans, cheapest and fastest: either may already meet the budget.
    extremes = [
        [int(k) for k in np.argmax(padding - cost - 1e-9 * lat, axis=1)],
        [int(k) for k in np.argmax(padding - lat - 1e-9 * cost, axis=1)],
    ]
    for extreme in extremes:
        consider(extreme)

    # J is not concave: V * prod(p) rewards reliability only while the whole plan is likely to
    # succeed, so "go for success" and "spend little" are separate regimes. Start the priced
    # relaxation from several values of the success term's weight and keep the best plan seen.
    for factor in (1.0, 0.3, 0.1, 0.03, 0.0):
        alpha = prob.value * factor
        mu_c = 0.0
        mu_l = 0.0
        omega = np.ones(n)
        repeats = 0
        for _ in range(iterations):
            score = (
                padding
                + max(alpha, 1e-12) * logp
                - (prob.w_cost + mu_c) * cost
                - (prob.w_lat + mu_l) * omega[:, None] * lat
            )
            choice = np.argmax(score, axis=1).tolist()
            if tuple(choice) in tried:
                repeats += 1
                if repeats >= 2:
                    break
            obj, lp, c, cp = consider(choice)
            alpha = prob.value * math.exp(lp)
            # How critical each step is: 1 on the longest chain, falling off with slack, so that
            # steps off the critical path are not charged for latency the plan does not feel.
            if cp > 0:
                start, step_lat, tail = prob.times(choice)
                through = (np.array(start) + np.array(step_lat) + np.array(tail)) / cp
                omega = np.clip(through, 0.0, 1.0) ** 8
            # Multipliers follow the violations, scaled so one unit is comparable to the success
            # term.
            base = max(alpha, prob.value * 1e-3)
            mu_c = mu_c * 1.7 + 0.2 * base / cost_scale if c > prob.max_cost + _EPS else mu_c * 0.6
            mu_l = mu_l * 1.7 + 0.2 * base / lat_scale if cp > prob.max_lat + _EPS else mu_l * 0.6
    ranked = [list(k) for k in sorted(feasible, key=feasible.__getitem__, reverse=True)[:keep]]
    least = [list(k) for k in sorted(infeasible, key=infeasible.__getitem__)[:3]]
    # The extremes too, as starts to repair from: when latency binds, single moves from a plan
    # with slow parallel branches cannot shorten them all, while the fastest plan only has to
    # shed cost (and the cheapest only time, when cost binds).
    least += [e for e in extremes if tuple(e) in infeasible and e not in least]
    return ranked, least


def _fallback_order(prob: _Problem, weights: UtilityWeights, room: float) -> np.ndarray:
    """Per step, candidate indices best first: those whose cost fits in ``room`` (what the plan
    leaves of its ``max_cost``) before the others, each by utility (the given one, else the
    expected one), ties in the caller's order; padding last."""
    p, c, lat, q, u = (prob.all_full[..., k] for k in range(5))
    expected = p * (weights.success + weights.quality * q) - weights.cost * c - weights.latency * lat
    key = np.where(np.isnan(u), expected, u)
    key = np.where(prob.all_valid, key, -np.inf)
    fits = c <= room + _EPS  # False for the padding's NaN
    return np.lexsort((-key, ~fits), axis=1)  # stable, by fit first


def _fallbacks(
    all_cands: Sequence[Candidate], order: Sequence[int], chosen: Candidate, limit: int
) -> tuple[Candidate, ...]:
    out: list[Candidate] = []
    if limit == 0:
        return ()
    for k in order:
        if k >= len(all_cands):
            break  # padding
        if all_cands[k].tool_id != chosen.tool_id:
            out.append(all_cands[k])
            if len(out) == limit:
                break
    return tuple(out)


def assign_tools(
    graph: nx.DiGraph,
    candidates: Mapping[str, Sequence[Candidate]],
    *,
    weights: UtilityWeights | None = None,
    max_cost: float | None = None,
    max_latency_s: float | None = None,
    value: float | None = None,
    method: PlanningMethod = "auto",
    allow_infeasible: bool = False,
    max_fallbacks: int = 3,
    exact_limit: int = 20_000,
    local_search: bool = True,
) -> Assignment:
    """Choose one candidate per step of ``graph`` under the budget (see the module docstring).

    Arguments:
        graph: a DAG from ``build_task_graph``.
        candidates: per step id, the tools that can serve it with their predictions.
        weights: utility weights (cost and latency prices); default ``UtilityWeights()``.
        max_cost, max_latency_s: the budget; ``None`` is unbounded.
        value: what a fully successful run is worth; default ``w_success + w_quality``.
        method: ``auto``, ``exact``, ``lagrangian`` or ``brute_force`` (tests and benchmarks).
        allow_infeasible: return the least-violating plan flagged ``feasible=False`` instead of
            raising ``BudgetInfeasibleError``.
        max_fallbacks: how many fallbacks to keep per step, in the order to try them: by utility
            (``Candidate.utility``, else the expected one), except that under ``max_cost`` the
            tools whose cost fits in what the plan leaves of it (``max_cost - expected_cost``: a
            fallback runs after the step's tool was paid for) come before those that do not, which
            the executor's ``enforce_budget`` may skip.
        exact_limit: ``auto`` runs branch and bound, seeded with the fast plan, when the pruned
            search space has at most ``exact_limit ** 2`` combinations, and stops it after
            ``exact_limit`` nodes (then the plan is the best found, ``optimal=False``).
        local_search: improve the ``lagrangian`` plan with single-step moves.

    Raises:
        KeyError: a step without candidates (naming the step); ValueError or TypeError for a
        bad argument (naming it); TaskGraphError for a graph without steps, CyclicTaskGraphError
        for a graph with a cycle;
        BudgetInfeasibleError: no plan meets the budget and ``allow_infeasible`` is false.
    """
    t0 = time.perf_counter()
    if weights is None:
        weights = UtilityWeights()
    else:
        _check_weights(weights)
    value = _default_value(weights) if value is None else check_real("value", value, low=0)
    if max_cost is not None:
        max_cost = check_real("max_cost", max_cost, low=0, low_open=True)
    if max_latency_s is not None:
        max_latency_s = check_real("max_latency_s", max_latency_s, low=0, low_open=True)
    if method not in ("auto", "exact", "lagrangian", "brute_force"):
        raise ValueError(f"method must be auto, exact, lagrangian or brute_force, got {method!r}")
    max_fallbacks = check_count("max_fallbacks", max_fallbacks)
    exact_limit = check_count("exact_limit", exact_limit, low=1)
    for name, flag in (("allow_infeasible", allow_infeasible), ("local_search", local_search)):
        if not isinstance(flag, bool):  # "no" would have been taken for True
            raise TypeError(f"{name}: expected True or False, got {flag!r}")
    _check_graph(graph)
    if not graph:  # the solvers failed on it in numpy's words ("zero-size array to reduction operation")
        raise TaskGraphError("graph: a plan needs at least one step, got none")
    _refuse_cycles(graph)  # the solvers' topological sort would fail in networkx's words
    if not isinstance(candidates, Mapping):
        raise TypeError(f"candidates: expected a mapping of step id to candidates, got {type(candidates).__name__}")
    listed: dict[str, list[Candidate]] = {}  # read once: a generator would be spent by these checks
    for step in graph:
        cands = candidates.get(step)
        if isinstance(cands, (Candidate, str, bytes, Mapping)) or not isinstance(cands, Iterable | None):
            raise TypeError(f"candidates[{step!r}]: expected a list of Candidate, got {cands!r:.100}")
        cands = listed[step] = list(cands or ())
        if not cands:
            raise KeyError(f"candidates: step {step!r} has no candidate tools")
        for j, c in enumerate(cands):
            if not isinstance(c, Candidate):
                raise TypeError(f"candidates[{step!r}][{j}]: expected a Candidate, got {c!r:.100}")
        ids = [c.tool_id for c in cands]
        if len(set(ids)) != len(ids):
            raise ValueError(f"candidates: step {step!r} lists a tool twice: {ids!r}")

    prob = _Problem(
        graph, listed, weights, value, max_cost, max_latency_s, prune=method != "brute_force"
    )
    node_limit = None
    if method == "auto":
        # Branch and bound, seeded with the fast plan, usually prunes hard: try it on any plan of
        # moderate size, but give up after exact_limit nodes rather than stall a decision.
        method = "exact" if prob.space <= exact_limit**2 else "lagrangian"
        node_limit = exact_limit

    least: list[int] | None
    exact = method == "exact"
    if method == "brute_force":
        best, least = _brute_force(prob)
        optimal = True
    else:
        starts, near_misses = _lagrangian(prob)
        least = near_misses[0] if near_misses else (starts[0] if starts else None)
        for near in near_misses if not starts else ():
            # The relaxation never landed inside the budget: walk out of the violation instead.
            repaired = _repair(prob, near)
            if repaired is not None:
                starts = [repaired]
                break
        best = None
        if starts:
            if local_search:
                starts = [_local_search(prob, start) for start in starts]
            best = max(starts, key=lambda ch: prob.evaluate(ch)[0])
        optimal = False
        if exact:
            best, optimal = _exact(prob, best, node_limit)
            if not optimal:
                method = "lagrangian"  # what the plan comes from: B&B did not finish
    feasible = best is not None
    if not feasible:
        min_cost = sum(float(c.min()) for c in prob.c)
        min_cp = prob.evaluate([int(np.argmin(l)) for l in prob.l])[3]
        message = (
            f"no plan meets the budget max_cost={max_cost!r}, max_latency_s={max_latency_s!r} "
            f"(cheapest plan costs {min_cost:.6g}; fastest critical path {min_cp:.6g} s"
            + ("" if optimal else f"; searched with {method}")
            + ")"
        )
        if not allow_infeasible:
            log.info("plan_infeasible", max_cost=max_cost, max_latency_s=max_latency_s, method=method)
            raise BudgetInfeasibleError(message)
        if exact:  # the relaxation's near misses are not the least violation: search it as the best plan
            least = _exact(prob, least, node_limit, least=True)[0]
        best = least
        info = {"infeasible_reason": message}
    else:
        info = {}
    assert best is not None
    obj, logp, cost, cp = prob.evaluate(best)
    steps: dict[str, StepChoice] = {}
    # a fallback runs once its step's tool failed, whose call was paid for: under a budget, those that
    # fit in what the plan leaves of it come first (a few pricier ones with more utility took every
    # place, and enforce_budget skipped them all while a cheaper tool would have fit)
    fallback_order = _fallback_order(prob, weights, prob.max_cost - cost).tolist() if max_fallbacks else [[]] * prob.n
    for i, step in enumerate(prob.order):
        chosen = prob.cands[i][best[i]]
        steps[step] = StepChoice(
            step_id=step,
            capability=graph.nodes[step].get("capability", ANY_CAPABILITY),
            depends_on=tuple(graph.predecessors(step)),
            tool=chosen,
            fallbacks=_fallbacks(prob.all_cands[i], fallback_order[i], chosen, max_fallbacks),
        )
    elapsed = time.perf_counter() - t0
    info.update(search_space=prob.space, pruned_candidates=sum(len(c) for c in prob.cands))
    log.debug(
        "plan_assigned",
        steps=prob.n,
        method=method,
        feasible=feasible,
        objective=obj,
        cost=cost,
        critical_path_s=cp,
        planning_ms=elapsed * 1e3,
    )
    return Assignment(
        # its own, read-only: the steps' depends_on (what the executor runs by) are the graph's edges
        # now, and a caller's graph edited later changed the stages of an assignment made before
        graph=nx.freeze(graph.copy()),
        steps=steps,
        expected_utility=float(obj),
        expected_success=float(math.exp(logp)),
        expected_cost=float(cost),
        critical_path_latency_s=float(cp),
        feasible=feasible,
        method=method,
        optimal=optimal and feasible,
        max_cost=max_cost,
        max_latency_s=max_latency_s,
        planning_time_s=elapsed,
        info=info,
    )


# --------------------------------------------------------------------------------------------------
# The router's decisions -> a plan under budget
# --------------------------------------------------------------------------------------------------
def candidates_from_choices(
    choices: Sequence[Any],
    weights: UtilityWeights,
    reward_bounds: tuple[float, float] | None = None,
) -> list[Candidate]:
    """Planner candidates from the router's per-tool predictions (``plan.ToolChoice``).

    The success probability is read off the policy's exploratory ``score``: directly when the policy
    learns success in ``reward_bounds`` (Beta-Bernoulli), else through the utility definition
    (``Candidate.from_utility``) with the predicted cost and latency, so a Thompson draw of utility
    becomes a draw of success. An untried tool's score of +inf (UCB1, epsilon-greedy) is planned
    as sure to succeed.
    """
    _check_weights(weights)
    out = []
    for c in choices:
        if c.score == math.inf:
            # an optimistic index's "never tried" (UCB1, epsilon-greedy): planned as a tool sure to
            # succeed, so that a plan under a budget or over several steps tries it as one step does
            out.append(Candidate(c.tool_id, 1.0, c.predicted_cost, c.predicted_latency_s))
        elif reward_bounds is not None:
            lo, hi = reward_bounds
            p = min(1.0, max(0.0, (c.score - lo) / (hi - lo))) if hi > lo else c.predicted_success
            out.append(Candidate(c.tool_id, p, c.predicted_cost, c.predicted_latency_s, utility=c.score))
        else:
            out.append(
                Candidate.from_utility(
                    c.tool_id,
                    c.score,
                    cost=c.predicted_cost,
                    latency_s=c.predicted_latency_s,
                    weights=weights,
                )
            )
    return out


def plan_decisions(
    decisions: Sequence[Any],
    *,
    weights: UtilityWeights,
    max_cost: float | None = None,
    max_latency_s: float | None = None,
    reward_bounds: tuple[float, float] | None = None,
    allow_infeasible: bool = False,
    method: PlanningMethod = "auto",
) -> tuple[list[Any], Assignment]:
    """Re-choose the tool of every step of the router's per-step decisions (``plan.PlanStep``, each
    with its candidates scored) jointly, under the budget; see ``assign_tools``.

    Returns the steps with the planned tool first and the other candidates after it in the order to
    fall back in (as ``assign_tools`` ranks fallbacks: under ``max_cost``, those whose predicted cost
    fits in what the plan leaves of it first; each best posterior mean first), and the
    ``Assignment`` (objective, feasibility, method).
    Raises ``TypeError`` naming a decision that is not a ``PlanStep`` or weights that are not
    ``UtilityWeights``, ``ValueError`` for ``reward_bounds`` that are not two finite numbers, the
    lower first (their span was read as nothing to learn from, silently).
    """
    _check_weights(weights)
    if isinstance(decisions, (str, bytes, Mapping, PlanStep)) or not isinstance(decisions, Iterable):
        raise TypeError(f"decisions: expected a list of PlanStep, got {decisions!r:.100}")
    decisions = list(decisions)  # read more than once below: a generator would be spent
    for i, d in enumerate(decisions):
        if not isinstance(d, PlanStep):
            raise TypeError(f"decisions[{i}]: expected a PlanStep, got {d!r:.100}")
    if reward_bounds is not None:
        if not isinstance(reward_bounds, (tuple, list)) or len(reward_bounds) != 2:
            raise ValueError(f"reward_bounds: expected (low, high), got {reward_bounds!r:.100}")
        low = check_real("reward_bounds[0]", reward_bounds[0])
        check_real("reward_bounds[1]", reward_bounds[1], low=low, low_open=True)
    steps = [
        TaskStep(
            step_id=d.step,
            capability=d.capability if d.capability is not None else ANY_CAPABILITY,
            depends_on=d.depends_on,
        )
        for d in decisions
    ]
    graph = build_task_graph(steps)
    by_step = {d.step: d for d in decisions}
    candidates = {
        d.step: candidates_from_choices(d.candidates, weights, reward_bounds) for d in decisions
    }
    assignment = assign_tools(
        graph,
        candidates,
        weights=weights,
        max_cost=max_cost,
        max_latency_s=max_latency_s,
        method=method,
        allow_infeasible=allow_infeasible,
        max_fallbacks=0,
    )
    room = assignment.max_cost - assignment.expected_cost if assignment.max_cost is not None else math.inf
    planned = []
    for d in decisions:
        chosen = assignment.steps[d.step].tool.tool_id
        first = next(c for c in d.candidates if c.tool_id == chosen)
        rest = sorted(
            (c for c in d.candidates if c.tool_id != chosen),
            key=lambda c: (c.predicted_cost > room + _EPS, -c.expected_utility, -c.score),
        )
        planned.append(
            PlanStep(
                step=d.step,
                capability=by_step[d.step].capability,
                candidates=(first, *rest),
                depends_on=d.depends_on,
            )
        )
    return planned, assignment
