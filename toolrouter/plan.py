"""``ExecutionPlan``: which tool runs each step of a task, with ranked fallbacks and predictions.

The plan is a ``networkx.DiGraph`` of steps from the start: an edge ``a -> b`` means step ``b``
needs step ``a``'s output. The steps are the task's own (``TaskProfile.steps``, or
``required_capabilities`` as a chain), a template registered for its type, or, for a task that
declares none, the structure the router learned (``toolrouter.structure``); ``plan.structure`` says
which, and how sure the router is.

Example:
    >>> from toolrouter import ToolMetaLearner, ToolProfile, TaskProfile
    >>> router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
    >>> plan = router.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["search"]))
    >>> plan.tool_for("search")
    'web'
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal, get_args

import networkx as nx

from toolrouter._checks import check_count, check_real
from toolrouter.errors import CyclicTaskGraphError, DanglingDependencyError, TaskGraphError
from toolrouter.models import _identifier

__all__ = ["ToolChoice", "PlanStep", "PlanStructure", "ExecutionPlan"]


@dataclass(frozen=True)
class ToolChoice:
    """One candidate tool for a step, with what the router predicts for it.

    ``score`` is the policy's exploratory score (a Thompson draw or a UCB index) that ranked it,
    +inf for a tool drift detection rechecks (planned, as a tool never tried, to run; a plan's
    description writes it as the string ``"Infinity"``, see ``ExecutionPlan.to_dict``);
    ``expected_utility`` the posterior mean utility (``beta_ts``, which learns success alone: the
    posterior success probability); the predictions blend the tool's profile (its
    prior) with the outcomes seen so far at this step.
    """

    tool_id: str
    score: float
    expected_utility: float
    predicted_success: float
    predicted_cost: float
    predicted_latency_s: float


@dataclass(frozen=True)
class PlanStep:
    """A step of the plan: the capability it needs, the chosen tool first, then the fallbacks in the
    order they should be tried."""

    step: str
    capability: str | None
    candidates: tuple[ToolChoice, ...]
    depends_on: tuple[str, ...] = ()

    @property
    def choice(self) -> ToolChoice:
        """The chosen tool."""
        return self.candidates[0]

    @property
    def tool_id(self) -> str:
        """Id of the chosen tool."""
        return self.candidates[0].tool_id

    @property
    def fallbacks(self) -> tuple[ToolChoice, ...]:
        """The other candidates, best first."""
        return self.candidates[1:]

    @property
    def ranked_tool_ids(self) -> tuple[str, ...]:
        """Every candidate's id, in the order to try them."""
        return tuple(c.tool_id for c in self.candidates)


StructureSource = Literal["declared", "template", "learned", "predicted", "default"]


@dataclass(frozen=True)
class PlanStructure:
    """Where a plan's steps came from, and how sure the router is of them.

    ``source``: ``"declared"`` (the task's ``steps`` or ``required_capabilities``), ``"template"``
    (registered for its task type), ``"learned"`` (the structure the task type's traces ran most
    probably), ``"predicted"`` (from the request text and other task types' traces) or
    ``"default"`` (one step any tool may serve). For the last three, ``probability`` is the
    structure's probability among the candidates, ``traces`` how many of the task type's traces ran
    it, of ``task_type_traces``, and ``sampled`` whether it was drawn (Thompson sampling over
    structures) rather than the most probable.
    """

    source: StructureSource = "declared"
    probability: float | None = None
    traces: int | None = None
    task_type_traces: int | None = None
    sampled: bool = False


class _StepAttributes(dict):
    """A plan node's attributes, read-only as the frozen graph's edges are: a ``plan_step``
    replaced by hand ran with dependencies its edges do not have. A copy of the graph
    (``graph.copy()``) holds plain dicts again."""

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("plan graph: a step's attributes are read-only; make a new plan with ExecutionPlan.from_steps")

    __setitem__ = __delitem__ = __ior__ = update = setdefault = pop = popitem = clear = _read_only  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:  # pickled and deep-copied without __setitem__
        return (_StepAttributes, (dict(self),))


