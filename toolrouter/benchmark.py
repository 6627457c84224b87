"""``create_tool_optimization_benchmark``: routing policies compared on one simulated task stream.

The tools' profiles define the truth: a call of a tool succeeds with its ``reliability`` (or the
``true_success`` given for it), costs its ``cost_per_use``, takes about its ``expected_latency_s``
(gamma-distributed) and, on success, has quality about ``quality_mean``; the outcome is simulated by
``toolrouter.simulation``. Because the truth is known, each choice's regret against the oracle (the
tool of highest expected utility for the step, budgets aside) is known too.

Each policy runs through its own ``ToolMetaLearner`` on the same stream of ``n`` tasks drawn from
``tasks``. Outcomes use common random numbers: the draws behind the outcome of tool *k* at step *s*
of task *t* depend only on (seed, t, s, k), so two policies that make the same choice see the same
outcome, and differences between policies are not noise of the simulation. Each policy learns from
its first choice at every step (no fallbacks). A task that declares no steps is one step any tool may
serve, ranked as one decision (``ToolMetaLearner.rank_tools``, no budget), whatever structure the
router learns for its type. A ``"random"`` baseline picks uniformly among the
tools that serve each step; the oracle's row is reported apart.

Example:
    >>> from toolrouter import ToolProfile, TaskProfile
    >>> tools = [ToolProfile(tool_id="good", capabilities=["search"], reliability=0.95),
    ...          ToolProfile(tool_id="poor", capabilities=["search"], reliability=0.3)]
    >>> tasks = [TaskProfile(task_id="q", required_capabilities=["search"])]
    >>> report = create_tool_optimization_benchmark(tools, tasks, 50, policies=["ucb1", "random"], seeds=[0, 1])
    >>> report.best
    'ucb1'
    >>> report.policies["ucb1"].cumulative_regret.mean < report.policies["random"].cumulative_regret.mean
    True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from toolrouter._checks import check_count, check_real
from toolrouter.errors import NoToolForCapabilityError
from toolrouter.features import HashingFeaturizer
from toolrouter.learner import ToolMetaLearner, _profiles
from toolrouter.models import TaskProfile, ToolProfile, UtilityWeights, checked_weights
from toolrouter.policies import POLICIES
from toolrouter.policies.linear import checked_context
from toolrouter.serialization import short_repr
from toolrouter.simulation import SimulatedTool, SyntheticEnvironment
from toolrouter.structure import DEFAULT_STEP

__all__ = [
    "RANDOM_BASELINE",
    "MeanSd",
    "PolicySummary",
    "ToolBenchmarkReport",
    "create_tool_optimization_benchmark",
]

#: Name of the uniform random-choice baseline among the policies.
RANDOM_BASELINE = "random"

_COLUMNS = (
    "policy",
    "mean utility per task",
    "success rate",
    "total cost",
    "cumulative regret",
    "best tool chosen",
)


@dataclass(frozen=True)
class MeanSd:
    """A measure over seeds: its mean, sample standard deviation (0 for one seed) and the values."""

    mean: float
    sd: float
    values: tuple[float, ...]

    @classmethod
    def of(cls, values: Sequence[float]) -> "MeanSd":
        """Summarise per-seed ``values``."""
        v = tuple(float(x) for x in values)
        sd = float(np.std(v, ddof=1)) if len(v) > 1 else 0.0
        return cls(mean=float(np.mean(v)), sd=sd, values=v)

    def __str__(self) -> str:
        return f"{self.mean:.4g} ± {self.sd:.2g}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"mean": self.mean, "sd": self.sd, "values": list(self.values)}


@dataclass(frozen=True)
class PolicySummary:
    """One policy's results over the seeds.

    ``mean_utility``: utility per task (summed over its steps), averaged over the stream.
    ``success_rate``: share of tool calls that succeeded. ``total_cost``: cost of all calls of the
    stream. ``cumulative_regret``: expected utility of the oracle's choices minus that of this
    policy's, summed over every step of the stream. ``best_choice_rate``: share of steps that got the
    oracle's tool. ``regret_curve[t]``: cumulative regret after task ``t``, averaged over seeds.
    """

    policy: str
    mean_utility: MeanSd
    success_rate: MeanSd
    total_cost: MeanSd
    cumulative_regret: MeanSd
    best_choice_rate: MeanSd
    regret_curve: tuple[float, ...]

    def row(self) -> list[str]:
        """This policy's row of ``ToolBenchmarkReport.table``."""
        return [
            self.policy,
            str(self.mean_utility),
            str(self.success_rate),
            str(self.total_cost),
            str(self.cumulative_regret),
            str(self.best_choice_rate),
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "policy": self.policy,
            "mean_utility": self.mean_utility.to_dict(),
            "success_rate": self.success_rate.to_dict(),
            "total_cost": self.total_cost.to_dict(),
            "cumulative_regret": self.cumulative_regret.to_dict(),
            "best_choice_rate": self.best_choice_rate.to_dict(),
            "regret_curve": list(self.regret_curve),
        }