@dataclass
class ExecutionPlan:
    """A task's steps as a DAG (``graph``, nodes are step names with a ``plan_step`` attribute).

    The graph's edges are the steps' ``depends_on``, which the executor runs by: it is frozen
    (``networkx.freeze``; its nodes' attributes are read-only too), and one, given or set later,
    that disagrees with its steps raises ``TaskGraphError`` naming the step, one with a cycle
    ``CyclicTaskGraphError`` (make a new plan with ``from_steps`` to change the steps). Totals
    assume each step's chosen tool: ``expected_cost`` sums their predicted costs,
    ``expected_latency_s`` is the critical path (steps that do not depend on each other overlap),
    ``predicted_success`` the chance that every step succeeds on its first try. ``structure`` says
    where the steps came from (``PlanStructure``): another value raises ``TypeError`` (as a task id
    or type that is not a string does, or metadata that is not a dict), and a budget that is not a
    finite number > 0 ``ValueError``, whether given to the plan or set on it later
    (``plan.max_cost = 2.0``; a value refused leaves the plan's own).
    """

    task_id: str
    task_type: str
    graph: nx.DiGraph
    max_cost: float | None = None
    max_latency_s: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    structure: PlanStructure = field(default_factory=PlanStructure)

    @classmethod
    def from_steps(
        cls,
        task_id: str,
        task_type: str,
        steps: list[PlanStep],
        *,
        max_cost: float | None = None,
        max_latency_s: float | None = None,
        structure: PlanStructure | None = None,
    ) -> "ExecutionPlan":
        """A plan whose graph has one node per step and an edge from each dependency.

        Raises ``TaskGraphError`` for no steps, a step name used twice or a step without candidates,
        ``DanglingDependencyError`` for a dependency on a missing step and ``CyclicTaskGraphError``
        for a cycle (each names the step); ``ValueError`` for a budget that is not a finite number
        > 0 (``within_budget`` and the executor's ``enforce_budget`` compare with it), and for a
        step or candidate field a plan cannot hold (a name that is not text as a ``TaskStep``
        holds it, stripped; a prediction that is not a finite number in its range, a tool or a
        dependency listed twice in a step), naming it; ``TypeError`` for a
        task id or type that is not a string, a step that is not a ``PlanStep`` or a structure that
        is not a ``PlanStructure``.
        """
        if structure is not None:
            if not isinstance(structure, PlanStructure):
                raise TypeError(f"structure: expected a PlanStructure, got {structure!r:.100}")
            _check_structure("structure", structure)
            whole = {n: None if getattr(structure, n) is None else int(getattr(structure, n)) for n in ("traces", "task_type_traces")}
            probability = None if structure.probability is None else float(structure.probability)
            structure = replace(structure, probability=probability, **whole)
        if isinstance(steps, (str, bytes, Mapping, PlanStep)) or not isinstance(steps, Iterable):
            raise TypeError(f"steps: expected a list of PlanStep, got {steps!r:.100}")
        steps = list(steps)
        for i, s in enumerate(steps):
            if not isinstance(s, PlanStep):
                raise TypeError(f"steps[{i}]: expected a PlanStep, got {s!r:.100}")
            # the executor would charge a NaN or negative predicted cost, and the totals sum it
            _check_step(f"steps[{i}]", s)
            steps[i] = _with_floats(s)
        return cls._of_steps(task_id, task_type, steps, max_cost, max_latency_s, structure)

    @classmethod
    def _of_steps(
        cls,
        task_id: str,
        task_type: str,
        steps: list[PlanStep],
        max_cost: float | None,
        max_latency_s: float | None,
        structure: PlanStructure | None,
    ) -> "ExecutionPlan":
        """``from_steps`` of steps whose fields are sound (the router's own decisions, from numbers
        it checked): only the graph is checked, without the cost of checking every prediction."""
        if not steps:  # the executor would refuse it as not a plan
            raise TaskGraphError("steps: a plan needs at least one step, got none")
        graph = nx.DiGraph()
        for i, s in enumerate(steps):
            if s.step in graph:
                raise TaskGraphError(f"steps[{i}].step: step {s.step!r} is used twice")
            if not s.candidates:
                raise TaskGraphError(f"steps[{i}].candidates: step {s.step!r} has no candidate tool")
            graph.add_node(s.step, plan_step=s)
        for s in steps:
            for dep in s.depends_on:
                if dep not in graph:
                    raise DanglingDependencyError(s.step, dep)
                graph.add_edge(dep, s.step)
        return cls(task_id, task_type, graph, max_cost, max_latency_s, structure=structure or PlanStructure())

    def __setattr__(self, name: str, value: Any) -> None:
        # checked as they are set, after the plan was made too, and a value refused leaves the plan
        # as it was: a budget set to NaN or below 0 later had every call skipped as "over budget"
        if name in ("task_id", "task_type"):  # to_dict wrote another value, from_dict refused it
            if not isinstance(value, str):
                raise TypeError(f"{name}: expected a string, got {value!r:.100}")
        elif name == "structure":  # to_dict and every reader of it failed later
            if not isinstance(value, PlanStructure):
                raise TypeError(f"structure: expected a PlanStructure, got {value!r:.100}")
        elif name == "metadata":  # to_json wrote another value (None, a list), and from_json refused it
            if not isinstance(value, dict):
                raise TypeError(f"metadata: expected a dict, got {value!r:.100}")
        elif name in ("max_cost", "max_latency_s") and value is not None:
            # held as Python's numbers (a numpy number is one no JSON writer takes: to_json failed),
            # in the range the planner and the executor's enforce_budget compare with
            value = check_real(name, value, low=0, low_open=True)
        elif name == "graph" and "graph" in vars(self):  # swapped in later: as __post_init__ checks one given
            self._freeze_graph(value)
        super().__setattr__(name, value)

    def __post_init__(self) -> None:
        self._freeze_graph(self.graph)  # once the other fields are checked: it freezes the caller's graph

    @staticmethod
    def _freeze_graph(graph: Any) -> None:
        """Check that ``graph`` is a plan's, then freeze it, its nodes' attributes too."""
        if not isinstance(graph, nx.DiGraph):  # failed in networkx's words, or as an AttributeError
            raise TypeError(f"graph: expected a networkx.DiGraph, got {graph!r:.100}")
        # the executor and to_dict read each step's depends_on, the totals and stages the edges: an
        # edge added by hand ran without it, and a node without a step broke .steps with a KeyError
        for name, data in graph.nodes(data=True):
            step = data.get("plan_step")
            if not isinstance(step, PlanStep) or step.step != name:
                raise TaskGraphError(f"graph: node {name!r} holds no PlanStep of that name, got {step!r:.100}")
            if graph.pred[name].keys() != set(step.depends_on):
                raise TaskGraphError(
                    f"graph: step {name!r} depends on {sorted(step.depends_on)}, "
                    f"its edges come from {sorted(graph.pred[name])}"
                )
        if not nx.is_directed_acyclic_graph(graph):  # .steps, the totals and the stages sort it
            raise CyclicTaskGraphError([u for u, _ in nx.find_cycle(graph)])
        nx.freeze(graph)  # no node or edge added or removed
        for name in graph:  # nor a step replaced, checked above against the edges
            graph._node[name] = _StepAttributes(graph._node[name])

    # --- access ------------------------------------------------------------------------------
    @property
    def steps(self) -> list[PlanStep]:
        """The steps in a topological order (ties broken by name, so the order is stable)."""
        return [self.graph.nodes[n]["plan_step"] for n in self.topological_order()]

    def topological_order(self) -> list[str]:
        """Step names, dependencies first (ties broken by name)."""
        return list(nx.lexicographical_topological_sort(self.graph))

    def stages(self) -> list[list[str]]:
        """Groups of steps that can run at the same time, in order."""
        return [sorted(g) for g in nx.topological_generations(self.graph)]

    def step(self, name: str) -> PlanStep:
        """The ``PlanStep`` called ``name``; ``KeyError`` naming it if there is none."""
        try:
            return self.graph.nodes[name]["plan_step"]
        except KeyError:
            raise KeyError(f"step: plan of task {self.task_id!r} has no step {name!r}") from None

    def tool_for(self, step: str) -> str:
        """The chosen tool of ``step``."""
        return self.step(step).tool_id

    @property
    def assignments(self) -> dict[str, str]:
        """Step name -> chosen tool id."""
        return {s.step: s.tool_id for s in self.steps}

    def __iter__(self) -> Iterator[PlanStep]:
        return iter(self.steps)

    def __len__(self) -> int:
        return self.graph.number_of_nodes()

    # --- totals ------------------------------------------------------------------------------
    @property
    def expected_cost(self) -> float:
        """Sum of the chosen tools' predicted costs."""
        return float(sum(s.choice.predicted_cost for s in self.steps))

    @property
    def expected_latency_s(self) -> float:
        """Critical-path latency of the chosen tools."""
        finish: dict[str, float] = {}
        for name in nx.topological_sort(self.graph):
            start = max((finish[p] for p in self.graph.predecessors(name)), default=0.0)
            finish[name] = start + self.step(name).choice.predicted_latency_s
        return float(max(finish.values(), default=0.0))

    @property
    def predicted_success(self) -> float:
        """Chance that every step succeeds with its chosen tool."""
        return float(math.prod(s.choice.predicted_success for s in self.steps))

    @property
    def expected_utility(self) -> float:
        """Sum of the chosen tools' expected utilities."""
        return float(sum(s.choice.expected_utility for s in self.steps))

    @property
    def within_budget(self) -> bool:
        """Whether the expected totals fit the task's ``max_cost`` and ``max_latency_s`` (as the
        planner judges it: see ``fits_budget``)."""
        return fits_budget(self.expected_cost, self.max_cost) and fits_budget(self.expected_latency_s, self.max_latency_s)

    # --- JSON --------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description; ``ExecutionPlan.from_dict`` reads it back.

        A +inf ``score`` (a tool never tried, or one drift detection rechecks) is written as the
        string ``"Infinity"``: strict JSON has no infinity (``JSON.parse``, ``jq`` and PostgreSQL's
        ``json`` refuse the bare ``Infinity`` token), and every such reader turns that string back
        into the number (``Number("Infinity")``, ``'Infinity'::float8``, ``float("Infinity")``)."""
        return {
            "task_id": self.task_id,
            "task_type": self.task_type,
            "max_cost": self.max_cost,
            "max_latency_s": self.max_latency_s,
            "metadata": copy.deepcopy(self.metadata),  # a description, not a handle on the plan
            "structure": asdict(self.structure),
            "steps": [
                {
                    "step": s.step,
                    "capability": s.capability,
                    "depends_on": list(s.depends_on),
                    "candidates": [_choice_to_dict(c) for c in s.candidates],
                }
                for s in self.steps
            ],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ExecutionPlan":
        """The plan ``to_dict`` described; a description that lacks a field or holds one of the
        wrong shape (a name that is not stripped text, a prediction that is not a finite number, a tool
        or a dependency listed twice in a step, a budget that is not a positive number, a
        structure's source the router does not make or a probability outside [0, 1]) raises
        ``ValueError`` naming it, a bad graph as ``from_steps`` does."""
        where = "data"
        try:
            if not isinstance(data, Mapping):
                raise TypeError(f"expected a mapping, got {type(data).__name__}")
            steps = []
            for i, s in enumerate(_listed(data["steps"])):
                where = f"data['steps'][{i}]"
                candidates = tuple(ToolChoice(**_choice_from_dict(c)) for c in _listed(s["candidates"]))
                steps.append(PlanStep(
                    step=s["step"],
                    capability=s["capability"],
                    depends_on=tuple(_listed(s["depends_on"])),
                    candidates=candidates,
                ))
                _check_step(where, steps[-1])
            where = "data"
            task_id, task_type = data["task_id"], data["task_type"]
            structure = PlanStructure(**data["structure"]) if "structure" in data else None
            metadata = data.get("metadata", {})
            if not isinstance(metadata, Mapping):
                raise TypeError(f"metadata: expected a mapping, got {type(metadata).__name__}")
        except KeyError as exc:
            raise ValueError(f"{where}: missing field {exc}") from None
        except TypeError as exc:
            raise ValueError(f"{where}: not a plan description ({exc})") from None
        for name in ("task_id", "task_type"):
            if not isinstance(data[name], str):
                raise ValueError(f"data['{name}']: expected a string, got {data[name]!r}")
        for name in ("max_cost", "max_latency_s"):
            bound = data.get(name)
            if bound is not None and not (_real(bound) and bound > 0):
                raise ValueError(f"data['{name}']: expected a finite number > 0 or None, got {bound!r}")
        if structure is not None:
            _check_structure("data['structure']", structure)
        plan = cls.from_steps(
            task_id,
            task_type,
            steps,
            max_cost=data.get("max_cost"),
            max_latency_s=data.get("max_latency_s"),
            structure=structure,
        )
        plan.metadata = copy.deepcopy(dict(metadata))
        return plan

    def to_json(self, **dumps_options: Any) -> str:
        """``to_dict`` as a strict JSON string (``dumps_options`` go to ``json.dumps``);
        ``ExecutionPlan.from_json`` reads it back. ``metadata`` must hold what JSON reads back as
        it was (dicts with string keys, lists, strings, finite numbers, booleans, None): a NaN or
        infinite number raises ``ValueError`` naming it rather than writing a token strict JSON
        readers refuse, and anything else (a tuple or a key that is not a string, which would read
        back as a list or a string key, a set) ``TypeError`` naming it."""
        data = self.to_dict()
        _check_writable(data["metadata"], "metadata")  # every other field of a plan is JSON's own
        return json.dumps(data, **{"allow_nan": False, **dumps_options})

    @classmethod
    def from_json(cls, text: str) -> "ExecutionPlan":
        """The plan ``to_json`` wrote (``from_dict``); JSON written before scores of +inf were
        written as ``"Infinity"`` (the bare ``Infinity`` token) reads as well."""
        return cls.from_dict(json.loads(text))

    # --- looking at it -----------------------------------------------------------------------
    def critical_path(self) -> list[str]:
        """The steps of the longest chain of predicted latencies (what ``expected_latency_s``
        measures)."""
        finish: dict[str, float] = {}
        via: dict[str, str | None] = {}
        for name in nx.topological_sort(self.graph):
            preds = list(self.graph.predecessors(name))
            prev = max(preds, key=lambda p: finish[p]) if preds else None
            via[name] = prev
            finish[name] = (finish[prev] if prev else 0.0) + self.step(name).choice.predicted_latency_s
        if not finish:
            return []
        node: str | None = max(finish, key=finish.__getitem__)
        path = []
        while node is not None:
            path.append(node)
            node = via[node]
        return path[::-1]

    def _labels(self) -> dict[str, list[str]]:
        labels = {}
        for s in self.steps:
            c = s.choice
            lines = [
                f"{s.step} [{s.capability or 'any'}]",
                f"{c.tool_id}: p={c.predicted_success:.2f} cost={c.predicted_cost:.3g} "
                f"latency={c.predicted_latency_s:.3g}s",
            ]
            if s.fallbacks:
                lines.append("fallbacks: " + ", ".join(f.tool_id for f in s.fallbacks))
            labels[s.step] = lines
        return labels

    def to_dot(self) -> str:
        """Graphviz DOT source: a box per step (its tool, predictions and fallbacks), an edge per
        dependency, the critical path in bold. Render with ``dot -Tsvg``."""

        def escape(text: str) -> str:
            return text.replace("\\", "\\\\").replace('"', '\\"')

        def quote(text: str) -> str:
            return '"' + escape(text) + '"'

        critical = set(zip(self.critical_path(), self.critical_path()[1:]))
        title = (
            f"{self.task_id}: cost {self.expected_cost:.3g}, latency {self.expected_latency_s:.3g}s, "
            f"success {self.predicted_success:.2f}"
        )
        lines = [f"digraph {quote(self.task_id)} {{", "  rankdir=LR;", f"  label={quote(title)};",
                 "  node [shape=box];"]
        for name, label in self._labels().items():
            text = "\\n".join(escape(line) for line in label)  # DOT's own line break: \n
            lines.append(f'  {quote(name)} [label="{text}"];')
        for a, b in sorted(self.graph.edges):
            style = " [style=bold]" if (a, b) in critical else ""
            lines.append(f"  {quote(a)} -> {quote(b)}{style};")
        lines.append("}")
        return "\n".join(lines)

    def to_mermaid(self) -> str:
        """A Mermaid flowchart (renders in GitHub Markdown): a node per step, an edge per
        dependency."""
        ids = {name: f"s{i}" for i, name in enumerate(self.topological_order())}

        def text(line: str) -> str:
            return line.replace('"', "#quot;")

        lines = ["flowchart LR"]
        for name, label in self._labels().items():
            lines.append(f'  {ids[name]}["{"<br/>".join(text(x) for x in label)}"]')
        for a, b in sorted(self.graph.edges):
            lines.append(f"  {ids[a]} --> {ids[b]}")
        return "\n".join(lines)

    def __eq__(self, other: object) -> bool:
        """Plans are equal when their descriptions are (``to_dict``): the generated comparison
        compared the ``networkx`` graphs by identity, so a plan was equal to no copy of itself."""
        if not isinstance(other, ExecutionPlan):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        body = ", ".join(f"{s.step}->{s.tool_id}" for s in self.steps)
        return f"ExecutionPlan(task_id={self.task_id!r}, steps=[{body}])"



#: What a total may exceed its budget by and still fit it: sums of costs carry rounding errors
#: (0.1 + 0.2 > 0.3), and the planner, ``ExecutionPlan.within_budget`` and the executor's
#: ``enforce_budget`` must agree on a plan the planner found within budget.
BUDGET_SLACK = 1e-9


def fits_budget(total: float, bound: float | None) -> bool:
    """Whether ``total`` fits the budget ``bound`` (None: unbounded), up to ``BUDGET_SLACK``."""
    return bound is None or total <= bound + BUDGET_SLACK


#: How a plan's description writes a +inf score (``ExecutionPlan.to_dict``).
_INFINITE_SCORE = "Infinity"


def _choice_to_dict(choice: ToolChoice) -> dict[str, Any]:
    data = asdict(choice)
    if data["score"] == math.inf:
        data["score"] = _INFINITE_SCORE
    return data


def _choice_from_dict(data: Any) -> Any:
    """A described candidate with its score of ``"Infinity"`` read as +inf (a +inf float, as
    descriptions held before, is taken as it is)."""
    if isinstance(data, Mapping) and data.get("score") == _INFINITE_SCORE:
        return {**data, "score": math.inf}
    return data


def _check_writable(value: Any, where: str) -> None:
    """Raise naming the first part of ``value`` (at ``where``) that JSON would not read back as it
    is: ``ValueError`` for a NaN or an infinity, ``TypeError`` for a value of another type."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{where}: {value!r} is not a JSON number")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: key {key!r:.100} is not a string (JSON reads it back as one)")
            _check_writable(item, f"{where}[{key!r}]")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_writable(item, f"{where}[{i}]")
    elif value is not None and not isinstance(value, (str, int, float)):  # bool is an int
        raise TypeError(f"{where}: {value!r:.100} is a {type(value).__name__}, not a JSON value")


def _listed(value: Any) -> list[Any] | tuple[Any, ...]:
    """A list of a plan description as JSON gives it; a string or a mapping would be read as its
    characters or keys."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _real(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _check_structure(where: str, structure: PlanStructure) -> None:
    """Raise ``ValueError`` naming the first field of a described ``PlanStructure`` that the router
    could not have written: a reader of ``plan.structure`` would trust a made-up source or a NaN."""
    sources = get_args(StructureSource)
    if structure.source not in sources:
        raise ValueError(f"{where}['source']: expected one of {list(sources)}, got {structure.source!r}")
    if structure.probability is not None:
        check_real(f"{where}['probability']", structure.probability, low=0, high=1)
    for name in ("traces", "task_type_traces"):
        if getattr(structure, name) is not None:
            check_count(f"{where}['{name}']", getattr(structure, name))
    if structure.traces is not None and structure.task_type_traces is not None and structure.traces > structure.task_type_traces:
        raise ValueError(
            f"{where}['traces']: {structure.traces} traces of {structure.task_type_traces} the task type has"
        )
    if not isinstance(structure.sampled, bool):
        raise ValueError(f"{where}['sampled']: expected True or False, got {structure.sampled!r}")


def _check_name(where: str, value: Any) -> None:
    """Raise ``ValueError`` naming ``where`` unless ``value`` is a name as a ``TaskStep`` and an
    ``ExecutionResult`` hold it (a non-empty string, stripped, that a store can keep): the
    executor's attempts carry the plan's names, and a step " search " run by the router came back
    as step "search", not one of the plan's, and its tool's success was learned as a failure."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: expected a non-empty string, got {value!r}")
    if _identifier(where, value) != value:
        raise ValueError(f"{where}: expected a name without surrounding whitespace, got {value!r}")