@dataclass(frozen=True)
class ToolBenchmarkReport:
    """What ``create_tool_optimization_benchmark`` measured.

    ``policies`` maps each policy name to its ``PolicySummary``, in the order asked; ``oracle`` is
    the reference row (regret 0); ``best`` the policy of least mean cumulative regret (ties: higher
    mean utility, then name). Nothing here prints: pass ``table()`` to a printer, or use
    ``to_markdown()``.
    """

    n_tasks: int
    seeds: tuple[int, ...]
    tool_ids: tuple[str, ...]
    task_ids: tuple[str, ...]
    policies: dict[str, PolicySummary]
    oracle: PolicySummary

    @property
    def best(self) -> str:
        """Name of the policy with the least mean cumulative regret."""
        return min(
            self.policies.values(),
            key=lambda s: (s.cumulative_regret.mean, -s.mean_utility.mean, s.policy),
        ).policy

    def table(self, *, oracle: bool = True) -> tuple[list[str], list[list[str]]]:
        """``(columns, rows)``: one row per policy (mean ± sd over seeds), the oracle's last.

        For example ``toolrouter.bench._report.print_table("title", *report.table())``.
        """
        rows = [s.row() for s in self.policies.values()]
        if oracle:
            rows.append(self.oracle.row())
        return list(_COLUMNS), rows

    def to_markdown(self) -> str:
        """The table as Markdown, with a line saying what was run."""
        columns, rows = self.table()
        head = " | ".join(columns)
        rule = "|".join("---" for _ in columns)
        body = "\n".join("| " + " | ".join(r) + " |" for r in rows)
        return (
            f"{self.n_tasks} tasks, seeds {list(self.seeds)}, tools {list(self.tool_ids)}; "
            f"mean ± sd over seeds; best: {self.best}\n\n| {head} |\n|{rule}|\n{body}\n"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (``json.dumps`` takes it as is)."""
        return {
            "n_tasks": self.n_tasks,
            "seeds": list(self.seeds),
            "tool_ids": list(self.tool_ids),
            "task_ids": list(self.task_ids),
            "best": self.best,
            "policies": {name: s.to_dict() for name, s in self.policies.items()},
            "oracle": self.oracle.to_dict(),
        }


# --- the stream ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Step:
    name: str
    capability: str | None
    candidates: tuple[int, ...]  # indices of the tools that serve it
    expected: np.ndarray  # expected utility of each candidate, same order
    best: float


class _Run:
    """One seed: the drawn task sequence, the environment and the common random numbers."""

    def __init__(
        self,
        env: SyntheticEnvironment,
        tasks: Sequence[TaskProfile],
        weights: UtilityWeights,
        n: int,
        seed: int,
    ) -> None:
        self.env, self.seed = env, seed
        self.ids = [t.profile.tool_id for t in env.tools]
        self.index = {tool_id: k for k, tool_id in enumerate(self.ids)}
        order_rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
        self.order = order_rng.integers(0, len(tasks), size=n)
        self.steps: list[dict[str, _Step]] = []
        for task in tasks:
            w = task.weights or weights
            steps = {}
            for spec in ToolMetaLearner.task_steps(task):
                cands = tuple(k for k, t in enumerate(env.tools) if t.profile.serves(spec.capability))
                expected = np.array([env.tools[k].expected_utility(w, 0) for k in cands])
                steps[spec.step] = _Step(spec.step, spec.capability, cands, expected, float(expected.max()))
            self.steps.append(steps)

    def call(self, t: int, step_index: int, tool_id: str, step: str) -> Any:
        """The outcome of ``tool_id`` at step ``step_index`` of task ``t``: the same for any policy."""
        k = self.index[tool_id]
        # common random numbers: every draw of env.call comes from a generator keyed by the choice
        self.env.rng = np.random.default_rng(np.random.SeedSequence([self.seed, 1, t, step_index, k]))
        self.env.calls = t
        return self.env.call(tool_id, step=step)


class _Tally:
    """Per-seed totals of one policy."""

    def __init__(self, n: int) -> None:
        self.utility = self.cost = self.regret = 0.0
        self.calls = self.successes = self.best = 0
        self.curve = np.zeros(n)

    def add(self, result: Any, weights: UtilityWeights, regret: float, best: bool) -> None:
        self.utility += weights.of(result)
        self.cost += result.cost
        self.regret += regret
        self.calls += 1
        self.successes += int(result.success)
        self.best += int(best)


def _choose_oracle(step: _Step, rng: np.random.Generator) -> int:
    return step.candidates[int(np.argmax(step.expected))]


def _choose_random(step: _Step, rng: np.random.Generator) -> int:
    return step.candidates[int(rng.integers(len(step.candidates)))]


def _run_fixed_rule(run: _Run, tasks: Sequence[TaskProfile], weights: UtilityWeights, rule: Any) -> _Tally:
    rng = np.random.default_rng(np.random.SeedSequence([run.seed, 2]))
    tally = _Tally(len(run.order))
    for t, i in enumerate(run.order):
        task = tasks[i]
        w = task.weights or weights
        for s, (name, step) in enumerate(sorted(run.steps[i].items())):
            k = rule(step, rng)
            j = step.candidates.index(k)
            result = run.call(t, s, run.ids[k], name)
            tally.add(result, w, step.best - float(step.expected[j]), bool(step.expected[j] >= step.best))
        tally.curve[t] = tally.regret
    return tally


def _run_learner(
    run: _Run,
    tasks: Sequence[TaskProfile],
    routed: Sequence[TaskProfile],
    weights: UtilityWeights,
    profiles: list[ToolProfile],
    policy: str,
    options: Mapping[str, Any],
    context_dim: int | None,
) -> _Tally:
    learner = ToolMetaLearner(
        profiles,
        policy=policy,
        policy_options=dict(options),
        weights=weights,
        seed=run.seed,
        context_dim=context_dim if POLICIES[policy].contextual else None,
    )
    tally = _Tally(len(run.order))
    for t, i in enumerate(run.order):
        task = routed[i].model_copy(update={"task_id": f"{tasks[i].task_id}#{t}"})
        w = task.weights or weights
        if task.steps or task.required_capabilities:
            chosen = learner.optimize_task_execution(task, allow_infeasible=True).assignments
        else:
            # the stream's one step any tool may serve: a plan would have the steps of the structure
            # the router learned for the type (from this stream's other tasks), which the stream has not
            choice = learner.rank_tools(
                None, task_type=task.task_type, step=DEFAULT_STEP, context=task.context, features=task.features,
                task_id=task.task_id,
            )
            chosen = {DEFAULT_STEP: choice.tool_id}
        results = []
        for s, name in enumerate(sorted(run.steps[i])):
            step = run.steps[i][name]
            tool_id = chosen[name]
            j = step.candidates.index(run.index[tool_id])
            result = run.call(t, s, tool_id, name)
            tally.add(result, w, step.best - float(step.expected[j]), bool(step.expected[j] >= step.best))
            results.append(result)
        learner.learn_from_execution(task, results)
        tally.curve[t] = tally.regret
    return tally


# --- inputs --------------------------------------------------------------------------------------
def _check_inputs(
    tools: Any, tasks: Any, n: Any
) -> tuple[list[ToolProfile], list[TaskProfile]]:
    check_count("n", n, low=1)  # the number of tasks in the stream
    profiles = _profiles(tools)
    if not profiles:
        raise ValueError(f"tools: need at least one tool, got {tools!r}")
    ids = [p.tool_id for p in profiles]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"tools: tool_id {dupes[0]!r} appears twice")
    if isinstance(tasks, Mapping) and tasks and all(isinstance(t, TaskProfile) for t in tasks.values()):
        # {task_id: TaskProfile}, as tools are given: it was read as one task's fields and refused
        # for lacking a task_id
        for key, task in tasks.items():
            if key != task.task_id:
                raise ValueError(f"tasks: key {key!r} differs from its profile's task_id {task.task_id!r}")
        tasks = list(tasks.values())
    if isinstance(tasks, (TaskProfile, Mapping)):
        tasks = [tasks]
    if isinstance(tasks, (str, bytes)) or not isinstance(tasks, Iterable):
        raise TypeError(f"tasks: expected a list of TaskProfile, got {short_repr(tasks)}")
    checked = []
    for i, task in enumerate(tasks):  # each named by its place in the list
        if not isinstance(task, (TaskProfile, Mapping)):
            raise TypeError(f"tasks[{i}]: expected a TaskProfile, got {short_repr(task)}")
        try:
            checked.append(ToolMetaLearner._task(task))
        except ValueError as exc:  # a mapping that is no task profile
            raise ValueError(f"tasks[{i}]: {exc}") from None
    if not checked:
        raise ValueError(f"tasks: need at least one task, got {tasks!r}")
    for i, task in enumerate(checked):
        for spec in ToolMetaLearner.task_steps(task):
            if not any(p.serves(spec.capability) for p in profiles):
                raise NoToolForCapabilityError(
                    f"tasks[{i}]: no tool serves capability {spec.capability!r} "
                    f"(step {spec.step!r} of task {task.task_id!r})"
                )
    return profiles, checked


def _check_policies(
    policies: Sequence[str] | None, policy_options: Mapping[str, Mapping[str, Any]] | None
) -> list[str]:
    names = [*POLICIES, RANDOM_BASELINE] if policies is None else policies
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not names:
        raise ValueError("policies: need at least one policy name, got []")
    known = [*POLICIES, RANDOM_BASELINE]
    for name in names:
        if name not in known:
            raise ValueError(f"policies: unknown policy {name!r}; choose from {sorted(known)}")
    if len(set(names)) != len(names):
        raise ValueError(f"policies: a name appears twice in {names!r}")
    if policy_options is not None and not isinstance(policy_options, Mapping):
        raise TypeError(f"policy_options: expected a mapping of policy name to options, got {short_repr(policy_options)}")
    for name, options in (policy_options or {}).items():
        if name not in names or name == RANDOM_BASELINE:
            raise ValueError(f"policy_options: {name!r} is not one of the learning policies run, {names!r}")
        if not isinstance(options, Mapping):
            raise TypeError(f"policy_options[{name!r}]: expected a mapping of options, got {short_repr(options)}")
    return names


def _check_seeds(seeds: int | Sequence[int]) -> tuple[int, ...]:
    if isinstance(seeds, bool):
        raise TypeError(f"seeds: expected a count or a list of integers, got {seeds!r}")
    if isinstance(seeds, (int, np.integer)):
        if seeds < 1:
            raise ValueError(f"seeds: need at least 1, got {seeds!r}")
        return tuple(range(int(seeds)))
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds: expected a count or a list of integers, got {short_repr(seeds)}")
    out = tuple(check_count(f"seeds[{i}]", s) for i, s in enumerate(seeds))
    if not out:
        raise ValueError("seeds: need at least one seed, got []")
    # a repeated seed repeats the same run: it would count twice in the mean and shrink the sd
    repeated = sorted({s for s in out if out.count(s) > 1})
    if repeated:
        raise ValueError(f"seeds: seed {repeated[0]} appears twice in {list(out)}")
    return out


def _environment(
    profiles: list[ToolProfile], true_success: Mapping[str, float] | None, quality_mean: float
) -> SyntheticEnvironment:
    if true_success is not None and not isinstance(true_success, Mapping):
        raise TypeError(f"true_success: expected a mapping of tool id to success probability, got {short_repr(true_success)}")
    truth = dict(true_success or {})
    ids = {p.tool_id for p in profiles}
    for tool_id, p in truth.items():
        if tool_id not in ids:
            raise ValueError(f"true_success: unknown tool {tool_id!r}; tools are {sorted(ids)}")
        check_real(f"true_success[{tool_id!r}]", p, low=0, high=1)
    quality_mean = check_real("quality_mean", quality_mean, low=0, high=1)
    return SyntheticEnvironment(
        tools=[
            SimulatedTool(
                profile=p,
                success_prob=float(truth.get(p.tool_id, p.reliability)),
                quality_mean=float(quality_mean),
                latency_mean_s=p.expected_latency_s,
                cost=p.cost_per_use,
            )
            for p in profiles
        ]
    )


def _contexts(tasks: Sequence[TaskProfile], text_dim: int) -> tuple[list[TaskProfile], int]:
    """The tasks as contextual policies see them: their features, or their hashed context text
    (zeros for a task with neither; a stream with no context at all is one zero feature, which
    leaves each tool's intercept to learn); and that dimension."""
    dims = {len(t.features) for t in tasks if t.features is not None}
    if len(dims) > 1:
        raise ValueError(f"tasks: features must all have the same length, got lengths {sorted(dims)}")
    has_text = any(t.features is None and t.context for t in tasks)
    if dims and has_text:
        raise ValueError("tasks: give every task features, or none (mixing features and context text)")
    d = dims.pop() if dims else (text_dim if has_text else 1)
    featurize = HashingFeaturizer(dim=text_dim) if has_text else None
    out = []
    for i, t in enumerate(tasks):
        if t.features is not None:
            # checked as the routers check each call's, but now: a router refused them halfway
            # through the runs, after the policies before it had run, naming no task
            x = checked_context(t.features, d, "a contextual policy", field=f"tasks[{i}].features").tolist()
        elif featurize is not None and t.context:
            x = featurize(t.context).tolist()
        else:
            x = [0.0] * d
        out.append(t.model_copy(update={"features": tuple(x)}))
    return out, d


# --- the entry point -----------------------------------------------------------------------------
def create_tool_optimization_benchmark(
    tools: Mapping[str, ToolProfile] | Sequence[ToolProfile],
    tasks: Mapping[str, TaskProfile] | Sequence[TaskProfile] | TaskProfile,
    n: int = 100,
    *,
    policies: Sequence[str] | None = None,
    seeds: int | Sequence[int] = 3,
    policy_options: Mapping[str, Mapping[str, Any]] | None = None,
    weights: UtilityWeights | None = None,
    true_success: Mapping[str, float] | None = None,
    quality_mean: float = 0.9,
    text_dim: int = 32,
) -> ToolBenchmarkReport:
    """Compare routing policies on the same stream of ``n`` tasks drawn from ``tasks``.

    Arguments:
        tools: ``{tool_id: ToolProfile}`` or a list of profiles; their reliability, cost and
            latency are the truth of the simulation (see the module docstring).
        tasks: the task profiles to draw from, uniformly with replacement: a list, or
            ``{task_id: TaskProfile}`` as for ``tools`` (a single one is taken as a list of one).
            Every step's capability must be served by some tool.
        n: tasks in the stream (each with one call per step).
        policies: names from ``toolrouter.policies.POLICIES`` and ``"random"``; default all.
        seeds: a count (seeds 0..count-1) or a list of distinct seeds; each seed draws a new stream
            and new outcomes.
        policy_options: per policy name, options for ``make_policy`` (for example
            ``{"gaussian_ts": {"discount": 0.99}}``).
        weights: the utility weights (a task's own ``weights`` take precedence).
        true_success: per tool id, a true success probability that differs from the profile's
            ``reliability`` (the router's prior), to measure learning from a wrong prior.
        quality_mean: the same for every tool: a successful call's quality is drawn around it
            and clipped to [0, 1] (``toolrouter.simulation.QUALITY_SD``), so its mean is a little
            lower near 1 (0.892 for 0.9); the oracle and the regret use that clipped mean.
        text_dim: dimension of the hashed context text for contextual policies (when tasks have
            ``context`` and no ``features``).

    Returns a ``ToolBenchmarkReport``. Bad input raises ``ValueError`` (or ``TypeError``) naming
    the argument and value: no tools or tasks, ``n < 1``, an unknown policy, a seed given twice,
    options that are not a mapping or that a policy does not take (``policy_options['ucb1']: ...``,
    before any run), a task step no tool serves (``NoToolForCapabilityError``).

    Example:
        >>> from toolrouter import ToolProfile, TaskProfile, ToolType
        >>> tools = {"web": ToolProfile(tool_id="web", tool_type=ToolType.SEARCH, reliability=0.9),
        ...          "wiki": ToolProfile(tool_id="wiki", tool_type=ToolType.SEARCH, reliability=0.6)}
        >>> report = create_tool_optimization_benchmark(tools, [TaskProfile(task_id="t", required_capabilities=["search"])], 20, seeds=1)
        >>> from toolrouter.policies import POLICIES
        >>> list(report.policies) == [*POLICIES, "random"], report.oracle.cumulative_regret.mean
        (True, 0.0)
    """
    profiles, task_list = _check_inputs(tools, tasks, n)
    names = _check_policies(policies, policy_options)
    seed_list = _check_seeds(seeds)
    weights = UtilityWeights() if weights is None else checked_weights(weights)
    text_dim = check_count("text_dim", text_dim, low=1)
    env = _environment(profiles, true_success, quality_mean)
    contextual_tasks, context_dim = (
        _contexts(task_list, text_dim) if any(POLICIES[p].contextual for p in names if p in POLICIES) else (task_list, None)
    )
    for name, options in (policy_options or {}).items():
        # now, not when the policy's turn comes after the other policies' runs
        try:
            ToolMetaLearner._check_policy(name, dict(options), context_dim if POLICIES[name].contextual else None)
        except (TypeError, ValueError) as exc:
            raise (TypeError if isinstance(exc, TypeError) else ValueError)(f"policy_options[{name!r}]: {exc}") from None
    n = int(n)
    tallies: dict[str, list[_Tally]] = {name: [] for name in [*names, "oracle"]}
    for seed in seed_list:
        run = _Run(env, task_list, weights, n, seed)
        tallies["oracle"].append(_run_fixed_rule(run, task_list, weights, _choose_oracle))
        for name in names:
            if name == RANDOM_BASELINE:
                tallies[name].append(_run_fixed_rule(run, task_list, weights, _choose_random))
                continue
            routed = contextual_tasks if POLICIES[name].contextual else task_list
            options = dict((policy_options or {}).get(name, {}))
            tallies[name].append(
                _run_learner(run, task_list, routed, weights, profiles, name, options, context_dim)
            )
    summaries = {name: _summary(name, tallies[name]) for name in [*names, "oracle"]}
    oracle = summaries.pop("oracle")
    return ToolBenchmarkReport(
        n_tasks=n,
        seeds=seed_list,
        tool_ids=tuple(p.tool_id for p in profiles),
        task_ids=tuple(t.task_id for t in task_list),
        policies=summaries,
        oracle=oracle,
    )


def _summary(name: str, tallies: list[_Tally]) -> PolicySummary:
    n_tasks = len(tallies[0].curve)
    return PolicySummary(
        policy=name,
        mean_utility=MeanSd.of([t.utility / n_tasks for t in tallies]),
        success_rate=MeanSd.of([t.successes / t.calls for t in tallies]),
        total_cost=MeanSd.of([t.cost for t in tallies]),
        cumulative_regret=MeanSd.of([t.regret for t in tallies]),
        best_choice_rate=MeanSd.of([t.best / t.calls for t in tallies]),
        regret_curve=tuple(float(x) for x in np.mean([t.curve for t in tallies], axis=0)),
    )