def _check_step(where: str, step: PlanStep) -> None:
    """Raise ``ValueError`` naming the first field of a described step that a plan the router
    made could not hold: the totals and the executor would fail on it later, or sum NaN."""
    _check_name(f"{where}['step']", step.step)
    if step.capability is not None:
        if not isinstance(step.capability, str):
            raise ValueError(f"{where}['capability']: expected a string or None, got {step.capability!r}")
        _check_name(f"{where}['capability']", step.capability)
    for name in ("depends_on", "candidates"):  # a string would be read as its characters
        if not isinstance(getattr(step, name), (list, tuple)):
            raise ValueError(f"{where}['{name}']: expected a list, got {getattr(step, name)!r:.100}")
    for dep in step.depends_on:
        if not isinstance(dep, str):
            raise ValueError(f"{where}['depends_on']: expected step names, got {dep!r}")
        _check_name(f"{where}['depends_on']", dep)
    if len(set(step.depends_on)) != len(step.depends_on):  # the router refused to run it, in TaskStep's words
        raise ValueError(f"{where}['depends_on']: a step is listed twice in {list(step.depends_on)!r}")
    seen: set[str] = set()
    for j, c in enumerate(step.candidates):
        if not isinstance(c, ToolChoice):
            raise ValueError(f"{where}['candidates'][{j}]: expected a ToolChoice, got {c!r:.100}")
        _check_name(f"{where}['candidates'][{j}]['tool_id']", c.tool_id)
        if c.tool_id in seen:
            raise ValueError(
                f"{where}['candidates'][{j}]['tool_id']: {c.tool_id!r} is listed twice in step {step.step!r}"
            )
        seen.add(c.tool_id)
        for name, low, high in _PREDICTIONS:
            value = getattr(c, name)
            # the floats in range of every plan the router makes pass here, without check_real's cost
            if not (isinstance(value, float) and math.isfinite(value) and low <= value <= high) and not (
                name == "score" and value == math.inf
            ):
                check_real(
                    f"{where}['candidates'][{j}]['{name}']", value,
                    low=None if low == -math.inf else low, high=None if high == math.inf else high,
                )  # fmt: skip


def _with_floats(step: PlanStep) -> PlanStep:
    """``step`` (checked) with every prediction a float, as the router's own are."""
    if all(type(getattr(c, name)) is float for c in step.candidates for name, *_ in _PREDICTIONS):
        return step
    return replace(step, candidates=tuple(
        ToolChoice(c.tool_id, **{name: float(getattr(c, name)) for name, *_ in _PREDICTIONS}) for c in step.candidates
    ))


#: Each prediction of a ``ToolChoice`` and the range it must lie in; a ``score`` may also be +inf,
#: as the router scores a tool never tried (UCB1, epsilon-greedy) or one drift detection rechecks.
_PREDICTIONS = (
    ("score", -math.inf, math.inf),
    ("expected_utility", -math.inf, math.inf),
    ("predicted_success", 0, 1),
    ("predicted_cost", 0, math.inf),
    ("predicted_latency_s", 0, math.inf),
)
