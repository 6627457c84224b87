"""``ToolMetaLearner``: picks a tool for each step of a task and learns from what happens.

The router keeps one bandit policy per *route*, a (task type, step) pair, whose arms are the tools
that serve the step's capability; every outcome updates the policy of its route, keyed per
(task type, step, tool). Decisions rank candidates by the policy's exploratory score (the chosen
tool) and then by its posterior mean (the fallbacks, in the order to try them).

Utility of an outcome is ``UtilityWeights.utility`` (see ``toolrouter.models``): the task's weights
if it has them, else the router's. Policies with bounded rewards (``beta_ts``) learn from success
alone (1 or 0).

Persistence: with a store, every attempt is one row of the store's log, and learned state is
"latest snapshot + every attempt after its watermark". Opening a router on a store resumes it:
the snapshot is loaded and the newer attempts, whoever wrote them, are replayed. ``sync()`` catches
up with attempts other processes wrote (automatically every ``sync_every`` attempts). Replaying the
log works for every policy, including discounted and windowed ones, which cannot be merged. A
watermark counts the attempt ids of one store, which saved state names (``Store.store_id``): state
loaded onto another store learns that store's whole log (``ToolMetaLearner.load``).

Example:
    >>> from toolrouter import ToolMetaLearner, ToolProfile, TaskProfile, ExecutionResult
    >>> router = ToolMetaLearner(
    ...     [ToolProfile(tool_id="web", capabilities=["search"], cost_per_use=0.1),
    ...      ToolProfile(tool_id="wiki", capabilities=["search"], cost_per_use=0.0)],
    ...     seed=0,
    ... )
    >>> task = TaskProfile(task_id="t1", required_capabilities=["search"])
    >>> plan = router.optimize_task_execution(task)
    >>> sorted(plan.step("search").ranked_tool_ids)
    ['web', 'wiki']
    >>> result = router.learn_from_execution(task, [ExecutionResult(tool_id="wiki", step="search", success=True)])
    >>> result.updated_tools
    ('wiki',)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import threading
import uuid
import weakref
import zlib
from collections import OrderedDict, deque
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field as dataclass_field, replace as dataclass_replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

import networkx as nx
import numpy as np
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictStr, ValidationError

from toolrouter._checks import check_count, no_bools, real_array
from toolrouter.drift import ChangeDetector, DetectorConfig, RequestKey, detector_from_state, pack_requests, request_key, unpack_requests
from toolrouter.errors import (
    CorruptStateError,
    DuplicateToolError,
    InvalidOutcomeError,
    NoToolForCapabilityError,
    PrunedLogError,
    UnknownToolError,
)
from toolrouter.features import gives_probe, probe_vector
from toolrouter.in_flight import CallsInFlight
from toolrouter.logging import EventLog
from toolrouter.models import ANY_CAPABILITY, ExecutionResult, LearningResult, TaskProfile, ToolProfile, UtilityWeights, _identifier, cancelled_by_caller, check_conversation_id, checked_weights, kept_text
from toolrouter.plan import ExecutionPlan, PlanStep, PlanStructure, ToolChoice
from toolrouter.planner import TaskGraphError, TaskGraphLibrary, chain_steps, plan_decisions
from toolrouter.policies import MAX_ABS_REWARD, POLICIES, ArmPrior, Policy, make_policy
from toolrouter.policies.linear import MAX_ABS_CONTEXT, checked_context
from toolrouter.policies.neural_linear import NeuralLinearThompson
from toolrouter.serialization import (
    MAX_SAVED_DIM,
    MAX_SAVED_WINDOW,
    Count,
    FiniteFloat,
    checked_array,
    checked_path,
    generator_from_state,
    read_blob,
    read_model,
    short_repr,
    write_atomically,
    write_blob,
)
from toolrouter.store import AttemptRecord, NoStoreError, Store, StoreUnavailableError, open_store
from toolrouter.store.base import MAX_REQUEST_CHARS, MAX_SNAPSHOT_NAME, ROUTER_STATE_KEY, LogEntry, ToolRemoval, TraceClose
from toolrouter.structure import CALL_TRACE_PREFIX, DEFAULT_STEP, StructureConfig, StructureModel, TraceStep, check_trace_id

__all__ = [
    "PendingAttempt",
    "ToolMetaLearner",
    "ToolStatistics",
    "ResetRecord",
    "Ranking",
    "optimize_task_execution",
    "learn_from_execution",
]

if TYPE_CHECKING:  # the reward model needs torch: imported only when a router uses one
    from toolrouter.reward_model import MetaRewardModel

log = EventLog(__name__)

#: Format tag and version of a saved learner; version 2 adds the digest, version 3 keeps the change
#: detectors' request records in arrays (earlier versions still load).
_FORMAT = ROUTER_STATE_KEY
_VERSION = 3
#: Arrays of a route (``routes.{i}.`` before them) holding its detectors' request records, one
#: detector after the other in the order of its saved ``detectors`` (``pack_requests``), each
#: detector's ``_RECORD_FIELDS`` in that order; each such saved field is its number of rows. In
#: JSON they would swell the safetensors header, which the format caps at 100 MB.
_REQUEST_KEYS, _REQUEST_RECORDS = "requests.keys", "requests.records"
#: The per-request records of a detector's state: since its last reset, and from before its last drop.
_RECORD_FIELDS = ("requests", "before_drop")
#: Arrays of a route (``routes.{i}.`` before them) holding its recent outcomes' contexts, one row
#: each, and utilities, in the order of its saved ``recent_tools``: what the reward model adapts to
#: when the route's next drift is found, after a restart as before it.
_RECENT_CONTEXTS, _RECENT_UTILITIES = "recent.contexts", "recent.utilities"

#: Seeds run from 0 to below this: what numpy's seeding takes and what saved state keeps.
SEED_LIMIT = 2**128

#: How many pseudo-observations a tool's profile is worth when predicting success, cost, latency.
_PRIOR_WEIGHT = 2.0

#: Name of the reward model's bytes in a saved learner file.
_REWARD_MODEL = "reward_model"

#: Routes (task type, step) from which a router warns that they keep growing (``many_routes``),
#: again at each doubling: a route is learned state, never dropped (see ``ToolMetaLearner``).
MANY_ROUTES = 4096

#: Prefix of the structure model's arrays in a saved learner.
_STRUCTURES = "structures"
#: Name of a contextual router's featurizer's vector for a fixed text (``features.probe_vector``)
#: in its saved state: a router loaded or resumed with another featurizer refuses to featurize
#: with it (its policies learned on the saved one's contexts), from the first text on; checked then,
#: not at load, so that a router loaded only to be read (``toolrouter stats``) needs no featurizer
#: and loads no sentence encoder. Absent in state saved before it was kept.
_FEATURIZER_PROBE = "featurizer_probe"
#: What a router's snapshot name ends in to name the snapshot of its reward model, in the same store.
_REWARD_MODEL_SUFFIX = ".reward_model"

#: Outcomes per route kept in memory to adapt the reward model when a tool drifts.
_RECENT_OUTCOMES = 256

#: Removed tools, and former profiles of updated ones, whose late attempts are still accepted
#: (the most recent).
_RETIRED_TOOLS = 1024

#: Tasks whose declared steps are kept checked (the most recently planned or learned).
_DECLARED_TASKS = 16

#: How a reset's reason names the direction of the change.
_MOVED = {"down": "fell", "up": "rose", None: "moved"}
#: ``_Route.next_due`` when no recheck is scheduled.
_NEVER = 2**62

PriorFn = Callable[[ToolProfile, str, str, "str | None"], "ArmPrior | None"]


def _check_numbers(where: str, r: ExecutionResult) -> None:
    """Raise ``InvalidOutcomeError`` naming the first of quality, cost and latency that is not a
    finite number in range."""
    for name in ("quality", "cost", "latency_s"):
        value = getattr(r, name)
        if value is None or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise InvalidOutcomeError(f"{where}.{name}: must be a finite number, got {value!r}")
        if value < 0 or (name == "quality" and value > 1):
            raise InvalidOutcomeError(f"{where}.{name}: out of range, got {value!r}")


class Ranking(Sequence[str]):
    """Tool ids in the order to try them: the highest sampled score first, then the others by
    posterior mean. Only the first is found up front (one argmax); the fallbacks are sorted the
    first time something reads past it, since most calls never need them. ``scores`` and
    ``means`` are the policy's, by position in ``arms``; ``recheck`` is the position of a tool put
    first for a recheck (drift detection), else None."""

    __slots__ = ("arms", "scores", "means", "first", "recheck", "_positions")

    def __init__(self, arms: Sequence[str], scores: np.ndarray, means: np.ndarray) -> None:
        self.arms, self.scores, self.means = arms, scores, means
        self.first = int(scores.argmax())
        self.recheck: int | None = None
        self._positions: list[int] | None = None

    @property
    def positions(self) -> list[int]:
        """Positions in ``arms``, in ranked order."""
        if self._positions is None:
            order = np.lexsort((-self.scores, -self.means)).tolist()
            order.remove(self.first)
            self._positions = [self.first, *order]
        return self._positions

    def __len__(self) -> int:
        return len(self.arms)

    def __getitem__(self, index: Any) -> Any:
        if index == 0:
            return self.arms[self.first]
        if isinstance(index, slice):
            return [self.arms[i] for i in self.positions[index]]
        return self.arms[self.positions[index]]

    def __iter__(self) -> Any:
        arms = self.arms
        yield arms[self.first]
        for i in self.positions[1:]:
            yield arms[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return repr(list(self))


@dataclass(frozen=True)
class ToolStatistics:
    """What the router has seen of one tool (over the routes selected).

    ``expected_utility`` is the policies' posterior mean utility, weighted by calls per route
    (``None`` for contextual policies, whose estimate depends on the context; for ``beta_ts``,
    which learns success alone, the posterior success probability, not a utility).
    """

    tool_id: str
    calls: int
    successes: int
    mean_utility: float
    mean_quality: float
    mean_cost: float
    mean_latency_s: float
    expected_utility: float | None
    #: with drift detection: how often a detected change restarted the tool's statistics, and the
    #: latest time it did (over the routes selected)
    resets: int = 0
    last_reset: "ResetRecord | None" = None
    #: with drift detection: how often the tool was tried because it had not been for a while
    #: (outcomes learned as a recheck's)
    rechecks: int = 0

    @property
    def success_rate(self) -> float:
        """Share of the calls that succeeded (0 without calls)."""
        return self.successes / self.calls if self.calls else 0.0


@dataclass(frozen=True)
class ResetRecord:
    """The latest reset of a tool: on which route, when and why.

    ``at_outcome``: the router's outcome count when it happened (every outcome the router learned
    from counts one); ``outcomes_ago``: outcomes learned since. ``reason``: the detector and which
    way the tool's utility moved (``"page_hinkley: utility fell"``).
    """

    task_type: str
    step: str
    at_outcome: int
    outcomes_ago: int
    reason: str


class _Counts:
    """Plain running sums for one (route, tool); order-free, so replay and merge are exact."""

    __slots__ = ("calls", "successes", "utility", "quality", "cost", "latency_s")

    def __init__(self, values: Sequence[float] = (0, 0, 0.0, 0.0, 0.0, 0.0)) -> None:
        self.calls, self.successes = int(values[0]), int(values[1])
        self.utility, self.quality, self.cost, self.latency_s = map(float, values[2:6])

    def add(self, success: bool, utility: float, quality: float, cost: float, latency_s: float) -> None:
        """Count one outcome."""
        self.calls += 1
        self.successes += int(success)
        self.utility += utility
        self.quality += quality
        self.cost += cost
        self.latency_s += latency_s

    def as_list(self) -> list[float]:
        """The sums as a JSON-able list."""
        return [self.calls, self.successes, self.utility, self.quality, self.cost, self.latency_s]


class _ToolDrift:
    """What drift detection did to one (route, tool): resets (how many, the router's outcome count
    at the latest, why), rechecks, the route outcome at which the next recheck is due, the rechecks
    in a row that found the tool no better (``misses``, which lengthen the next wait) and whether a
    recheck's outcome is awaited (``pending``), and whether this router decided that recheck
    (``pending_here``; not saved: one restored was decided before it resumed); with a store, the
    highest recheck turn known claimed there (``claimed``) and the highest this router claimed
    (``held``), see ``ToolMetaLearner._claim_recheck`` (not saved: the store keeps the claims)."""

    #: what ``as_dict`` saves
    SAVED = ("resets", "last_reset_at", "last_reason", "rechecks", "due", "misses", "pending")
    __slots__ = (*SAVED, "pending_here", "claimed", "held")

    def __init__(
        self,
        resets: int = 0,
        last_reset_at: int | None = None,
        last_reason: str | None = None,
        rechecks: int = 0,
        due: int = 0,
        misses: int = 0,
        pending: bool = False,
    ) -> None:
        self.resets, self.last_reset_at, self.last_reason = resets, last_reset_at, last_reason
        self.rechecks, self.due, self.misses, self.pending = rechecks, due, misses, pending
        self.pending_here = False
        self.claimed = self.held = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, as ``_SavedToolDrift`` reads it."""
        return {name: getattr(self, name) for name in self.SAVED}


class _Route:
    """The policy and counts of one (task type, step)."""

    __slots__ = ("task_type", "step", "capability", "policy", "counts", "detectors", "recent", "outcomes", "drift", "next_due")

    def __init__(self, task_type: str, step: str, capability: str | None, policy: Policy) -> None:
        self.task_type = task_type
        self.step = step
        self.capability = capability
        self.policy = policy
        self.counts: dict[str, _Counts] = {}
        #: with drift detection: a change detector per tool, fed the prediction residuals
        self.detectors: dict[str, ChangeDetector] = {}
        #: with a reward model: the latest outcomes (context, tool, utility), to adapt it on a drift
        self.recent: deque[tuple[np.ndarray | None, str, float]] = deque(maxlen=_RECENT_OUTCOMES)
        #: outcomes on this route (of a tool without an arm here too, see ``_apply``)
        self.outcomes = 0
        #: with drift detection: resets and rechecks per tool
        self.drift: dict[str, _ToolDrift] = {}
        #: the route outcome at which the earliest recheck is due (never without rechecks)
        self.next_due = _NEVER

    @property
    def key(self) -> tuple[str, str]:
        """(task type, step)."""
        return (self.task_type, self.step)

    def decision_state(self) -> tuple[Any, int, list[tuple[_ToolDrift, int, bool, bool, int, int]]]:
        """What a decision on this route changes, for ``restore_decision_state``: the policy's
        decision state and the rechecks a decision schedules (a turn this router claimed stays
        held: the store keeps the claim, and its next decision rechecks under it)."""
        drift = [(d, d.rechecks, d.pending, d.pending_here, d.due, d.claimed) for d in self.drift.values()]
        return self.policy.decision_state(), self.next_due, drift

    def restore_decision_state(self, state: tuple[Any, int, list[tuple[_ToolDrift, int, bool, bool, int, int]]]) -> None:
        policy_state, self.next_due, drift = state
        self.policy.restore_decision_state(policy_state)
        for record, rechecks, pending, pending_here, due, claimed in drift:
            record.rechecks, record.pending, record.pending_here, record.due = rechecks, pending, pending_here, due
            record.claimed = claimed


def _routed(capability: str | None) -> str | None:
    """The capability a route is made for: ``None`` (any tool) for ``ANY_CAPABILITY``, so that a
    step declared ``"*"`` is routed, learned and traced as the step of a task that names none."""
    return None if capability == ANY_CAPABILITY else capability


@dataclass(slots=True)
class _StepSpec:
    step: str
    capability: str | None
    depends_on: tuple[str, ...]

    def __post_init__(self) -> None:
        self.capability = _routed(self.capability)


class _DeclaredSteps:
    """A task's steps as declared (or from its type's template), in order and by name."""

    __slots__ = ("specs", "source", "by_step")

    def __init__(self, specs: list[_StepSpec], source: str) -> None:
        self.specs = specs
        self.source = source
        self.by_step = {s.step: s for s in specs}


@dataclass(slots=True)
class _Outcome:
    """A validated outcome, ready to record: everything computed, nothing applied."""

    step: str
    capability: str | None
    result: ExecutionResult
    utility: float
    depends_on: tuple[str, ...] | None = None  # in a trace: the steps its step consumed
    recheck: bool = False  # learned, and stored, as the outcome of a recheck (``_mark_rechecks``)


@dataclass(frozen=True, slots=True)
class _Trace:
    """What a batch of outcomes adds to a trace (``toolrouter.structure``)."""

    trace_id: str
    request: str | None
    complexity: str | None
    conversation: str | None = None  # the conversation its task is a turn of


#: A call's context as the router carries it: the context vector of a contextual router; for a
#: router without one, what its drift detectors know the request by (``_request_of``), or None.
Context = Union[np.ndarray, str, None]


@dataclass(frozen=True, slots=True, eq=False)
class PendingAttempt:
    """An attempt ``ToolMetaLearner.check_attempt`` accepted and nothing recorded yet: hand it to
    ``record_attempts`` (once) to store and learn it. ``utility`` is what it will be learned as.

    Each is an attempt of its own, equal only to itself (hashable, as a set member or a key), as
    ``record_attempts`` tells them apart: two attempts alike in every value are two outcomes."""

    task_id: str
    task_type: str
    utility: float
    _outcome: _Outcome
    _context: Context
    _trace: _Trace | None
    _router: "ToolMetaLearner" = dataclass_field(repr=False)
    _recorded: bool = dataclass_field(default=False, repr=False)  # set once it is recorded


class ToolMetaLearner:
    """Routes an agent's task steps to tools with bandit policies and learns from every outcome.

    Arguments:
        tools: the tools, as ``{tool_id: ToolProfile}`` or a list of profiles (may be empty;
            add more with ``add_tool``). ``None`` with a store takes the tools of its snapshot.
        policy: a policy name from ``toolrouter.policies.POLICIES`` (default ``"gaussian_ts"``) or
            a callable ``factory(seed=...) -> Policy``; one policy is made per (task type, step).
            Resuming from a store, ``policy``, ``policy_options``, ``seed``, ``weights`` and
            ``context_dim`` left out are those of its snapshot.
        policy_options: options for ``make_policy`` (``discount``, ``window``, ``exploration``...).
        store: ``None`` (nothing persisted), a URL (``"sqlite:///router.db"``, ``"memory://"``) or
            a ``Store``. An existing store's learned state is resumed; one not there yet is
            created once the other arguments are checked (a refused one leaves none behind). A
            store the router opens from a URL is its own, closed by ``close``; a ``Store`` passed in is its owner's to
            close (the router's ``close`` only stops using it).
        weights: the router's ``UtilityWeights`` (a task's own ``weights`` take precedence).
        seed: makes every decision reproducible (each route's policy gets a seed derived from it).
        featurizer: text -> vector for contextual policies (default
            ``toolrouter.features.HashingFeaturizer(dim=context_dim)``). A contextual router's
            saved state keeps the featurizer's vector for a fixed text: one resumed or loaded with
            another featurizer (or without it, where it was not the default) refuses every request
            text (``ValueError`` naming the featurizer), its policies having learned on the saved
            one's contexts.
        context_dim: dimension of the context of contextual policies (default: the featurizer's
            ``dim`` where it has one, else 256); a featurizer whose ``dim`` differs from it (given,
            or saved) is refused (``ValueError``). A policy without a context refuses one
            (``ValueError``): nothing would read it.
        prior_fn: ``prior_fn(profile, task_type, step, capability) -> ArmPrior | None`` seeds a new
            arm; default: the profile's reliability, cost and latency as a utility prior (or, with a
            reward model, the model's prior for the tool); contextual policies take it as the
            intercept of the tool's model, the request's weights starting at 0, with the policy's
            own prior variance (``1 / regularization``).
        reward_model: a meta-trained ``toolrouter.reward_model.MetaRewardModel`` (with
            ``policy="neural_linear"``): its encoder and priors seed every route. ``meta_train()``
            makes one from the store's history; a store keeps it, and a resumed router loads it.
        drift_detection: ``None`` (off), a ``toolrouter.drift.DetectorConfig``, a detector name
            (``"page_hinkley"``, ``"cusum"``) or a dict of its fields. Each (route, tool) then gets a
            change detector on the tool's utility. When it fires, the tool's statistics on that
            route restart (``Policy.reset_arm``) from the policy's ``population_prior``, what the
            route's other tools earn with their spread as uncertainty, or, with a reward model, its
            meta-learned prior (adapted first): the tool is tried again within a few calls and
            judged on what it does now. Besides the mean test, each outcome's success feeds a run
            test: a run of failures (or successes) too unlikely under the tool's own record is a
            change, so a reliable tool that breaks is left after a handful of failures; given the
            request (a context, or, for a policy without one, the call's ``features`` or text),
            each outcome is judged by the tool's record on that request (a failure on a request
            it always solved counts most), which found the break of the best RouterBench
            model after 7.1 failures instead of 9.2 (MBPP train split, ``lin_ts``, 10 seeds). A tool no
            longer chosen is tried again after ``recheck_after`` calls of its route (sooner while
            its detector sees a rise; after a drop, at half that interval three times, then twice
            as late after each recheck that found nothing better, up to four times), so that a
            repair or an improvement is seen; given the request, a due recheck waits up to
            ``recheck_grace`` calls for a request its outcome informs (after a drop, one the tool
            solved before it); a recheck that finds a dropped tool better restarts it at once.
            ``tool_statistics`` counts the resets and rechecks (a recheck when its outcome is
            learned: a call cancelled or never reported tried nothing). With a store, each attempt
            keeps whether it was a recheck's outcome, so that a router reopened on the store, or
            another one syncing from it, learns and counts it as this one did (a recheck decided
            elsewhere is never taken for the outcome of one this router decided meanwhile, which
            stays a recheck's). Each reset is a ``drift_detected`` warning; one found
            again while a router rebuilds from its store's history (opened on the store, relearning
            its log) is logged at debug level with ``replayed=True``, since it was warned of when
            it happened. A router loaded or resumed with
            another configuration than it saved judges its saved detectors by the new one
            (``ChangeDetector.reconfigured``: they keep what they have seen where only thresholds
            or rechecks changed, else restart, keeping what they found), and a saved recheck
            comes no later than the new configuration would schedule it.
            Measured on replays of real LLM outcomes (RouterBench test splits, 11 models as tools,
            ``gaussian_ts``, ``lin_ts`` and ``neural_linear``, 5 seeds; docs/benchmarks/meta-router.md):
            a broken tool gets 10 to 15 calls in the 1,400 after it broke (medians, 4 to 6 of them
            rechecks); a repaired one has half its former traffic back after 76 to 110 calls, an
            improved one half the traffic after 130 to 465 (medians; single seeds wait up to 209
            and 603); no false reset; the regret when nothing changes is -3% to +22% of that
            without a detector.
        structure: the ``toolrouter.structure.StructureModel`` that learns the structure of each
            task type from its traces and proposes the steps of a task that declares none (default:
            one over ``featurizer``, or hashed n-grams). Every ``learn_from_execution`` call is a
            trace (the executor's runs too); a resumed router resumes its traces, with the options
            (``StructureConfig``) it saved unless ``structure`` is given.
        snapshot_name: name of this router's snapshot in the store.
        sync_every: with a store, catch up with other writers after this many own attempts.
        snapshot_every: with a store, save a snapshot (``save()``) after this many own attempts,
            so that a restart replays at most that many and ``toolrouter prune`` can delete what
            the snapshot holds (``None``, the default: only when ``save()`` is called). The save
            runs in the call that records the attempt that makes the count; a store that cannot
            take attempts then (a locked file, an outage) defers it, without waiting, to the next
            attempt it writes.

    Each (task type, step) is a route with a policy, detectors and counts of its own: learned
    state that the router keeps for as long as it lives, and saves, so its memory and saved state
    grow with the task types it sees. A task type is a kind of task (the request itself goes in
    ``context`` or ``features``); a router that reaches ``MANY_ROUTES`` (4096) routes, and each
    doubling after, logs a ``many_routes`` warning naming the newest. Routes are never dropped:
    a store's log would rebuild them at its next open anyway, and a dropped route's tools would
    start over from their prior.

    Thread-safe: any number of threads may route and learn through one router.

    Example:
        >>> from toolrouter import ToolMetaLearner, ToolProfile, TaskProfile, ToolType
        >>> router = ToolMetaLearner({"web": ToolProfile(tool_id="web", tool_type=ToolType.SEARCH)}, seed=0)
        >>> router.optimize_task_execution(TaskProfile(task_id="q", required_capabilities=["search"])).assignments
        {'search': 'web'}
    """

    def __init__(
        self,
        tools: Mapping[str, ToolProfile] | Iterable[ToolProfile] | None = None,
        *,
        policy: str | Callable[..., Policy] | None = None,
        policy_options: Mapping[str, Any] | None = None,
        store: str | Store | None = None,
        weights: UtilityWeights | Mapping[str, float] | None = None,
        seed: int | None = None,
        featurizer: Callable[[str], np.ndarray] | None = None,
        context_dim: int | None = None,
        prior_fn: PriorFn | None = None,
        reward_model: MetaRewardModel | None = None,
        drift_detection: DetectorConfig | str | Mapping[str, Any] | None = None,
        structure: StructureModel | None = None,
        snapshot_name: str = "learner",
        sync_every: int | None = 1000,
        snapshot_every: int | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self._declared_steps: OrderedDict[int, tuple[TaskProfile, _DeclaredSteps]] = OrderedDict()
        self.snapshot_name = _checked_snapshot_name(snapshot_name)
        self.store: Store | None = None
        opened = store is not None and not isinstance(store, Store)
        self._owns_store = opened  # close() closes a store opened here, never one passed in
        # an existing store first, whose snapshot fills in what the caller leaves out; one not there
        # yet is created once the arguments are checked, so that bad ones leave no empty store behind
        st = _existing_store(store) if opened else store
        try:
            snapshot = st.get_snapshot(self.snapshot_name) if st is not None else None
            saved = None
            if snapshot is not None:
                assert st is not None
                saved = _read_state(snapshot.data, _snapshot_source(st, self.snapshot_name), st)
                # what the caller leaves out, a resumed router takes from its snapshot
                if policy is None:
                    if saved.config.policy is None:
                        raise ValueError("policy: the snapshot was made with a custom policy factory; pass policy=")
                    policy = saved.config.policy
                if policy_options is None and isinstance(policy, str) and policy == saved.config.policy:
                    policy_options = saved.config.policy_options  # the snapshot's policy, left out or named again
                seed = saved.config.seed if seed is None else seed
                weights = saved.config.weights if weights is None else weights
                if context_dim is None and not _takes_no_context(policy):
                    context_dim = saved.config.context_dim
                if drift_detection is None:
                    drift_detection = saved.config.drift_detection
            self.drift_detection = None if drift_detection is None else DetectorConfig.parse(drift_detection)
            self.snapshot_every = _every("snapshot_every", snapshot_every)
            self._configure(tools, policy, policy_options, weights, seed, featurizer, context_dim, prior_fn, sync_every)
            if structure is not None and not isinstance(structure, StructureModel):
                raise TypeError(f"structure: expected a StructureModel, got {type(structure).__name__}")
            #: What the router learned of each task type's structure; proposes the steps of tasks
            #: that declare none (``toolrouter.structure``).
            if structure is None:  # a resumed router learns structures with the options it saved
                structure = StructureModel(featurizer, saved.config.structure_config if saved is not None else None)
            self.structures = structure
            self._structure_rng = np.random.default_rng(self._route_seed("\x00structure", ""))
            relearn_on = None
            if reward_model is None and st is not None:
                saved_model = st.get_snapshot(self._reward_model_name)
                if saved_model is not None:
                    reward_model = _read_reward_model(saved_model.data, _snapshot_source(st, self._reward_model_name), st)
                    if saved is not None and saved.config.routes and _reward_model_misfit(saved, reward_model) is not None:
                        # stopped between the two snapshots meta-training writes: the routes were
                        # learned on the model before; they are relearned on this one from the log
                        relearn_on, reward_model = reward_model, None
            if reward_model is not None:
                self._set_reward_model(reward_model)
            if opened and st is None:
                st = open_store(store)
            if st is not None:
                self._attach(st)
                if saved is not None:
                    self._restore(saved, keep_tools=tools is not None)
                relearned = relearn_on is not None and self._relearned(relearn_on, saved)
                if not relearned and self._tools:
                    self.sync()
                elif not relearned:  # tools come after construction (ToolMiddleware.register): catch up with the
                    self._caught_up = False  # store at the first decision or record, to replay theirs
        except BaseException:
            if opened and st is not None:
                st.close()
            raise

    def _relearned(self, model: MetaRewardModel, saved: _SavedState | None) -> bool:
        """Install ``model``, the store's reward model that the restored routes were not learned
        on, relearning the routes from the log; unless a prune since deleted attempts they learned
        from (``PrunedLogError``, logged as ``reward_model_not_installed``): then the router keeps
        its routes and the model they were learned on (the snapshot's). Returns whether it installed."""
        try:
            self.install_reward_model(model)
        except PrunedLogError as exc:
            assert saved is not None and self.store is not None
            if saved.reward_model is not None:
                self._set_reward_model(saved.reward_model)
            log.warning("reward_model_not_installed", store=self.store.url, snapshot=self.snapshot_name, reason=str(exc))
            return False
        assert self.store is not None
        log.warning("reward_model_relearned", store=self.store.url, snapshot=self.snapshot_name)
        return True

    def _configure(
        self,
        tools: Any,
        policy: Any,
        policy_options: Mapping[str, Any] | None,
        weights: Any,
        seed: Any,
        featurizer: Callable[[str], np.ndarray] | None,
        context_dim: int | None,
        prior_fn: PriorFn | None,
        sync_every: int | None,
    ) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise TypeError(f"seed: expected an int or None, got {seed!r}")
        if seed is not None and not 0 <= seed < SEED_LIMIT:
            raise ValueError(f"seed: expected an int from 0 to 2**128 - 1 or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)
        for name, fn in (("featurizer", featurizer), ("prior_fn", prior_fn)):
            if fn is not None and not callable(fn):  # else the first call that needs it fails, naming nothing
                raise TypeError(f"{name}: expected a callable, got {fn!r}")
        self.weights = UtilityWeights() if weights is None else checked_weights(weights)
        self.sync_every = _every("sync_every", sync_every)
        self.prior_fn = prior_fn
        self.reward_model: MetaRewardModel | None = None
        self._feature_map: dict[str, np.ndarray] | None = None
        self._background: tuple[threading.Event, threading.Thread] | None = None
        policy = "gaussian_ts" if policy is None else policy
        if policy_options is not None and not isinstance(policy_options, Mapping):
            raise TypeError(f"policy_options: expected a mapping of option names to values, got {policy_options!r}")
        if policy_options is not None and "seed" in policy_options:  # it would clash with each route's own
            raise ValueError(
                f"policy_options: 'seed' is the router's: pass seed= (each route's policy gets a seed derived "
                f"from it), got policy_options['seed']={short_repr(policy_options['seed'])}"
            )
        # numpy scalars as Python numbers: the options are saved as JSON, which has no numpy types
        self._policy_options = {k: v.item() if isinstance(v, np.generic) else v for k, v in (policy_options or {}).items()}
        if isinstance(context_dim, np.integer):
            context_dim = int(context_dim)
        contextual_name = isinstance(policy, str) and getattr(POLICIES.get(policy), "contextual", False)
        if context_dim is None and "context_dim" not in self._policy_options and contextual_name:
            # a featurizer that knows its length sets the context's: the default 256 would not
            # fit it, and the first decision with a text would fail
            context_dim = _dim_of(featurizer)
        self._policy_spec = policy
        self.contextual, self.context_dim = self._check_policy(policy, self._policy_options, context_dim)
        featurizer_dim = _dim_of(featurizer) if self.contextual else None
        if featurizer_dim is not None and featurizer_dim != self.context_dim:
            # else the router is built (or loaded) and fails at the first request with a text
            raise ValueError(
                f"featurizer: makes vectors of dim {featurizer_dim}, the router's context_dim is {self.context_dim} "
                f"(given, or saved with it); pass a featurizer of dim {self.context_dim}"
            )
        self._featurizer = featurizer
        #: the saved featurizer's vector for a fixed text, until the featurizer is checked against it
        self._featurizer_probe: np.ndarray | None = None
        self._tools: dict[str, ToolProfile] = {}
        for profile in _profiles(tools):
            if profile.tool_id in self._tools:
                raise DuplicateToolError(f"tools: tool_id {profile.tool_id!r} appears twice")
            self._tools[profile.tool_id] = profile
        self._routes: dict[tuple[str, str], _Route] = {}
        self._outcomes = 0  # outcomes counted by the routes, all of them (drift records say when by it)
        #: Templates of task types' steps, and the end-to-end outcome of each structure run
        #: (statistics; a task without steps or template is planned by ``self.structures``),
        #: for the ``max_structures`` structures per task type that fared best (``TaskGraphLibrary``).
        self.graphs = TaskGraphLibrary()
        self._capability_text: dict[str, str] | None = None  # capability -> its tools' descriptions
        #: tool id -> function for ``execute`` (called with a ``toolrouter.executor.StepRequest``).
        self.functions: dict[str, Callable[..., Any]] = {}
        self._executor: Any = None  # made on the first ``execute`` without tools=, executor=, config=
        self.writer = uuid.uuid4().hex
        self._seen_upto = 0  # every store attempt with an id <= this is in the policies
        self._own_ahead: set[int] = set()  # own attempts above _seen_upto (already applied)
        self._journaled = 0  # own records (applied) the store kept to write later (see _unseen_attempts)
        # per tool, the capabilities of attempts learned below own entries still ahead in the log (or
        # in the journal), out of the order this router made them in: an own removal among them must
        # forget them (see _replay)
        self._late: dict[str, set[str | None]] = {}
        self._held_back = False  # the store kept the last append to write later (a locked file, an outage)
        self._unsubscribe: Callable[[], None] | None = None
        self._since_sync = 0
        self._since_snapshot = 0
        self._caught_up = True  # False while a store's attempts wait for the tools to be added
        # True while the store's log has yet to be replayed into a state rebuilt from it (a router
        # opened on a store, one that relearns the log): what a replay of it detects is history
        self._history_pending = False
        self._replaying_history = False  # a replay of that history is running (see _forget_tool)
        self._closed = False  # close() was called: the store is used no more (_check_store_open)
        #: the routed calls and plan runs in flight: close() lets them end and record first
        self._calls = CallsInFlight()
        #: the AttemptGroups recording with this router: close() commits what waits in them
        self._groups: weakref.WeakSet[Any] = weakref.WeakSet()
        #: Profiles of tools removed lately, and former profiles of tools updated lately: an attempt
        #: that started before its tool was removed, or stopped serving its capability, is still
        #: recorded (stored, not learned from).
        self._retired: OrderedDict[str, ToolProfile] = OrderedDict()
        #: Tools not registered here whose attempts this router read from the store (and so did
        #: not learn) since their latest removal there: registering one relearns them (``add_tool``).
        self._read_unregistered: set[str] = set()

    # --- configuration ------------------------------------------------------------------------
    @staticmethod
    def _check_policy(
        policy: Any, options: dict[str, Any], context_dim: int | None
    ) -> tuple[bool, int | None]:
        if isinstance(policy, str):
            if policy not in POLICIES:
                raise ValueError(f"policy: unknown policy {policy!r}; choose from {sorted(POLICIES)}")
            contextual = POLICIES[policy].contextual
            if contextual:
                dim = options.setdefault("context_dim", 256 if context_dim is None else context_dim)
                if context_dim is not None and dim != context_dim:
                    raise ValueError(
                        f"context_dim: {context_dim!r} disagrees with policy_options['context_dim']={dim!r}"
                    )
                context_dim = dim
            make_policy(policy, seed=0, **options)  # validates the options now, not at first use
        elif callable(policy):
            probe = policy(seed=0)
            if not isinstance(probe, Policy):
                raise TypeError(f"policy: the factory must return a Policy, got {type(probe).__name__}")
            contextual = probe.contextual
            dim = getattr(probe, "context_dim", context_dim) if contextual else None
            if contextual and context_dim is not None and dim != context_dim:
                raise ValueError(f"context_dim: {context_dim!r} disagrees with the factory's policy, whose context_dim is {dim!r}")
            context_dim = dim if contextual else context_dim
        else:
            raise TypeError(f"policy: expected a policy name or a factory, got {policy!r}")
        if not contextual and context_dim is not None:
            # nothing would read it: a caller who passes one expects a contextual policy
            name = policy if isinstance(policy, str) else f"{probe.name} (the factory's)"
            raise ValueError(
                f"context_dim: policy {name} takes no context; leave context_dim out or choose a contextual "
                f"policy ({', '.join(sorted(n for n, c in POLICIES.items() if c.contextual))}), got {context_dim!r}"
            )
        if contextual and (context_dim is None or context_dim < 1):
            raise ValueError(f"context_dim: a contextual policy needs a positive context_dim, got {context_dim!r}")
        return contextual, (int(context_dim) if contextual else None)

    @property
    def learns_from_requests(self) -> bool:
        """Whether a call's request (its text or features) informs this router: as its policy's
        context, or, for a router without one, as what its drift detectors judge each outcome by
        (``_request_of``). A caller that must build the request's text first (the MCP gateway
        serialises a call's arguments) may skip that when this is False."""
        config = self.drift_detection
        return self.contextual or (config is not None and config.request_prior is not None)

    @property
    def policy_name(self) -> str | None:
        """The policy's name, or ``None`` for a custom factory."""
        return self._policy_spec if isinstance(self._policy_spec, str) else None

    def _route_seed(self, task_type: str, step: str) -> int | None:
        if self.seed is None:
            return None
        # crc32, not hash(): str hashes differ between processes
        key = zlib.crc32(f"{task_type}\x00{step}".encode())
        return int(np.random.SeedSequence([self.seed, key]).generate_state(1)[0])

    def _new_policy(self, task_type: str, step: str) -> Policy:
        seed = self._route_seed(task_type, step)
        if isinstance(self._policy_spec, str):
            policy = make_policy(self._policy_spec, seed=seed, **self._policy_options)
            if self._feature_map is not None and isinstance(policy, NeuralLinearThompson):
                policy.set_feature_map(self._feature_map)
            return policy
        return self._policy_spec(seed=seed)

    def _featurize(self, text: str) -> np.ndarray:
        if self._featurizer is None:
            from toolrouter.features import HashingFeaturizer

            self._featurizer = HashingFeaturizer(dim=self.context_dim)
        if self._featurizer_probe is not None:  # restored: its policies learned on the saved featurizer's contexts
            if not gives_probe(self._featurizer, self._featurizer_probe):
                raise ValueError(
                    "featurizer: not the one this router was saved with (their vectors for the same text differ), "
                    "whose contexts its policies learned on; load it with featurizer= the one it was saved with"
                )
            self._featurizer_probe = None  # checked once
        x = np.asarray(self._featurizer(text))
        if x.dtype.kind not in "biuf":  # strings, objects, complex numbers: no context to learn on
            raise ValueError(f"featurizer: returned {x.dtype} values of shape {x.shape}, expected {self.context_dim} real numbers")
        return x.astype(np.float64, copy=False)

    # --- tools --------------------------------------------------------------------------------
    @property
    def tools(self) -> dict[str, ToolProfile]:
        """The registered tools by id (a copy)."""
        with self._lock:
            return dict(self._tools)

    def add_tool(self, profile: ToolProfile) -> None:
        """Register a tool; it joins every route whose capability it serves, with its prior.

        A tool this router removed starts from its prior whatever attempts of it were recorded
        since (calls that ended after the removal, other routers' calls): that is appended to the
        store's log as a second ``ToolRemoval``, so that a router opened on the store, or another
        one syncing from it, forgets them too.

        With a store whose attempts of the tool this router read before (other routers' calls), the
        router relearns as one opened on the store now, with the tool, would: from its snapshot
        and the log after it (the whole log without one), so that it learns them; a store that
        cannot be read then (``StoreUnavailableError``), or a damaged snapshot, raises and changes
        nothing. Where attempts after that snapshot were pruned (``toolrouter prune`` of another
        router's), relearning would lose what the router learned of them, and a snapshot saved with
        another configuration cannot be taken: the tool then starts from its prior, with a
        ``tool_not_relearned`` warning."""
        if not isinstance(profile, ToolProfile):
            profile = ToolProfile.model_validate(profile)
        with self._lock:
            if profile.tool_id in self._tools:
                raise DuplicateToolError(f"tool_id: {profile.tool_id!r} is already registered")
            self._check_scorable(profile, self.reward_model)
            stored = self.store is not None and not self._closed
            logged = stored and profile.tool_id in self._retired
            if logged:
                self._sync_before_removal()
            relearn = stored and not logged and profile.tool_id in self._read_unregistered
            saved = None
            if relearn:  # first: a store that fails changes nothing
                relearn, saved = self._relearnable(profile.tool_id)
            joined: list[tuple[_Route, Any]] = []
            try:
                for route in self._routes.values():
                    if profile.serves(route.capability):
                        before = route.policy.decision_state()
                        route.policy.add_arm(profile.tool_id, self._prior(profile, route))
                        joined.append((route, before))
                if logged:  # last: a store that refuses it changes nothing
                    self._append([ToolRemoval(profile.tool_id, writer=self.writer)])
            except BaseException:
                # a bad prior on one route: take the arm back out of the routes it joined, and their
                # generators back (lin_ts draws for a new arm), so that they decide as before
                for route, before in joined:
                    route.policy.remove_arm(profile.tool_id)
                    route.policy.restore_decision_state(before)
                raise
            self._tools[profile.tool_id] = profile
            self._read_unregistered.discard(profile.tool_id)
            self._capability_text = None
            if relearn:
                self._relearn(profile.tool_id, saved)
        log.info("tool_added", tool_id=profile.tool_id, capabilities=list(profile.capabilities))

    def update_tool(self, profile: ToolProfile) -> ToolProfile:
        """Replace a registered tool's profile, keeping what was learned about it: it joins the
        routes of capabilities it now serves (with its prior) and leaves those it no longer serves;
        on a route where none of its outcomes was learned yet it restarts from the new profile's
        prior (a corrected cost or reliability counts before its first call, as it would for a
        router built with the new profile). Returns the old profile.

        On the routes of the capabilities it no longer serves it leaves its statistics behind, and
        on those of a capability it is given (back) it starts from its prior, whatever attempts of
        it there were recorded before. Both are appended to the store's log (``ToolRemoval`` with
        those ``capabilities``), so that a router opened on the store, or another one syncing from
        it, forgets them there too."""
        if not isinstance(profile, ToolProfile):
            profile = ToolProfile.model_validate(profile)
        tool_id = profile.tool_id
        with self._lock:
            if tool_id not in self._tools:
                raise UnknownToolError(tool_id)
            self._check_scorable(profile, self.reward_model)
            served = self._tools[tool_id].capabilities
            dropped = tuple(c for c in served if c not in profile.capabilities)
            # on a capability given, the tool starts from its prior: the attempts of it there that this
            # router has read (or a late call records) teach it nothing, as they teach a replay nothing
            changed = dropped + tuple(c for c in profile.capabilities if c not in served)
            logged = bool(changed) and self.store is not None and not self._closed
            if logged:
                self._sync_before_removal()
            old, self._tools[tool_id] = self._tools[tool_id], profile  # _prior reads the new profile
            joined: list[tuple[_Route, Any]] = []
            restarted: list[tuple[_Route, Any]] = []
            try:
                for route in self._routes.values():
                    if not profile.serves(route.capability):
                        continue
                    before = route.policy.decision_state()
                    if tool_id not in route.policy._index:
                        route.policy.add_arm(tool_id, self._prior(profile, route))
                        joined.append((route, before))
                    elif profile != old and (tool_id not in route.counts or route.counts[tool_id].calls == 0):
                        route.policy.restart_arm(tool_id, self._prior(profile, route))
                        restarted.append((route, before))
                if logged:  # last: a store that refuses it changes nothing
                    self._append([ToolRemoval(tool_id, writer=self.writer, capabilities=changed)])
            except BaseException:
                # the generators back too (lin_ts draws for a new or restarted arm)
                for route, before in joined:
                    route.policy.remove_arm(tool_id)
                    route.policy.restore_decision_state(before)
                for route, before in restarted:  # untried, it held the old profile's prior
                    route.policy.restart_arm(tool_id, self._prior(old, route))
                    route.policy.restore_decision_state(before)
                self._tools[tool_id] = old
                raise
            if dropped:
                self._retire(old)  # calls running it for a capability it no longer serves still record
                self._forget_arms(tool_id, dropped)
            self._capability_text = None
        log.info("tool_updated", tool_id=tool_id, capabilities=list(profile.capabilities))
        return old

    def remove_tool(self, tool_id: str) -> ToolProfile:
        """Unregister a tool and drop its arms and statistics: registered again, it starts from its
        prior. Its past attempts stay in the store, and the removal is appended to its log
        (``ToolRemoval``), so that a router opened on the store, or another one syncing from it,
        forgets them there too: registered again, or still, the tool starts there from its prior."""
        _check_ids(tool_id=tool_id)
        with self._lock:
            if tool_id not in self._tools:
                raise UnknownToolError(tool_id)
            if self.store is not None and not self._closed:  # first: a store that refuses it changes nothing
                self._sync_before_removal()
                self._append([ToolRemoval(tool_id, writer=self.writer)])
            profile = self._tools.pop(tool_id)
            self._retire(profile)
            self._forget_arms(tool_id)
            self._capability_text = None
        log.info("tool_removed", tool_id=tool_id)
        return profile

    def _forget_arms(self, tool_id: str, capabilities: tuple[str, ...] | None = None) -> list[_Route]:
        """Drop ``tool_id``'s arms and statistics from the routes of ``capabilities`` (``None``:
        every route); returns those routes (caller holds the lock)."""
        routes = [r for r in self._routes.values() if capabilities is None or r.capability in capabilities]
        for route in routes:
            if tool_id in route.policy.arm_ids:
                route.policy.remove_arm(tool_id)
            route.counts.pop(tool_id, None)
            route.detectors.pop(tool_id, None)
            route.drift.pop(tool_id, None)
        return routes

    def _replay_removal(self, removal: ToolRemoval) -> None:
        """A ``ToolRemoval`` read from the log: what the tool's attempts before it taught is
        forgotten (on the routes of its ``capabilities``, where given), as by the router that
        removed it; registered here and serving them, the tool restarts there from its prior,
        last among the arms, as one registered again (caller holds the lock)."""
        routes = self._forget_arms(removal.tool_id, removal.capabilities)
        profile = self._tools.get(removal.tool_id)
        if profile is not None:
            for route in routes:
                if profile.serves(route.capability):
                    route.policy.add_arm(removal.tool_id, self._prior(profile, route))

    def _relearnable(self, tool_id: str) -> tuple[bool, _SavedState | None]:
        """Whether the router can relearn from its store (``_relearn``), and from which snapshot
        (read and checked; ``None``: the whole log): not where attempts after it were pruned, which
        it learned and would lose (``tool_not_relearned``: ``tool_id`` starts from its prior)."""
        assert self.store is not None
        snapshot = self.store.get_snapshot(self.snapshot_name)
        saved = None
        if snapshot is not None:
            saved = _read_state(snapshot.data, _snapshot_source(self.store, self.snapshot_name), self.store)
        pruned = self.store.pruned_upto()
        if pruned > (0 if saved is None else self._saved_watermark(saved)[0]):
            log.warning("tool_not_relearned", store=self.store.url, snapshot=self.snapshot_name, tool_id=tool_id, pruned_upto=pruned)
            return False, None
        return True, saved

    def _resume(self, saved: _SavedState) -> None:
        """Take ``saved``, this router's snapshot, as a router opened on the store now does, for
        the log after it to be replayed (``ValueError`` if it cannot, changing nothing). The router
        keeps its tools and its task templates and structure-run counts (registered and counted
        here, not in the log), and takes a new writer id, so that its own attempts after the
        snapshot are replayed like anyone's: the policies and the structure model learn them
        again, as a router opened now does (the journal's, when it is written, too)."""
        graphs = self.graphs
        self._restore(saved, keep_tools=True)
        self.graphs = graphs
        self.writer = uuid.uuid4().hex
        self._journaled = 0
        self._history_pending = True

    def _relearn(self, tool_id: str, saved: _SavedState | None) -> None:
        """Rebuild the routes as a router opened on the store now with these tools does, for
        ``tool_id`` to learn its attempts read before: from ``saved`` (its snapshot) and the log
        after it, or from the whole log (caller holds the lock; what the structure model learned
        is kept). A snapshot saved by another configuration is not taken: ``tool_id`` starts from
        its prior (``tool_not_relearned``)."""
        if saved is None:
            structures_after = self._seen_upto  # the structure model has seen the log up to here
            self._routes, self._outcomes = {}, 0
            self._seen_upto, self._own_ahead, self._journaled, self._late = 0, set(), 0, {}
            self._history_pending = True
        else:
            try:
                self._resume(saved)
            except ValueError as exc:
                assert self.store is not None
                log.warning("tool_not_relearned", store=self.store.url, snapshot=self.snapshot_name, tool_id=tool_id, reason=str(exc))
                return
            structures_after = self._seen_upto
        self._read_unregistered = set()
        self._replay(structures_after)

    def _retire(self, profile: ToolProfile) -> None:
        """Keep ``profile`` for the late attempts of calls that started under it (with the
        capabilities of the former profiles kept before it: a call may have started under any)."""
        former = self._retired.get(profile.tool_id)
        if former is not None and not set(former.capabilities) <= set(profile.capabilities):
            capabilities = tuple(dict.fromkeys((*profile.capabilities, *former.capabilities)))
            profile = profile.model_copy(update={"capabilities": capabilities})
        self._retired[profile.tool_id] = profile
        self._retired.move_to_end(profile.tool_id)
        while len(self._retired) > _RETIRED_TOOLS:
            self._retired.popitem(last=False)

    def _check_scorable(self, profile: ToolProfile, model: MetaRewardModel | None) -> None:
        """Raise unless ``model`` can give ``profile`` its prior (a description, or history),
        now rather than at the first decision of each of its routes, which would fail until the
        tool is removed."""
        if model is not None and self.prior_fn is None:
            model.prior(profile, self._featurize)

    def _prior(self, profile: ToolProfile, route: _Route) -> ArmPrior | None:
        if self.prior_fn is not None:
            return self.prior_fn(profile, route.task_type, route.step, route.capability)
        if self.reward_model is not None and isinstance(route.policy, NeuralLinearThompson):
            return self.reward_model.prior(profile, self._featurize)
        # every policy starts a tool from its profile's utility (a contextual one on its intercept,
        # with no effect of the request yet): from zero a tool would be written off unseen
        # wherever the others earn more
        bounds = route.policy.reward_bounds
        if bounds is not None:  # learns success: the reliability is the prior success rate
            lo, hi = bounds
            return ArmPrior(mean=lo + (hi - lo) * profile.reliability, variance=1.0, pseudo_count=2.0)
        w = self.weights
        mean = w.utility(True, 1.0, profile.cost_per_use, profile.expected_latency_s) * profile.reliability + (
            w.utility(False, 0.0, profile.cost_per_use, profile.expected_latency_s) * (1 - profile.reliability)
        )
        # the policy's own variance: a linear one's regularization stays in force
        return ArmPrior(mean=float(np.clip(mean, -MAX_ABS_REWARD, MAX_ABS_REWARD)), variance=None, pseudo_count=1.0)

    def _candidates(self, capability: str | None) -> list[str]:
        return [t for t, p in self._tools.items() if p.serves(capability)]

    def _capability_descriptions(self) -> dict[str, str]:
        """Capability -> the descriptions of the tools that serve it (what the structure model
        reads to predict a capability no trace has used yet); the caller holds the lock."""
        if self._capability_text is None:
            text: dict[str, list[str]] = {}
            for profile in self._tools.values():
                for capability in profile.capabilities:
                    text.setdefault(capability, [])
                    if profile.description.strip():
                        text[capability].append(profile.description.strip())
            self._capability_text = {c: " ".join(d) for c, d in text.items()}
        return self._capability_text

    def _route(self, task_type: str, step: str, capability: str | None) -> _Route:
        """The route of (task_type, step), made on first use (callers hold the lock and have
        checked that some tool serves ``capability``)."""
        route = self._routes.get((task_type, step))
        if route is None:
            route = _Route(task_type, step, capability, self._new_policy(task_type, step))
            for tool_id in self._candidates(capability):
                route.policy.add_arm(tool_id, self._prior(self._tools[tool_id], route))
            self._routes[route.key] = route
            n = len(self._routes)
            if n >= MANY_ROUTES and n & (n - 1) == 0:  # once per doubling: a hint, not a flood
                log.warning(
                    "many_routes", routes=n, task_type=task_type, step=step,
                    hint="each new (task type, step) keeps a policy of its own: pass a task type per "
                    "kind of task, not one per request (put the request in context or features)",
                )
        return route

    def _check_route_capability(
        self, task_type: str, step: str, capability: str | None,
        field: str = "capability", made: Mapping[tuple[str, str], str | None] | None = None,
    ) -> None:
        """Refuse ``capability`` at a step whose route serves another one (``made``: the
        capabilities of routes that attempts recorded before this one will make)."""
        route = self._routes.get((task_type, step))
        routed = route.capability if route is not None else (made or {}).get((task_type, step), capability)
        if routed != capability:
            raise ValueError(
                f"{field}: step {step!r} of task type {task_type!r} was routed for capability "
                f"{routed!r}, got {capability!r}; give the step another name"
            )

    # --- tasks --------------------------------------------------------------------------------
    @staticmethod
    def _task(task: Any) -> TaskProfile:
        if isinstance(task, TaskProfile):
            return task
        if isinstance(task, Mapping):
            return TaskProfile.model_validate(task)
        raise TypeError(f"task: expected a TaskProfile, got {type(task).__name__}")

    @staticmethod
    def task_steps(task: TaskProfile) -> list[_StepSpec]:
        """The steps of ``task`` with their capabilities and dependencies, in order.

        ``steps`` if given; else one step per required capability, in a chain, named after its
        capability (``search``, ``search_2``... when one repeats); else one step ``"main"`` that
        any tool may serve.
        """
        if task.steps:
            names = {s.step_id for s in task.steps}
            for s in task.steps:
                for dep in s.depends_on:
                    if dep not in names:
                        raise ValueError(f"steps: step {s.step_id!r} depends on unknown step {dep!r}")
            specs = [_StepSpec(s.step_id, s.capability, s.depends_on) for s in task.steps]
            graph = nx.DiGraph([(d, s.step) for s in specs for d in s.depends_on])
            if not nx.is_directed_acyclic_graph(graph):
                cycle = [e[0] for e in nx.find_cycle(graph)]
                raise ValueError(f"steps: the dependencies form a cycle through {cycle!r}")
            return specs
        if not task.required_capabilities:
            return [_StepSpec(DEFAULT_STEP, None, ())]
        return [_StepSpec(s.step_id, s.capability, s.depends_on) for s in chain_steps(task.required_capabilities)]

    def _declared(self, task: TaskProfile) -> _DeclaredSteps | None:
        """The steps of a task that names its steps or capabilities (source ``"declared"``), the
        template registered for its type (``"template"``), or ``None``: its structure is learned.

        A task's own steps are checked once per task object (the latest few are kept): the
        executor records a run attempt by attempt, and checking a plan of n steps at each of its
        n attempts would cost n^2."""
        if task.steps or task.required_capabilities:
            cached = self._declared_steps.get(id(task))
            if cached is not None and cached[0] is task:  # the id of a live object is its own
                return cached[1]
            declared = _DeclaredSteps(self.task_steps(task), "declared")
            with self._lock:
                self._declared_steps[id(task)] = (task, declared)
                if len(self._declared_steps) > _DECLARED_TASKS:
                    self._declared_steps.popitem(last=False)
            return declared
        template = self.graphs.templates.get(task.task_type)
        if template is not None:
            return _DeclaredSteps([_StepSpec(s.step_id, s.capability, s.depends_on) for s in template], "template")
        return None

    def _propose(self, task: TaskProfile) -> tuple[list[_StepSpec], PlanStructure]:
        """The steps of a task that declares none, from ``self.structures`` (the caller holds the
        lock): the most probable structure, or under a Thompson draw when the model samples."""
        sample = self.structures.config.sampling == "thompson"
        proposal = self.structures.propose(
            task.task_type,
            capabilities=self._capability_descriptions(),
            request=_request(task.context),  # the text its traces are learned from
            complexity=task.complexity.value,
            rng=self._structure_rng if sample else None,
            conversation=task.conversation_id,  # what it ran: the traces of its earlier turns
        )
        specs = self._unclaimed_names(task.task_type, proposal.steps)
        if log.enabled():
            log.info(
                "structure_proposed",
                task_id=task.task_id,
                task_type=task.task_type,
                source=proposal.source,
                probability=proposal.probability,
                steps=[s.step for s in proposal.steps],
            )
        return specs, PlanStructure(
            proposal.source, proposal.probability, proposal.traces, proposal.task_type_traces, proposal.sampled
        )

    def _unclaimed_names(self, task_type: str, steps: Sequence[TraceStep]) -> list[_StepSpec]:
        """The proposed ``steps``, each renamed whose name a route of ``task_type`` holds for
        another capability (the names are those of the first trace that ran the structure, maybe
        of another task type): it takes its capability's name, numbered if that is taken too."""
        def free(name: str, capability: str | None) -> bool:
            route = self._routes.get((task_type, name))
            return route is None or route.capability == capability

        taken = {s.step for s in steps if free(s.step, s.capability)}
        names: dict[str, str] = {}
        for s in steps:
            if s.step in taken:
                names[s.step] = s.step
                continue
            base = s.capability or DEFAULT_STEP
            name, k = base, 1
            while name in taken or not free(name, s.capability):
                k += 1
                name = f"{base}_{k}"
            taken.add(name)
            names[s.step] = name
        return [_StepSpec(names[s.step], s.capability, tuple(names[p] for p in s.depends_on)) for s in steps]

    def register_template(self, task_type: str, steps: Iterable[Any]) -> None:
        """Plan tasks of ``task_type`` that give no steps of their own as ``steps`` (``TaskStep``
        or dicts with ``step_id``, ``capability``, ``depends_on``). Cycles, dependencies on missing
        steps and repeated ids raise, and nothing is registered."""
        self.graphs.register_template(task_type, steps)

    def _context(self, features: Sequence[float] | None, text: str | None) -> Context:
        """A call's context as the router carries it (``Context``): the policy's context vector,
        or, for a router without one, the request its drift detectors judge by. The text is
        checked whatever the router reads (a contextual one given ``features`` reads none)."""
        if text is not None and not isinstance(text, str):
            raise TypeError(f"context: expected the request's text, got {short_repr(text)}")
        if self.contextual:
            return self._context_of(features, text)
        # a call that names no request (most do) has nothing to check or to tell the detectors
        return None if features is None and text is None else self._request_of(features, text)

    def _request_of(self, features: Sequence[float] | None, text: str | None) -> Context:
        """What a router without a context tells its drift detectors of a call's request, so
        that their run test judges each outcome by the tool's record on that request
        (``toolrouter.drift``) as a contextual router's does: the key of the request's ``features``
        as given, else of its text (``RequestKey``); None when nothing judges requests (no drift
        detection, or ``request_prior=None``). The policy never sees it; the store keeps the key
        alone (``AttemptRecord.request_key``), so that a router replaying the log judges the
        outcome by its request as this one did. Bad
        features or text are refused whether or not anything judges them, so that a call's
        validity does not hang on the router's configuration."""
        x = None
        if features is not None:  # bools refused as a task's are (and checked_context's), which real_array would take
            x = real_array("features", no_bools("features", features))
            if x.ndim != 1 or not np.all(np.isfinite(x)):
                raise ValueError(f"features: expected a vector of finite numbers, got {short_repr(features)}")
        if not self.learns_from_requests:
            return None
        key = request_key(x if x is not None else text or None)
        return None if key is None else RequestKey(key)

    def _context_of(self, features: Sequence[float] | None, text: str | None) -> np.ndarray:
        d = self.context_dim
        assert d is not None
        if features is not None:
            return checked_context(features, d, "the router", field="features")
        if text:
            x = self._featurize(text)
            if x.shape != (d,) or not np.all(np.abs(x) <= MAX_ABS_CONTEXT):
                raise ValueError(
                    f"featurizer: returned shape {x.shape}, expected ({d},) (context_dim) with finite entries"
                )
            return x
        return np.zeros(d)

    # --- decisions ----------------------------------------------------------------------------
    def optimize_task_execution(
        self, task: TaskProfile, *, allow_infeasible: bool = False, tools: Iterable[str] | None = None
    ) -> ExecutionPlan:
        """Choose a tool for every step of ``task``, with ranked fallbacks and predictions.

        The steps are the task's own, the template registered for its type, or, for a task that
        declares none, the structure ``self.structures`` proposes from the task type's traces, the
        request text (``context``), the complexity and what the task's conversation
        (``conversation_id``) already ran; ``plan.structure`` says which, and how sure the router
        is (``PlanStructure``).

        A task of several steps, or with a budget, is planned as a whole
        (``toolrouter.planner.plan_decisions``): each candidate's sampled score becomes a sampled
        success probability, and the tools are chosen to maximise the plan's expected end-to-end
        utility with its expected cost within ``max_cost`` and its critical-path latency within
        ``max_latency_s``; ``plan.metadata["planner"]`` says how. A budget no plan meets raises
        ``BudgetInfeasibleError``, or with ``allow_infeasible=True`` gives the plan that exceeds it
        least, with ``metadata["planner"]["feasible"]`` false and ``["infeasible_reason"]`` the
        error's message (the cost of the cheapest plan, the critical path of the fastest).

        A step of capability ``"*"`` (``ANY_CAPABILITY``, declared or from a template) is routed
        among all the tools, as the step of a task that names none: its plan step's capability is
        ``None``, and its outcomes are learned under its step's route.

        ``tools``: the ids of the tools that can run (``execute`` gives those it has functions
        for): a step some of them serve lists only those (the others are ranked all the same, but
        neither chosen nor fallbacks), so that the plan's choices and totals under a budget are of
        tools that run; a step none of them serves lists all its tools, and its run reports why
        each could not be called.

        Raises ``NoToolForCapabilityError`` (naming the step and capability) when a step has no
        candidate. A call that raises, for whatever reason, changes nothing: the routes it made are dropped and the random state of those it sampled is
        rewound, so the next call decides as if it had not happened.

        Example:
            >>> from toolrouter import ToolMetaLearner, ToolProfile, TaskProfile
            >>> router = ToolMetaLearner([ToolProfile(tool_id="py", capabilities=["code"])], seed=0)
            >>> router.optimize_task_execution(TaskProfile(task_id="t", required_capabilities=["code"])).tool_for("code")
            'py'
        """
        if not isinstance(allow_infeasible, bool):  # "no" would have been taken for True
            raise TypeError(f"allow_infeasible: expected True or False, got {allow_infeasible!r}")
        usable = None if tools is None else _tool_ids(tools)
        if not self._caught_up:  # not _catch_up: a plan to run is refused by a closed store
            self.sync()
        task = self._task(task)
        declared = self._declared(task)
        context = self._context(task.features, task.context)
        assignment = None
        with self._lock:
            structure_rng = self._structure_rng.bit_generator.state
            keys: list[tuple[str, str]] = []
            before: dict[tuple[str, str], Any] = {}
            unrunnable: set[str] = set()  # steps none of ``tools`` serves: they list all theirs
            try:
                if declared is None:
                    specs, structure = self._propose(task)
                else:
                    specs, structure = declared.specs, PlanStructure(declared.source)
                for spec in specs:  # check everything before any route is made
                    candidates = self._candidates(spec.capability)
                    if not candidates:
                        raise self._no_tool_for(spec.capability, f"step {spec.step!r} of task {task.task_id!r}")
                    if usable is not None and usable.isdisjoint(candidates):
                        unrunnable.add(spec.step)  # its run reports why each tool could not be called
                    self._check_route_capability(task.task_type, spec.step, spec.capability)
                keys = [(task.task_type, s.step) for s in specs]
                before = {k: self._routes[k].decision_state() for k in keys if k in self._routes}
                steps = [
                    self._decide(
                        task.task_id, task.task_type, s.step, s.capability, context, s.depends_on,
                        None if s.step in unrunnable else usable,
                    )
                    for s in specs
                ]
                if len(steps) > 1 or task.max_cost is not None or task.max_latency_s is not None:
                    policy = self._routes[keys[0]].policy
                    steps, assignment = plan_decisions(
                        steps,
                        weights=task.weights or self.weights,
                        max_cost=task.max_cost,
                        max_latency_s=task.max_latency_s,
                        reward_bounds=policy.reward_bounds,
                        allow_infeasible=allow_infeasible,
                    )
                if assignment is not None:  # the planner may choose another than a recheck's tool
                    self._undo_unplanned_rechecks(keys, steps, before)
            except BaseException:
                self._undo_decisions(keys, before)
                self._structure_rng.bit_generator.state = structure_rng
                raise
        plan = ExecutionPlan._of_steps(task.task_id, task.task_type, steps, task.max_cost, task.max_latency_s, structure)
        if assignment is not None:
            plan.metadata["planner"] = {
                "method": assignment.method,
                "feasible": assignment.feasible,
                "optimal": assignment.optimal,
                "objective": assignment.expected_utility,
                "planning_ms": assignment.planning_time_s * 1e3,
            }
            if not assignment.feasible:  # what the budget is short of: the cheapest cost, the fastest path
                plan.metadata["planner"]["infeasible_reason"] = assignment.info["infeasible_reason"]
        return plan

    def _undo_unplanned_rechecks(
        self, keys: list[tuple[str, str]], steps: Sequence[PlanStep], before: dict[tuple[str, str], Any]
    ) -> None:
        """After the planner chose each step's tool (under a budget, or over several steps): a
        recheck a step's ranking decided for a tool the planner did not choose will not run, so it
        stays due as before the decision (a claim in the store stays held). Else it waited a full
        ``recheck_after`` for nothing, and the tool's next outcome, whenever the policy chose it by
        itself, was learned as the recheck's."""
        chosen = {step.step: step.tool_id for step in steps}
        for key in keys:
            if key not in before:  # a route made by this decision has no recheck due
                continue
            route = self._routes[key]
            tools = {id(d): t for t, d in route.drift.items()}
            undone = False
            for record, _, pending, pending_here, due, _ in before[key][2]:
                if record.pending_here and not pending_here and tools.get(id(record)) != chosen.get(key[1]):
                    record.pending, record.pending_here, record.due = pending, pending_here, due
                    undone = True
            if undone:
                route.next_due = min(d.due for d in route.drift.values())

    def _undo_decisions(self, keys: list[tuple[str, str]], before: dict[tuple[str, str], Any]) -> None:
        """After a failed plan: drop the routes of ``keys`` it made and restore the others'
        decision state (their policies' generators and cached draws, the rechecks scheduled) to
        ``before``."""
        for key in keys:
            if key in before:
                self._routes[key].restore_decision_state(before[key])
            else:
                self._routes.pop(key, None)

    def rank_tools(
        self,
        capability: str | None,
        *,
        task_type: str = "default",
        step: str | None = None,
        context: str | None = None,
        features: Sequence[float] | None = None,
        task_id: str = "-",
    ) -> PlanStep:
        """One decision for one step: the chosen tool first, then the fallbacks, with their
        predictions (no task object, no graph). ``step`` defaults to the capability."""
        self._catch_up()
        capability, task_type, step = _route_names(capability, task_type, step)
        _check_task_id(task_id)
        step = step or capability or DEFAULT_STEP
        x = self._context(features, context)
        with self._lock:
            route, ranking = self._decide_step(capability, task_type, step, x, task_id)
            candidates = tuple(self._choices(route, ranking))
        return PlanStep(step=step, capability=capability, candidates=candidates)

    def rank_tool_ids(
        self,
        capability: str | None,
        *,
        task_type: str = "default",
        step: str | None = None,
        context: str | None = None,
        features: Sequence[float] | None = None,
        task_id: str = "-",
    ) -> Ranking:
        """The ids ``rank_tools`` would rank, in order, without the predictions: the hot path of
        the middleware. A ``Ranking`` is a sequence of tool ids (it compares equal to a list of
        them); the order of the fallbacks is sorted only when something reads past the first."""
        return self._rank_ids(capability, task_type, step, context, features, task_id)

    def _rank_ids(
        self,
        capability: str | None,
        task_type: str,
        step: str | None,
        context: str | None,
        features: Sequence[float] | None,
        task_id: str,
        check: Callable[[Sequence[str]], None] | None = None,
        usable: Container[str] | None = None,
    ) -> Ranking:
        """``rank_tool_ids``, with ``check`` and ``usable`` as in ``_decide_step``."""
        capability, task_type, step, x = self._call_request(capability, task_type, step, context, features)
        _check_task_id(task_id)
        with self._lock:
            return self._decide_step(capability, task_type, step, x, task_id, check, usable)[1]

    def _rank_call(
        self,
        capability: str | None,
        task_type: str,
        context: str | None,
        features: Sequence[float] | None,
        weights: UtilityWeights | None,
        task_id: str,
        check: Callable[[Sequence[str]], None] | None = None,
        usable: Container[str] | None = None,
    ) -> tuple[Ranking, Callable[[ExecutionResult], float]]:
        """``rank_tool_ids`` for a call of the middleware outside traces and groups (``check`` and
        ``usable`` as in ``_decide_step``), and how to record its attempts: ``record_attempt`` with these
        arguments, without checking the names and the request again (they are checked here, once
        per call)."""
        capability, task_type, step, x = self._call_request(capability, task_type, None, context, features)
        with self._lock:
            ranking = self._decide_step(capability, task_type, step, x, task_id, check, usable)[1]

        def record(result: ExecutionResult) -> float:
            if not self._caught_up:
                self.sync()
            with self._lock:
                outcome = self._attempt_outcome(result, capability, task_type, step, weights, None)
                self._record(task_id, task_type, [outcome], x, None)
            return outcome.utility

        return ranking, record

    def _call_request(
        self, capability: Any, task_type: Any, step: Any, context: Any, features: Any
    ) -> tuple[str | None, str, str, Context]:
        """A one-step call's checked names (its step defaulting to its capability) and context."""
        if not self._caught_up:
            self.sync()
        capability, task_type, step = _route_names(capability, task_type, step)
        return capability, task_type, step or capability or DEFAULT_STEP, self._context(features, context)

    def _decide_step(
        self,
        capability: str | None,
        task_type: str,
        step: str,
        x: Context,
        task_id: str,
        check: Callable[[Sequence[str]], None] | None = None,
        usable: Container[str] | None = None,
    ) -> tuple[_Route, Ranking]:
        """Rank one step's candidates for context ``x`` and log the decision; the caller holds
        the lock (and featurised the context before taking it). ``check(tool_ids)`` may refuse
        the call (raise) given the candidates, before they are ranked: a refused call decides
        nothing (its ranking could claim a due recheck, whose outcome would never come).
        ``usable``: the tools the caller can call (None: every one), as ``_rank`` takes it."""
        route = self._checked_route(task_type, step, capability)
        if check is not None:
            check(route.policy.arm_ids)
        ranking = self._rank(route, x, usable)
        self._log_decision(task_id, route, ranking)
        return route, ranking

    def _checked_route(self, task_type: str, step: str, capability: str | None) -> _Route:
        route = self._routes.get((task_type, step))
        if route is not None and route.capability == capability and route.policy._arm_ids:
            return route  # the common case: a known route with candidates, nothing to check
        if not self._candidates(capability):
            raise self._no_tool_for(capability, f"step {step!r}")
        self._check_route_capability(task_type, step, capability)
        return self._route(task_type, step, capability)

    def _no_tool_for(self, capability: str | None, where: str) -> NoToolForCapabilityError:
        """The error for a step no tool serves: with no capability, every tool would serve it, so
        the router has none at all (the message says so rather than naming a capability None)."""
        if capability is None:
            return NoToolForCapabilityError(f"tools: the router has no tools; add one with add_tool ({where})")
        return NoToolForCapabilityError(f"capability: no tool serves {capability!r} ({where})")

    def _rank(self, route: _Route, context: Context, usable: Container[str] | None = None) -> Ranking:
        """The route's tools, the highest sampled score first, then the others by posterior mean
        (exploring is for the first try; a fallback should be likely to work). A due recheck is
        put first only for a tool in ``usable`` (None: any): one the caller cannot call (a tool of
        the router the middleware has no function for) is skipped, its recheck never run, and
        claimed it waited a full ``recheck_after``; unclaimed, it stays due."""
        policy = route.policy
        arms = policy.arm_ids
        scores, means = policy.sample_and_expected(arms, context if self.contextual else None)
        scores = np.asarray(scores, dtype=np.float64)
        means = np.asarray(means, dtype=np.float64)
        # NaN, not inf: UCB1 and epsilon-greedy score an untried arm without a prior +inf (tried
        # first). A sum of squares is NaN only where a value is (inf * 0 never occurs in it), and
        # ndarray.dot costs half of np.isnan(...).any()
        if math.isnan(scores.dot(scores) + means.dot(means)):
            raise FloatingPointError(
                f"policy {policy.name} returned NaN scores for step {route.step!r}: {scores!r}, means {means!r}"
            )
        ranking = Ranking(arms, scores, means)
        if route.next_due <= route.outcomes:
            self._recheck(route, ranking, context, usable)
        return ranking

    def _recheck(self, route: _Route, ranking: Ranking, context: Context, usable: Container[str] | None) -> None:
        """Put first the tool whose recheck is most overdue (drift detection with
        ``recheck_after``): a tool the policy has stopped choosing is still tried now and then, so
        that a repair or an improvement is seen. A due recheck waits up to ``recheck_grace``
        outcomes of the route for a request its outcome would inform (``ChangeDetector.informs``:
        after a drop, one the tool solved before it; else any but one it solved); the most overdue tool
        that this request informs, or whose grace is over, is rechecked now. The policy's own choice
        is never rechecked: it is tried anyway, and its outcome, which the policy learns from, must
        not count as a recheck's (nor let a run of successes fire, ``ChangeDetector.update``)."""
        due = {t: d.due for t, d in route.drift.items() if t in route.policy._index}
        if not due:
            route.next_due = _NEVER
            return
        first = min(due.values())
        if first > route.outcomes:  # a tool that was due has left the route
            route.next_due = first
            return
        assert self.drift_detection is not None and self.drift_detection.recheck_after is not None
        grace = self.drift_detection.recheck_grace
        tool_id = None
        chosen = ranking.arms[ranking.first]
        for tool, when in sorted(due.items(), key=lambda item: item[1]):
            if when > route.outcomes:
                break
            if tool == chosen:  # its outcome reschedules it
                continue
            if usable is not None and tool not in usable:  # not called here: due still, for a call that can
                continue
            detector = route.detectors.get(tool)
            if route.outcomes - when >= grace or detector is None or detector.informs(context):
                if self._claim_recheck(route, tool):
                    tool_id = tool
                    break
        if tool_id is None:  # every due recheck waits for a request that informs it, or runs elsewhere
            route.next_due = min(d.due for d in route.drift.values())
            return
        ranking.first = ranking.recheck = route.policy._index[tool_id]
        drift = route.drift[tool_id]
        # counted when its outcome is learned (_schedule_rechecks), as a router replaying the log counts it
        drift.pending = drift.pending_here = True
        # not again before its outcome comes (then it is rescheduled), or a full interval passes
        drift.due = route.outcomes + self.drift_detection.recheck_after
        route.next_due = min(d.due for d in route.drift.values())
        log.debug("tool_recheck", task_type=route.task_type, step=route.step, tool_id=tool_id)

    def _claim_recheck(self, route: _Route, tool_id: str) -> bool:
        """Whether this router runs the due recheck of ``tool_id`` on ``route``. Routers sharing a
        store claim it there (``Store.claim``), turn by turn, so that one of them runs it rather
        than each: another's recheck is in no log until its outcome is. The turn is one past the
        rechecks learned (every router counts the same from the log) or past the highest turn known
        claimed, so a router that lost one waits, as the one that won does, for its outcome or a
        full ``recheck_after``, then claims the next (the winner's call may never have been
        reported). A store that cannot be reached leaves the recheck to this router, as before."""
        assert self.drift_detection is not None and self.drift_detection.recheck_after is not None
        if self.store is None:
            return True
        drift = route.drift[tool_id]
        turn = max(drift.rechecks, drift.claimed) + 1
        if drift.held == turn:  # claimed for a decision that was undone (a plan that failed): still ours
            drift.claimed = turn
            return True
        name = _recheck_claim_name(route, tool_id)
        self._check_store_open()
        try:
            if self.store.claim(name, turn):
                drift.claimed = drift.held = turn
                return True
            drift.claimed = max(turn, self.store.claimed(name))
        except StoreUnavailableError as exc:
            log.debug("recheck_unclaimed", store=self.store.url, tool_id=tool_id, error=str(exc))
            return True
        drift.due = route.outcomes + self.drift_detection.recheck_after
        log.debug("recheck_claimed_elsewhere", task_type=route.task_type, step=route.step, tool_id=tool_id, turn=drift.claimed)
        return False

    def _choices(self, route: _Route, ranking: Ranking, usable: frozenset[str] | None = None) -> Iterable[ToolChoice]:
        scores, means = ranking.scores, ranking.means
        for i in ranking.positions:
            if usable is not None and ranking.arms[i] not in usable:
                continue
            # a recheck scores as a tool never tried (UCB1's +inf): a plan of several steps or under
            # a budget, which re-chooses every step's tool by its score, runs it as one step does
            score = math.inf if i == ranking.recheck else float(scores[i])
            yield self._choice(route, ranking.arms[i], score, float(means[i]))

    def _log_decision(self, task_id: str, route: _Route, ranking: Ranking) -> None:
        if log.enabled():
            log.info(
                "route_decision",
                task_id=task_id,
                task_type=route.task_type,
                step=route.step,
                capability=route.capability,
                tool_id=ranking[0],
                score=float(ranking.scores[ranking.first]),
                fallbacks=list(ranking[1:]),
            )

    def _decide(
        self,
        task_id: str,
        task_type: str,
        step: str,
        capability: str | None,
        context: Context,
        depends_on: tuple[str, ...],
        usable: frozenset[str] | None = None,
    ) -> PlanStep:
        route = self._route(task_type, step, capability)
        ranking = self._rank(route, context, usable)
        self._log_decision(task_id, route, ranking)
        candidates = tuple(self._choices(route, ranking, usable))
        return PlanStep(step=step, capability=capability, candidates=candidates, depends_on=depends_on)

    def _choice(self, route: _Route, tool_id: str, score: float, mean: float) -> ToolChoice:
        profile = self._tools[tool_id]
        c = route.counts.get(tool_id)
        n, k = (c.calls if c else 0), _PRIOR_WEIGHT
        return ToolChoice(
            tool_id=tool_id,
            score=score,
            expected_utility=mean,
            predicted_success=((c.successes if c else 0) + k * profile.reliability) / (n + k),
            predicted_cost=((c.cost if c else 0.0) + k * profile.cost_per_use) / (n + k),
            predicted_latency_s=((c.latency_s if c else 0.0) + k * profile.expected_latency_s) / (n + k),
        )

    # --- plan, run, learn -----------------------------------------------------------------------
    def execute(self, task: TaskProfile, inputs: Any = None, **options: Any) -> Any:
        """Plan ``task``, run the plan and learn from every attempt, in one call; returns a
        ``toolrouter.executor.TaskExecution`` (the plan, the run with a status per step, the
        utilities learned, the end-to-end outcome).

        Tools are the functions in ``self.functions`` (or ``tools=``), each called with a
        ``StepRequest`` holding ``inputs`` and the outputs of the steps it depends on; the plan
        lists only tools with a function. Options:
        ``tools``, ``executor``, ``config`` (``ExecutorConfig``: timeouts, retries, fallbacks,
        circuit breakers), ``cancel_event`` (an ``asyncio.Event``, or a ``threading.Event`` another
        thread sets), ``deadline_s``, ``allow_infeasible`` (unused with ``plan``), ``plan`` (one
        made earlier; see ``toolrouter.executor.aexecute_task``). Without ``tools``, ``executor``
        or ``config`` (or with them ``None``), one executor is kept, so circuit breakers carry
        over from call to call (it calls what ``self.functions`` holds at each call, assigned anew
        or not). Not from inside a running event loop: ``await aexecute(...)`` there.

        Example:
            >>> from toolrouter import ToolMetaLearner, ToolProfile, TaskProfile
            >>> router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"])], seed=0)
            >>> router.functions["web"] = lambda request: f"results for {request.inputs}"
            >>> run = router.execute(TaskProfile(task_id="t", required_capabilities=["search"]), "bees")
            >>> run.status.value, run.outputs["search"]
            ('succeeded', 'results for bees')
        """
        from toolrouter.executor import execute_task

        return execute_task(self, task, inputs, **self._execute_options(options))

    async def aexecute(self, task: TaskProfile, inputs: Any = None, **options: Any) -> Any:
        """``execute`` for async code."""
        from toolrouter.executor import aexecute_task

        return await aexecute_task(self, task, inputs, **self._execute_options(options))

    def _execute_options(self, options: dict[str, Any]) -> dict[str, Any]:
        # tools=None and the like, as a wrapper passes them on, are the defaults: the kept executor
        if all(options.get(name) is None for name in ("tools", "executor", "config")):
            from toolrouter.executor import learner_executor

            with self._lock:
                if self._executor is None:
                    self._executor = learner_executor(self)
                options["executor"] = self._executor
        return options

    # --- learning -----------------------------------------------------------------------------
    def learn_from_execution(
        self, task: TaskProfile, execution_results: Iterable[ExecutionResult], *, trace_id: str | None = None
    ) -> LearningResult:
        """Learn from the outcomes of ``task``'s attempts (each an ``ExecutionResult``; failures too).

        For a task with declared steps (or a template for its type), each result's ``step`` names
        one of them (a one-step task also takes the default ``"main"``), in any order: they are
        learned in the declared graph's order, each step after those it consumes (in a trace spread
        over calls, those must be in it already or in the same call). For a task that declares
        none, the results are a *trace* of what ran, in order: each result's step, the capability
        it served (``ExecutionResult.capability``; by default the one the router routes that step
        of the task type for, as a step of a plan it made, when the tool serves it; else the tool's
        only capability, or the step's name when the tool serves a capability of that name;
        ``"main"`` alone: any tool; ``"*"`` says so of any step)
        and the earlier steps it consumed (``depends_on``; by default the step before it).

        Every call is a trace from which ``self.structures`` learns the task type's structure,
        once the steps that end it have succeeded (a run cut short by a failure teaches none);
        ``trace_id`` makes several calls one trace (the executor passes one per run, one attempt
        at a time). A task with ``conversation_id`` is a turn of that conversation: once its trace
        counts, the structure model learns what it ran again of what the conversation had run, and
        plans the conversation's later tasks knowing what it ran (``toolrouter.structure``). A
        call without ``trace_id`` that reports only some of the task's declared steps is no trace:
        the others never ran in it. All results are checked before anything is learned: an
        unknown tool, a step the task does not have, a tool that does not serve its step, a
        non-finite number, a step whose capability or parents change within the trace, a
        ``trace_id`` held open for another task type (or conversation), a parent that is not in
        the trace or runs after the step, or dependencies that form a cycle raise an error naming
        the field and value, and the router and store are left unchanged.

        Example:
            >>> from toolrouter import ToolMetaLearner, ToolProfile, TaskProfile, ExecutionResult
            >>> router = ToolMetaLearner([ToolProfile(tool_id="web", capabilities=["search"]),
            ...                           ToolProfile(tool_id="calc", capabilities=["analysis"])], seed=0)
            >>> task = TaskProfile(task_id="t", task_type="research")
            >>> for _ in range(2):
            ...     _ = router.learn_from_execution(task, [
            ...         ExecutionResult(tool_id="web", step="search", success=True),
            ...         ExecutionResult(tool_id="calc", step="analysis", success=True)])
            >>> plan = router.optimize_task_execution(task)
            >>> plan.topological_order(), plan.structure.source
            (['search', 'analysis'], 'learned')
        """
        self._catch_up()
        task = self._task(task)
        trace: _Trace | None = _Trace(
            _checked_trace_id(trace_id), _request(task.context), task.complexity.value, task.conversation_id
        )
        weights = task.weights or self.weights
        declared = self._declared(task)
        results = self._results(execution_results)
        context = self._context(task.features, task.context)
        with self._lock:
            self.structures.check_task_type(trace.trace_id, task.task_type, conversation=trace.conversation)
            self.structures.check_request(trace.request)  # a featurizer's bad vector, before anything is learned
            if declared is not None:
                specs = declared.by_step
                given = [self._validate(task, specs, weights, i, r) for i, r in enumerate(results)]
                outcomes = self._in_declared_order(given, specs)
                if trace_id is None and len({o.step for o in outcomes}) < len(specs):
                    # the steps it lacks never ran in this call: its part of the task is no structure
                    # (it taught the task type a step without the steps it consumes)
                    trace = None
                elif trace_id is not None:
                    # a step before the steps it consumes, in an earlier call of the trace, was
                    # learned without them, as a step of its own
                    index = {id(o): i for i, o in enumerate(given)}
                    self.structures.check_trace(
                        trace_id, [(o.step, o.capability, o.depends_on) for o in outcomes],
                        lambda k: f"execution_results[{index[id(outcomes[k])]}]",
                    )
            else:
                outcomes = self._trace_outcomes(task.task_type, trace.trace_id, weights, results)
            for o in outcomes:
                self._check_route_capability(task.task_type, o.step, o.capability)
            learned = self._record(task.task_id, task.task_type, outcomes, context, trace)
        return _learning_result(task.task_id, learned)

    def _trace_outcomes(
        self, task_type: str, trace_id: str, weights: UtilityWeights, results: list[ExecutionResult]
    ) -> list[_Outcome]:
        """The outcomes of a trace of a task that declares no steps: each result's capability
        resolved (see ``learn_from_execution``), its fields checked, and its parents resolved and
        checked against the trace (``StructureModel.check_trace``)."""
        known: dict[str, str | None] = {}  # step -> its capability, in the trace or in these results
        outcomes = []
        for i, r in enumerate(results):
            where = f"execution_results[{i}]"
            if r.step not in known:  # looked up step by step: a long trace is not copied per attempt
                earlier = self.structures.open_step(trace_id, r.step)
                if earlier is not None:
                    known[r.step] = earlier.capability
            profile = self._tools.get(r.tool_id) or self._retired.get(r.tool_id)
            if profile is None:
                raise UnknownToolError(r.tool_id, field=f"{where}.tool_id")
            if r.capability is not None:
                capability: str | None = _routed(r.capability)
            elif r.step in known:
                capability = known[r.step]
            elif r.step == DEFAULT_STEP:
                capability = None
            elif (task_type, r.step) in self._routes and profile.serves(self._routes[task_type, r.step].capability):
                # a step of a plan the router made: the any-tool step renamed "main_2" (its name held
                # for another capability) was taken for its tool's capability, and refused
                capability = self._routes[task_type, r.step].capability
            elif len(profile.capabilities) == 1:
                capability = profile.capabilities[0]
            elif r.step in profile.capabilities:
                capability = r.step
            else:
                raise InvalidOutcomeError(
                    f"{where}.capability: tool {r.tool_id!r} serves {list(profile.capabilities)!r}; say which one step "
                    f"{r.step!r} used (ExecutionResult.capability)"
                )
            known.setdefault(r.step, capability)
            outcome = self._validate_fields(i, r, capability, weights)
            outcome.depends_on = r.depends_on
            outcomes.append(outcome)
        steps = self.structures.check_trace(
            trace_id, [(o.step, o.capability, o.depends_on) for o in outcomes], lambda i: f"execution_results[{i}]"
        )
        for o, step in zip(outcomes, steps):
            o.depends_on = step.depends_on
        return outcomes

    def trace_steps(self, trace_id: str) -> tuple[TraceStep, ...]:
        """The steps trace ``trace_id`` has so far, in the order they first ran (none for a trace
        this router does not hold open)."""
        _check_names(trace_id=trace_id)  # a trace id is a string: another value named no trace, silently
        with self._lock:
            return self.structures.open_steps(trace_id)

    def close_trace(self, trace_id: str, *, finished: bool = True) -> bool:
        """Declare trace ``trace_id`` complete (the executor does at the end of a run): it is no
        longer kept open, nor saved as open; a later attempt with its id starts a new trace.
        ``finished=False`` (the executor's for a run that did not succeed) says some steps never
        ran: the trace teaches no structure. With a store, the close of a trace this router held
        open is appended to its log (``TraceClose``) after the trace's attempts, so that a router
        reopened on the store, or another one syncing from it, closes it at the same place and
        learns the same structures. Returns whether this router held it open."""
        _check_names(trace_id=trace_id)
        if not isinstance(finished, bool):
            raise TypeError(f"finished: expected True or False, got {short_repr(finished)}")
        with self._lock:
            if self.store is not None and not self._closed and self.structures.open_steps(trace_id):
                # the store first, as for attempts: if it fails, the trace stays open here too (a
                # closed router's store records nothing more, and a run it cut short ends quietly)
                self._append([TraceClose(trace_id, finished, writer=self.writer)])
            return self.structures.close(trace_id, finished=finished)

    def check_trace_step(
        self,
        trace_id: str,
        step: str,
        capability: str | None,
        depends_on: Sequence[str] | None,
        field: str,
        task_type: str | None = None,
        conversation_id: str | None = None,
    ) -> TraceStep:
        """The step as it would join trace ``trace_id`` (parents resolved), or the
        ``InvalidOutcomeError`` recording it would raise, naming ``field``; changes nothing. With
        ``task_type``, a trace held open for another task type (or, with ``conversation_id``, for
        another conversation) is refused too."""
        if not self._caught_up:  # checked against the trace's steps in the store, as recording them would be
            self.sync()
        with self._lock:
            if task_type is not None:
                self.structures.check_task_type(trace_id, task_type, field, conversation_id)
            (joined,) = self.structures.check_trace(trace_id, [(step, _routed(capability), depends_on)], lambda i: field)
        return joined

    def record_attempt(
        self,
        result: ExecutionResult,
        *,
        capability: str | None,
        task_type: str = "default",
        step: str | None = None,
        task_id: str = "-",
        context: str | None = None,
        features: Sequence[float] | None = None,
        weights: UtilityWeights | Mapping[str, float] | None = None,
        trace_id: str | None = None,
        conversation_id: str | None = None,
    ) -> float:
        """Learn from one attempt of a one-step call; returns its utility. Checks as
        ``learn_from_execution`` does.

        The attempt is recorded at ``step``; without it, at the step ``result`` names
        (``ExecutionResult.step``, when given), else at the capability's name (``"main"`` without
        one). A result naming another step than ``step`` is refused, naming both.

        With ``trace_id`` the attempt joins that trace (``learn_from_execution``): its step after
        the trace's earlier ones, consuming ``result.depends_on`` (default: the step before), with
        ``context`` as the trace's request text and ``conversation_id`` as the conversation its
        task is a turn of (``TaskProfile.conversation_id``; as the request, the trace's first
        attempt says); without, it is no trace (and a ``conversation_id`` or ``result.depends_on`` is
        refused)."""
        with self._lock:  # checked and recorded at once: a trace's next step sees this one
            task_type, outcome, x, trace = self._check_attempt(
                result, capability, task_type, step, task_id, context, features, weights, trace_id, conversation_id
            )
            self._record(task_id, task_type, [outcome], x, trace)
        return outcome.utility

    def check_attempt(
        self,
        result: ExecutionResult,
        *,
        capability: str | None,
        task_type: str = "default",
        step: str | None = None,
        task_id: str = "-",
        context: str | None = None,
        features: Sequence[float] | None = None,
        weights: UtilityWeights | Mapping[str, float] | None = None,
        trace_id: str | None = None,
        conversation_id: str | None = None,
    ) -> PendingAttempt:
        """``record_attempt``'s checks alone: the attempt as a ``PendingAttempt`` for
        ``record_attempts``, or the error recording it would raise; changes nothing. (A step of a
        trace is checked against the trace's steps recorded so far.)"""
        task_type, outcome, x, trace = self._check_attempt(
            result, capability, task_type, step, task_id, context, features, weights, trace_id, conversation_id
        )
        return PendingAttempt(task_id, task_type, outcome.utility, outcome, x, trace, self)

    def _check_attempt(
        self,
        result: ExecutionResult,
        capability: str | None,
        task_type: str,
        step: str | None,
        task_id: str,
        context: str | None,
        features: Sequence[float] | None,
        weights: UtilityWeights | None,
        trace_id: str | None,
        conversation_id: str | None = None,
    ) -> tuple[str, _Outcome, Context, _Trace | None]:
        """``check_attempt`` without wrapping its answer in a ``PendingAttempt``: the task type
        as recorded, the outcome, the call's context and its trace. ``record_attempt`` records
        them at once (one call in each routed call of the middleware)."""
        if not self._caught_up:
            self.sync()
        capability, task_type, step = _route_names(capability, task_type, step)
        _check_task_id(task_id)
        if type(result) is not ExecutionResult:
            (result,) = self._results([result])
        step = _attempt_step(result, step, capability)
        x = self._context(features, context)
        weights = None if weights is None else checked_weights(weights)
        if conversation_id is not None:
            conversation_id = check_conversation_id(conversation_id)
            if trace_id is None:  # learned of its traces alone: kept, it would teach nothing, silently
                raise ValueError(
                    f"conversation_id: an attempt outside a trace is part of no conversation's tasks; give its trace_id "
                    f"too, got conversation_id={conversation_id!r}"
                )
        if result.depends_on is not None and trace_id is None:  # stored without them: dropped, silently
            raise InvalidOutcomeError(
                f"execution_results[0].depends_on: an attempt outside a trace consumes no step's output; give its "
                f"trace_id too, got depends_on={list(result.depends_on)!r}"
            )
        trace = None if trace_id is None else _Trace(_checked_trace_id(trace_id), _request(context), None, conversation_id)
        with self._lock:
            outcome = self._attempt_outcome(result, capability, task_type, step, weights, trace)
        return task_type, outcome, x, trace

    def _attempt_outcome(
        self,
        result: ExecutionResult,
        capability: str | None,
        task_type: str,
        step: str,
        weights: UtilityWeights | None,
        trace: _Trace | None,
    ) -> _Outcome:
        """The checked outcome of an attempt at ``step`` (names checked; the caller holds the lock)."""
        if result.step != step:
            result = result.model_copy(update={"step": step})
        if result.capability is not None and _routed(result.capability) != capability:
            raise InvalidOutcomeError(
                f"execution_results[0].capability: {result.capability!r} differs from capability={capability!r}"
            )
        outcome = self._validate_fields(0, result, capability, weights or self.weights)
        if trace is not None:
            self.structures.check_task_type(trace.trace_id, task_type, conversation=trace.conversation)
            self.structures.check_request(trace.request)
            (joined,) = self.structures.check_trace(
                trace.trace_id, [(step, capability, result.depends_on)], lambda i: "execution_results[0]"
            )
            outcome.depends_on = joined.depends_on
        self._check_route_capability(task_type, step, capability)
        return outcome

    def record_attempts(self, pending: Sequence[PendingAttempt]) -> None:
        """Record attempts ``check_attempt`` accepted: appended to the store in one transaction
        (all or none; an error of the store leaves the router as it was), then learned in order.
        Attempts that end together (the concurrent calls of a server) cost one transaction.
        Refused (``ValueError`` naming ``pending[i]``; nothing recorded): an attempt recorded
        already, one another router checked, one at a step whose route now serves another
        capability (made since it was checked, by another thread or an earlier attempt here), and
        one its trace cannot take after the attempts before it (a step that changes its capability
        or parents, a trace of two task types or conversations). A step of a trace without
        ``depends_on`` follows the step before it, as when its attempts are recorded one by one."""
        for i, p in enumerate(pending):
            if not isinstance(p, PendingAttempt):
                raise TypeError(f"pending[{i}]: expected a PendingAttempt from check_attempt, got {p!r}")
        if not pending:
            return
        with self._lock:
            joined = self._check_pending(pending)
            for p, step in zip(pending, joined):
                if step is not None:  # its parents as the attempts before it in the batch leave the trace
                    p._outcome.depends_on = step.depends_on
            self._record_checked(pending)

    def _check_pending(
        self, pending: Sequence[PendingAttempt], first: int = 0, name: str | None = None,
        refused: dict[int, ValueError] | None = None,
    ) -> list[TraceStep | None]:
        """Refuse, from ``pending[first]`` on, what recording ``pending`` would (with the lock
        held): an attempt recorded already (or earlier in ``pending``), which would be stored and
        learned twice; one another router checked; one whose step's route serves another
        capability than it: a route yet to be made when it was checked, made since by another
        thread or by an earlier attempt of ``pending`` (not refused itself), would store it and
        never learn it; and one of a trace that the attempts before it (recorded, or earlier in
        ``pending``) make it no step of (``StructureModel.check_trace``: each attempt was checked
        alone, against the trace without the others). ``name``: the field named (default
        ``pending[i]``). With ``refused``, each error goes there by the attempt's index, and the
        check goes on, instead of raising. Returns, per attempt, its step as it joins its trace
        (``None``: no trace, or refused)."""
        made: dict[tuple[str, str], str | None] = {}  # the routes the attempts before make
        seen: set[int] = set()
        # per trace, its task type and the attempts of it before, each as check_trace reads it and where it is
        traces: dict[str, tuple[str, list[tuple[str, str | None, Sequence[str] | None]], list[str]]] = {}
        # per trace, the conversation the attempts of it before named; for a trace they open, the
        # first one's, None too: its conversation, as check_task_type holds a trace's once opened
        named: dict[str, str | None] = {}
        joined: list[TraceStep | None] = [None] * len(pending)
        for i, p in enumerate(pending):
            o = p._outcome
            if p._trace is not None:
                task_type, entries, wheres = traces.setdefault(p._trace.trace_id, (p.task_type, [], []))
            if i >= first:
                where = name or f"pending[{i}]"
                error = None
                if p._recorded or id(p) in seen:
                    error = ValueError(f"{where}: this attempt is already recorded; a PendingAttempt is recorded once")
                elif p._router is not self:
                    error = ValueError(
                        f"{where}: checked by another router; record an attempt with the router whose "
                        "check_attempt accepted it (its tools, routes and context are that router's)"
                    )
                else:
                    try:
                        self._check_route_capability(p.task_type, o.step, o.capability, f"{where}.capability", made)
                        if p._trace is not None:
                            joined[i] = self._check_joins(
                                p, task_type, named.get(p._trace.trace_id, p._trace.conversation), entries, [*wheres, where]
                            )
                    except ValueError as exc:
                        error = exc
                if error is not None:
                    if refused is None:
                        raise error
                    refused[i] = error
                    continue
            seen.add(id(p))
            if p._trace is not None:
                entries.append((o.step, o.capability, o.result.depends_on))
                wheres.append(name or f"pending[{i}]")
                trace_id = p._trace.trace_id
                if p._trace.conversation is not None or (len(entries) == 1 and not self.structures.open_steps(trace_id)):
                    named.setdefault(trace_id, p._trace.conversation)
            if (p.task_type, o.step) not in self._routes and self._makes_route(
                o.result.tool_id, o.capability, o.result.success, o.result.error
            ):
                made.setdefault((p.task_type, o.step), o.capability)
        return joined

    def _check_joins(
        self,
        p: PendingAttempt,
        task_type: str,
        conversation: str | None,
        before: list[tuple[str, str | None, Sequence[str] | None]],
        wheres: list[str],
    ) -> TraceStep:
        """Attempt ``p``'s step as it joins its trace after the attempts ``before`` (of the same
        trace, ``task_type`` the first's, ``conversation`` the trace's in this batch: the first
        named, or none if the first opened it naming none; ``wheres``: where each is, then ``p``),
        or the ``InvalidOutcomeError`` naming ``wheres[-1]``."""
        trace_id, where = p._trace.trace_id, wheres[-1]  # type: ignore[union-attr]
        if p.task_type != task_type:
            raise InvalidOutcomeError(
                f"{where}.trace_id: trace {trace_id!r} is a trace of task type {task_type!r} in this batch, "
                f"got task type {p.task_type!r}"
            )
        named = p._trace.conversation  # type: ignore[union-attr]
        if named is not None and conversation != named:
            raise InvalidOutcomeError(
                f"{where}.trace_id: trace {trace_id!r} is a trace of conversation {conversation!r} in this batch, "
                f"got conversation {named!r}"
            )
        self.structures.check_task_type(trace_id, p.task_type, f"{where}.trace_id", named)
        o = p._outcome
        steps = self.structures.check_trace(trace_id, [*before, (o.step, o.capability, o.result.depends_on)], wheres.__getitem__)
        return steps[-1]

    def _record_checked(self, pending: Sequence[PendingAttempt]) -> None:
        """``record_attempts`` of attempts known to be new (under the lock)."""
        if self.drift_detection is not None:
            self._mark_rechecks([(p.task_type, p._outcome) for p in pending])
        if self.store is not None:
            self._append([r for p in pending for r in self._records(p.task_id, p.task_type, [p._outcome], p._context, p._trace)])
        for p in pending:
            self._learn(p.task_id, p.task_type, [p._outcome], p._context, p._trace)
            object.__setattr__(p, "_recorded", True)  # frozen for the caller, not for the router
        self._count_for_sync(len(pending))

    @staticmethod
    def _results(execution_results: Iterable[Any]) -> list[ExecutionResult]:
        if isinstance(execution_results, (ExecutionResult, Mapping)):
            raise TypeError("execution_results: expected a list of ExecutionResult, got a single one")
        if isinstance(execution_results, (str, bytes)) or not isinstance(execution_results, Iterable):
            raise TypeError(f"execution_results: expected a list of ExecutionResult, got {execution_results!r:.100}")
        out = []
        for i, r in enumerate(execution_results):
            if isinstance(r, ExecutionResult):
                out.append(r)
                continue
            try:
                out.append(ExecutionResult.model_validate(r))
            except ValidationError as exc:
                raise InvalidOutcomeError(f"execution_results[{i}]: {exc}") from None
        return out

    def _validate(
        self, task: TaskProfile, specs: dict[str, _StepSpec], weights: UtilityWeights, i: int, r: ExecutionResult
    ) -> _Outcome:
        """An outcome of a task with declared steps: the step's capability and parents are the
        declaration's, and a result that gives them must agree."""
        if r.step not in specs and r.step == DEFAULT_STEP and len(specs) == 1:
            r = r.model_copy(update={"step": next(iter(specs))})
        spec = specs.get(r.step)
        if spec is None:
            raise InvalidOutcomeError(
                f"execution_results[{i}].step: task {task.task_id!r} has no step {r.step!r}; its steps are {sorted(specs)!r}"
            )
        outcome = self._validate_fields(i, r, spec.capability, weights)
        if r.capability is not None and _routed(r.capability) != spec.capability:
            raise InvalidOutcomeError(
                f"execution_results[{i}].capability: step {r.step!r} of task {task.task_id!r} is declared with "
                f"capability {spec.capability!r}, got {r.capability!r}"
            )
        if r.depends_on is not None and set(r.depends_on) != set(spec.depends_on):
            raise InvalidOutcomeError(
                f"execution_results[{i}].depends_on: step {r.step!r} of task {task.task_id!r} is declared to consume "
                f"{list(spec.depends_on)!r}, got {list(r.depends_on)!r}"
            )
        outcome.depends_on = tuple(spec.depends_on)
        return outcome

    @staticmethod
    def _in_declared_order(outcomes: list[_Outcome], by_step: dict[str, _StepSpec]) -> list[_Outcome]:
        """The outcomes with every step after the steps it is declared to consume (a stable sort by
        depth in the declared graph). Results are often gathered in another order (by name, as
        they finished); the trace keeps only the parents it has run, so a step recorded before
        its parent would be learned without that dependency."""
        if len(outcomes) < 2:
            return outcomes
        depth: dict[str, int] = {}

        def level(step: str) -> int:
            if step not in depth:
                depth[step] = 1 + max((level(d) for d in by_step[step].depends_on), default=-1)
            return depth[step]

        return sorted(outcomes, key=lambda o: level(o.step))

    def _validate_fields(self, i: int, r: ExecutionResult, capability: str | None, weights: UtilityWeights) -> _Outcome:
        """The outcome of result ``i`` at a step serving ``capability``: its tool serves it and its
        numbers give a usable utility."""
        profile = self._tools.get(r.tool_id) or self._retired.get(r.tool_id)
        if profile is None:
            raise UnknownToolError(r.tool_id, field=f"execution_results[{i}].tool_id")
        if not profile.serves(capability) and not self._served_lately(r.tool_id, capability):
            raise InvalidOutcomeError(
                f"execution_results[{i}].tool_id: {r.tool_id!r} does not serve capability {capability!r} of step {r.step!r}"
            )
        # models validate these, but model_construct() and the attempt loop's _of_attempt do not:
        # never let NaN in (a NaN, an infinity or a non-number fails the chained comparison; the
        # loop below says which)
        quality, cost, latency_s = r.quality, r.cost, r.latency_s  # once: a model's fields are slower to read
        try:
            valid = 0.0 <= quality <= 1.0 and 0.0 <= cost < math.inf and 0.0 <= latency_s < math.inf
        except TypeError:
            valid = False
        if not valid:
            _check_numbers(f"execution_results[{i}]", r)
        utility = weights.utility(r.success, quality, cost, latency_s)
        if not math.isfinite(utility) or abs(utility) > MAX_ABS_REWARD:
            raise InvalidOutcomeError(
                f"execution_results[{i}]: utility must be finite and within +-{MAX_ABS_REWARD:g}, got {utility!r}"
            )
        return _Outcome(r.step, capability, r, float(utility))

    def _served_lately(self, tool_id: str, capability: str | None) -> bool:
        """Whether a former profile of ``tool_id`` served ``capability``: a call that started
        then ends with an outcome to record (stored; no route of the capability learns it)."""
        former = self._retired.get(tool_id)
        return former is not None and former.serves(capability)

    def _record(
        self,
        task_id: str,
        task_type: str,
        outcomes: list[_Outcome],
        context: Context,
        trace: _Trace | None = None,
    ) -> list[_Outcome]:
        """Append to the store, then update the policies and, for a trace, the structure model
        (caller holds the lock, outcomes are validated); returns the outcomes learned (``_learn``).
        The store goes first: if it fails, nothing was learned."""
        if not outcomes:
            return []
        if self.drift_detection is not None:
            self._mark_rechecks([(task_type, o) for o in outcomes])
        if self.store is not None:
            self._append(self._records(task_id, task_type, outcomes, context, trace))
        learned = self._learn(task_id, task_type, outcomes, context, trace)
        self._count_for_sync(len(outcomes))
        return learned

    def _records(
        self, task_id: str, task_type: str, outcomes: list[_Outcome], context: Context, trace: _Trace | None
    ) -> list[AttemptRecord]:
        """The store's rows of validated outcomes."""
        return [
            AttemptRecord(
                task_id=task_id,
                task_type=task_type,
                step=o.step,
                capability=o.capability,
                tool_id=o.result.tool_id,
                success=o.result.success,
                quality=float(o.result.quality),  # type: ignore[arg-type]
                cost=o.result.cost,
                latency_s=o.result.latency_s,
                utility=o.utility,
                error=o.result.error,
                timestamp=o.result.timestamp,
                context=context if self.contextual else None,  # a request's text or features stay in memory
                writer=self.writer,
                trace_id=None if trace is None else trace.trace_id,
                depends_on=None if trace is None else o.depends_on,
                request=None if trace is None else trace.request,
                complexity=None if trace is None else trace.complexity,
                recheck=o.recheck,
                request_key=context if isinstance(context, RequestKey) else None,
                conversation_id=None if trace is None else trace.conversation,
            )
            for o in outcomes
        ]

    def _mark_rechecks(self, outcomes: list[tuple[str, _Outcome]]) -> None:
        """Flag, among ``outcomes`` (with their task types), the one that answers an awaited
        recheck: the first outcome of that tool at that route that ``_apply`` learns (not one the
        caller cancelled). It is learned as the recheck's, and its record says so, so that a router
        replaying the log learns it the same way (caller holds the lock)."""
        taken: set[tuple[str, str, str]] = set()
        for task_type, o in outcomes:
            o.recheck = False  # a PendingAttempt whose append failed is marked again
            route = self._routes.get((task_type, o.step))
            tool_id = o.result.tool_id
            drift = None if route is None else route.drift.get(tool_id)
            if drift is None or not drift.pending or (task_type, o.step, tool_id) in taken:
                continue
            if self._applies(route, o.capability, tool_id, o.result.success, o.result.error):  # type: ignore[arg-type]
                o.recheck = True
                taken.add((task_type, o.step, tool_id))

    def _makes_route(self, tool_id: str, capability: str | None, success: bool, error: str | None) -> bool:
        """Whether an outcome at a step with no route makes one: one of a capability some tool
        serves (of a tool not registered too: the route counts it, see ``_apply``)."""
        return not cancelled_by_caller(success, error) and bool(self._candidates(capability))

    def _applies(self, route: _Route, capability: str | None, tool_id: str, success: bool, error: str | None) -> bool:
        """Whether an outcome of ``tool_id`` at ``route`` is learned there (see ``_apply``)."""
        if tool_id not in self._tools or cancelled_by_caller(success, error):
            return False
        return route.capability == capability and tool_id in route.policy._index

    def _append(self, records: list[LogEntry]) -> None:
        """Append ``records`` to the store (one transaction) and move the watermark past them."""
        assert self.store is not None
        self._check_store_open()
        ids = self.store.append(records)
        self._held_back = not ids
        if not ids:  # kept in the store's outage journal: the ids come when it is written
            self._journaled += len(records)
        elif ids[0] == self._seen_upto + 1 and ids[-1] == self._seen_upto + len(ids) and not self._own_ahead:
            self._seen_upto = ids[-1]  # nobody else wrote in between: no gap to catch up on
        else:
            self._own_ahead.update(ids)

    def _sync_before_removal(self) -> None:
        """Catch up with the log before appending a ``ToolRemoval``: a router replaying the log
        learns every entry below it, then forgets the tool's attempts, so this one must have
        learned them too before it forgets. Another writer's attempt of the tool that lands below
        it all the same (appended between the two) is read while the tool is removed here, or no
        longer serves its capability, and teaches it nothing: the registration that gives it back
        catches up first, and appends a removal of its own (``add_tool``, ``update_tool``). One
        that lands below that one is learned when read, and forgotten again when the read reaches
        the removal (``_replay``), as by a router replaying the log."""
        self.sync()

    def _learn(
        self, task_id: str, task_type: str, outcomes: list[_Outcome], context: Context, trace: _Trace | None
    ) -> list[_Outcome]:
        """Outcomes that are in the store into the policies and, for a trace, the structure model;
        returns those a policy learned (not a removed tool's, nor one its caller cancelled)."""
        logging = log.enabled()  # checked once: building an event's fields costs as much as the update
        learned = []
        for o in outcomes:
            r = o.result
            if self._apply(task_type, o.step, o.capability, r.tool_id, r.success, o.utility, r.quality, r.cost, r.latency_s, context, r.error, o.recheck):  # type: ignore[arg-type]
                learned.append(o)
            if not logging:
                continue
            log.info(
                "tool_outcome",
                task_id=task_id,
                task_type=task_type,
                step=o.step,
                tool_id=r.tool_id,
                success=r.success,
                utility=o.utility,
                cost=r.cost,
                latency_s=r.latency_s,
                error=r.error,
            )
        if trace is not None:
            for o in outcomes:
                # a late outcome of a removed tool too: its policy learns nothing, but the step ran,
                # and the steps after it consume it
                self.structures.observe(
                    trace.trace_id, task_type, TraceStep(o.step, o.capability, o.depends_on or ()),
                    request=trace.request, complexity=trace.complexity, succeeded=bool(o.result.success),
                    conversation=trace.conversation,
                )
        return learned

    def _count_for_sync(self, n: int) -> None:
        """Catch up with the store every ``sync_every`` attempts recorded, and save a snapshot
        every ``snapshot_every``."""
        if self.store is None:
            return
        if self.sync_every is not None:
            self._since_sync += n
            if self._since_sync >= self.sync_every:
                self.sync()
        if self.snapshot_every is not None:
            self._since_snapshot += n
            # while the store holds attempts back, saving would wait up to its timeout in every call
            if self._since_snapshot >= self.snapshot_every and not self._held_back:
                try:
                    self.save()
                except StoreUnavailableError as exc:  # the attempts are kept; the next one tries again
                    log.warning("snapshot_deferred", store=self.store.url, error=str(exc))

    def _apply(
        self,
        task_type: str,
        step: str,
        capability: str | None,
        tool_id: str,
        success: bool,
        utility: float,
        quality: float,
        cost: float,
        latency_s: float,
        context: Context,
        error: str | None = None,
        recheck: bool = False,
        replayed: bool = False,
    ) -> bool:
        """One outcome into the route's policy and counts; False if it no longer applies (a removed
        tool, a route now serving another capability) or is none of the tool's (its caller
        cancelled the attempt: ``CANCELLED_BY_CALLER``). ``recheck``: it is the outcome of a
        recheck (``_mark_rechecks`` live, the attempt's record on replay); ``replayed``: read from
        the store, written by another router (or by this one before it resumed)."""
        route = self._routes.get((task_type, step))
        if route is None:
            if not self._makes_route(tool_id, capability, success, error):
                return False
            route = self._route(task_type, step, capability)
        if not self._applies(route, capability, tool_id, success, error):
            if route.capability == capability and not cancelled_by_caller(success, error):
                # a tool with no arm here (removed since it was called, or never registered here):
                # the route counts its outcome as the router that had its arm did, which forgot
                # only the arm's statistics, so that a router rebuilt from the log ends there too
                route.policy.advance()
                route.outcomes += 1
                self._outcomes += 1
            return False
        policy = route.policy
        bounds = policy.reward_bounds
        reward = (bounds[0] + (bounds[1] - bounds[0]) * float(success)) if bounds else utility
        x = context if policy.contextual else None
        detector = None
        if self.drift_detection is not None:
            policy._check_reward(reward)  # a bad outcome must not reach the detector either
            detector = route.detectors.get(tool_id)
            if detector is None:
                detector = route.detectors[tool_id] = self.drift_detection.make()
            # the detector watches the reward itself, not its gap to the policy's prediction: the
            # prediction moves while the policy learns (right after a reset most of all), and a
            # detector takes such a moving gap for a change
            # a run of successes is a rise only on a recheck (see ChangeDetector.update); the context
            # lets the run test judge the outcome by the tool's record on this request
            fired = detector.update(reward, success, rise_run=recheck, request=context)
            if fired:
                self._forget_tool(route, tool_id, detector, f"{detector.name}: utility {_MOVED[detector.last_direction]}")
            # a recheck found the tool better when its detector now sees a rise (or just found one)
            better = detector.rise_evidence > 0.0 or (fired and detector.last_direction == "up")
            if better and not fired and recheck and detector.last_direction == "down":
                # a recheck of a tool whose latest change was a drop found it better: that one
                # outcome restarts it (policy and detector), so that the policy tries it again at
                # once and a repair is seen by one call, not by the many the test would need
                detector.reset()
                detector.last_direction = "up"
                self._forget_tool(route, tool_id, detector, "recheck: utility rose")
        policy.update(tool_id, reward, x)
        if self.reward_model is not None:
            route.recent.append((context, tool_id, utility))
        counts = route.counts.get(tool_id)
        if counts is None:
            counts = route.counts[tool_id] = _Counts()
        counts.add(success, utility, quality, cost, latency_s)
        route.outcomes += 1
        self._outcomes += 1
        if detector is not None and detector.recheck_after is not None:
            self._schedule_rechecks(route, tool_id, detector, better, fired, recheck, replayed)
        return True

    def _schedule_rechecks(
        self, route: _Route, tool_id: str, detector: ChangeDetector, better: bool, fired: bool, recheck: bool,
        replayed: bool = False,
    ) -> None:
        """After an outcome of ``tool_id``: its next recheck is due after its detector's interval
        (shorter while the detector sees a rise coming, longer after rechecks in a row that were not
        ``better``: that left the detector seeing no rise; a recheck whose outcome ``fired`` the
        detector began a new regime and misses nothing); tools that joined the route since are
        scheduled a full interval from now."""
        now, after = route.outcomes, detector.recheck_after
        assert after is not None
        drift = route.drift
        for arm in route.policy.arm_ids:
            if arm not in drift:
                drift[arm] = _ToolDrift(due=now + after)
        tool = drift[tool_id]
        if recheck:
            # counted by its outcome, not its decision: a call cancelled or never reported tried
            # nothing, and the log, which a reopened or syncing router counts from, holds outcomes
            tool.rechecks += 1
            if not (replayed and tool.pending_here):
                # another router's recheck does not answer this one's, decided before that outcome
                # came: its own outcome, still to come, is learned (and stored) as a recheck's too
                tool.pending = tool.pending_here = False
            # only a tool whose latest change was a drop backs off: one that was never reset keeps
            # its full rate, so that a weak tool that improves is seen as soon as before
            # nor does the recheck that found the drop: the rechecks after it are the new regime's
            tool.misses = 0 if better or fired or detector.last_direction != "down" else tool.misses + 1
        interval = detector.recheck_interval(tool.misses)
        tool.due = now + (after if interval is None else interval)
        route.next_due = min(d.due for d in drift.values())

    def _forget_tool(self, route: _Route, tool_id: str, detector: ChangeDetector, reason: str) -> None:
        """A tool's utility on ``route`` changed (``reason``; the direction is the detector's
        ``last_direction``): restart its statistics there so that it is tried again soon and
        judged on what it does now.

        The restart prior is the meta-learned one where there is a reward model (adapted first to
        the route's recent outcomes), else the policy's ``population_prior``: what the route's other
        tools earn, with their spread as uncertainty (never a prior of zero utility, which linear
        policies would give and never try again)."""
        model = self.reward_model
        prior = None
        if model is not None and isinstance(route.policy, NeuralLinearThompson):
            from toolrouter.reward_model import Outcome

            recent = [Outcome(route.task_type, t, x, u) for x, t, u in route.recent if model.knows(t)]
            if recent:
                model.adapt(recent)
            prior = self._prior(self._tools[tool_id], route)
        route.policy.reset_arm(tool_id, prior)
        direction = detector.last_direction
        drift = route.drift.get(tool_id)
        if drift is None:
            drift = route.drift[tool_id] = _ToolDrift(due=_NEVER if detector.recheck_after is None else 0)
        drift.resets += 1
        drift.misses = 0  # a new regime: rechecks start again at the full rate
        drift.last_reset_at = self._outcomes + 1  # this outcome's number
        drift.last_reason = reason
        # a change found again while rebuilding from the store's history is no news: it was warned
        # of when it happened, and warning again at every restart would read as a new drift
        emit = log.debug if self._replaying_history else log.warning
        emit(
            "drift_detected", task_type=route.task_type, step=route.step, tool_id=tool_id, direction=direction,
            resets=drift.resets, replayed=self._replaying_history,
        )

    # --- many processes -----------------------------------------------------------------------
    def _attach(self, store: Store) -> None:
        """Use ``store``, and catch up at the next decision whenever it says others appended."""
        self.store = store
        self._history_pending = True
        self._unsubscribe = store.on_new_attempts(self._store_appended)

    def _store_appended(self, last_id: int) -> None:
        # called from the store's thread: only a flag, read by _catch_up at the next decision
        if last_id > self._seen_upto:
            self._caught_up = False

    def _unseen_attempts(self) -> Iterator[LogEntry]:
        """The store's log entries above the watermark, in id order; none more once
        its server is unreachable (routing goes on from local state, and the store calls when it is
        back). Own records the store kept to write later are counted down as they are read; once
        none waits in the store (its ``pending``) and the log is read to its end, those not read
        were dropped (a full journal or queue), and are counted no more."""
        assert self.store is not None
        drained = self._journaled and getattr(self.store, "pending", None) == 0  # before the read
        try:
            yield from self.store.iter_log(self._seen_upto)
        except StoreUnavailableError as exc:
            log.warning("sync_deferred", error=str(exc))
            return
        if drained:
            self._journaled = 0

    def _catch_up(self) -> None:
        """Replay the store's attempts that waited for the tools to be added (see ``__init__``)."""
        if not self._caught_up and not self._closed:
            self.sync()

    def sync(self) -> int:
        """Learn from the store's attempts this router has not seen (written by other processes
        or other routers on the same store): the policies, and the structure model from the
        attempts of traces. Returns how many attempts the policies learned from.

        If attempts it had not read were pruned meanwhile (another router saved a snapshot that
        holds them, then ``toolrouter prune`` ran), the router first resumes from its snapshot,
        as one opened now would; else its next ``save()`` would replace that snapshot with state
        that lacks them, and they would be lost to every router opened later. A prune that runs
        while the router reads is looked for again after the read. A router without a store has
        nothing to learn from: 0."""
        if self.store is None:
            return 0
        self._check_store_open()
        with self._lock:
            self._resume_if_pruned(self._seen_upto)
            while True:
                read_from = self._seen_upto
                applied = self._replay(read_from)
                # a prune that committed between the last look and the read deleted attempts above
                # read_from that the read then missed, and moved the watermark past them (each
                # round needs a prune further than the last: it ends)
                if not self._resume_if_pruned(read_from):
                    return applied

    def _resume_if_pruned(self, read_from: int) -> bool:
        """Resume from the store's snapshot if attempts above ``read_from`` were pruned (see
        ``sync``, ``_resume``); returns whether it resumed."""
        assert self.store is not None
        try:
            pruned = self.store.pruned_upto()
            if pruned <= read_from:
                return False
            snapshot = self.store.get_snapshot(self.snapshot_name)
        except StoreUnavailableError:  # the replay that follows says so, and tries again later
            return False
        event = dict(store=self.store.url, snapshot=self.snapshot_name, watermark=self._seen_upto, pruned_upto=pruned)
        if snapshot is None or snapshot.watermark < pruned:
            missed = "no snapshot of this router's name holds them"
        else:
            try:
                saved = _read_state(snapshot.data, _snapshot_source(self.store, self.snapshot_name), self.store)
                if self._saved_watermark(saved)[0] < pruned:  # bytes copied from another store: it holds none of these
                    raise ValueError(f"the snapshot counts the attempt ids of another store ({saved.config.store_id})")
                self._resume(saved)
            except ValueError as exc:  # a snapshot this router cannot take (another policy, a damaged one)
                missed = str(exc)
            else:
                log.warning("resumed_from_snapshot", **event)
                return True
        if self._seen_upto < pruned:  # they are gone from the log: said once, not looked for at every catch-up
            log.warning("sync_missed_pruned", **event, reason=missed)
            self._seen_upto = pruned
        return False

    def _replay(self, structures_after: int) -> int:
        """``sync``; the structure model learns from other writers' attempts above
        ``structures_after`` (``install_reward_model`` relearns the routes from the whole log,
        while the structure model has seen it up to the watermark; its own attempts it saw live)."""
        if self.store is None:
            return 0
        applied = 0
        with self._lock:
            self._replaying_history = self._history_pending
            # before the read, not after it: the store's notification of an append that lands once
            # the read has passed (from its thread, at any moment) must leave the next decision to
            # catch up again, not be overwritten by this read's end
            self._caught_up = True
            try:
                # per tool, the capabilities (None: all) whose routes a removal read here made forget it
                removed: dict[str, set[str] | None] = {}
                ahead = max(self._own_ahead, default=0)
                for rec in self._unseen_attempts():
                    assert rec.id is not None
                    self._seen_upto = rec.id
                    own = rec.id in self._own_ahead
                    if not own and self._journaled and rec.writer == self.writer:  # from the journal
                        self._journaled -= 1
                        own = True
                    # applied when recorded; but one of a tool whose removal, appended before it by
                    # another router, is read only now was forgotten with the rest: learned again, after
                    # the removal, as the log has it (else lost here, and from this router's snapshots).
                    # An own removal made before attempts of the tool below it were learned here (another
                    # writer's appended after the catch-up that preceded it, or any read only after an
                    # outage that deferred that catch-up) forgets them here, as the log has it: counted,
                    # they would outlive the removal here only
                    if own and not (
                        _removed_since(rec, removed) if isinstance(rec, AttemptRecord)
                        else isinstance(rec, ToolRemoval) and _forgets(rec, self._late)
                    ):
                        continue
                    if isinstance(rec, TraceClose):  # where its writer closed it, after its attempts
                        if rec.id > structures_after and rec.writer != self.writer:
                            self.structures.close(rec.trace_id, finished=rec.finished)
                        continue
                    if isinstance(rec, ToolRemoval):
                        self._replay_removal(rec)
                        if rec.capabilities is None:  # its attempts before it are forgotten everywhere
                            self._read_unregistered.discard(rec.tool_id)
                        before = removed.get(rec.tool_id, set())
                        removed[rec.tool_id] = None if before is None or rec.capabilities is None else before | set(rec.capabilities)
                        late = self._late.pop(rec.tool_id, set())
                        if rec.capabilities is not None and late - set(rec.capabilities):
                            self._late[rec.tool_id] = late - set(rec.capabilities)
                        continue
                    # "*": written where a tool listed it, before a "*" step was any tool's
                    capability = _routed(rec.capability)
                    if (
                        rec.trace_id is not None and rec.id > structures_after and rec.writer != self.writer and not own
                    ):  # a removed tool's attempt too: its step is part of the trace, as when recorded live
                        try:
                            self.structures.observe(
                                rec.trace_id, rec.task_type, TraceStep(rec.step, capability, rec.depends_on or ()),
                                request=rec.request, complexity=rec.complexity, succeeded=bool(rec.success),
                                conversation=rec.conversation_id,
                            )
                        except (TypeError, ValueError) as exc:  # appended by hand: a step no trace can hold
                            log.warning("sync_skipped", attempt_id=rec.id, reason=str(exc))
                    # a router without a context judges the request by the key its writer kept
                    context = RequestKey(rec.request_key) if rec.request_key is not None and not self.contextual else rec.context
                    if self.contextual and context is None:  # its writer's policy took none
                        log.warning("sync_skipped", attempt_id=rec.id, reason="no context: recorded by a router whose policy takes none")
                        continue
                    reason = _unusable(rec, self.context_dim)
                    if reason is not None:
                        log.warning("sync_skipped", attempt_id=rec.id, reason=reason)
                        continue
                    if self._apply(
                        rec.task_type, rec.step, capability, rec.tool_id, rec.success, rec.utility,
                        rec.quality, rec.cost, rec.latency_s, context, rec.error, rec.recheck, replayed=True,
                    ):
                        applied += 1
                        if self._journaled or ahead > rec.id:  # its own too: learned again after a removal
                            self._late.setdefault(rec.tool_id, set()).add(capability)
                    elif rec.tool_id not in self._tools and not cancelled_by_caller(rec.success, rec.error):
                        self._read_unregistered.add(rec.tool_id)
            except BaseException:
                self._caught_up = False  # what was not read is read at the next decision
                raise
            finally:
                self._replaying_history = False
            self._history_pending = False
            self._own_ahead = {i for i in self._own_ahead if i > self._seen_upto}
            if not self._own_ahead and not self._journaled:  # no own removal can come below the next reads
                self._late.clear()
            self._since_sync = 0
        if applied:
            log.info("synced", applied=applied, watermark=self._seen_upto)
        return applied

    # --- statistics ---------------------------------------------------------------------------
    def tool_statistics(self, task_type: str | None = None, step: str | None = None) -> dict[str, ToolStatistics]:
        """Per tool, what the router has seen (over the routes of ``task_type`` / ``step`` if
        given); every registered tool is listed, unseen ones with zero calls. With drift
        detection, also how often a detected change reset the tool (and the latest reset: route,
        when, why) and how often it was rechecked."""
        _check_names(task_type=task_type, step=step)  # a number matched no route: all zeros, silently
        self._catch_up()
        with self._lock:
            routes = [
                r
                for r in self._routes.values()
                if (task_type is None or r.task_type == task_type) and (step is None or r.step == step)
            ]
            out = {}
            for tool_id in self._tools:
                total = _Counts()
                weighted, weight = 0.0, 0.0
                resets = rechecks = 0
                last: ResetRecord | None = None
                for r in routes:
                    drift = r.drift.get(tool_id)
                    if drift is not None:
                        resets += drift.resets
                        rechecks += drift.rechecks
                        at = drift.last_reset_at
                        if at is not None and (last is None or at > last.at_outcome):
                            last = ResetRecord(r.task_type, r.step, at, self._outcomes - at, drift.last_reason or "")
                    c = r.counts.get(tool_id)
                    if c is not None:
                        for name in _Counts.__slots__:
                            setattr(total, name, getattr(total, name) + getattr(c, name))
                    if not r.policy.contextual and tool_id in r.policy._index:
                        w = max(c.calls if c else 0, 1e-9)
                        weighted += w * float(r.policy.expected([tool_id])[0])
                        weight += w
                n = max(total.calls, 1)
                out[tool_id] = ToolStatistics(
                    tool_id=tool_id,
                    calls=total.calls,
                    successes=total.successes,
                    mean_utility=total.utility / n,
                    mean_quality=total.quality / n,
                    mean_cost=total.cost / n,
                    mean_latency_s=total.latency_s / n,
                    expected_utility=(weighted / weight) if weight > 0 else None,
                    resets=resets,
                    last_reset=last,
                    rechecks=rechecks,
                )
            return out

    @property
    def routes(self) -> list[tuple[str, str, str | None]]:
        """(task type, step, capability) of every route the router has learned."""
        self._catch_up()
        with self._lock:
            return [(r.task_type, r.step, r.capability) for r in self._routes.values()]

    def policy_for(self, task_type: str, step: str) -> Policy:
        """The policy of one route (read it; changing it bypasses the store)."""
        self._catch_up()
        with self._lock:
            try:
                return self._routes[(task_type, step)].policy
            except KeyError:
                raise KeyError(f"step: no route for task type {task_type!r}, step {step!r}") from None

    # --- the meta-learned reward model --------------------------------------------------------
    @property
    def _reward_model_name(self) -> str:
        return f"{self.snapshot_name}{_REWARD_MODEL_SUFFIX}"

    def _require_neural_linear(self, what: str) -> None:
        if self._policy_spec != "neural_linear":
            raise ValueError(f"policy: {what} needs policy='neural_linear', this router uses {self._policy_spec!r}")

    def _set_reward_model(self, model: MetaRewardModel) -> None:
        """Check ``model`` against this router's policy and context; then it seeds new routes."""
        from toolrouter.reward_model import MetaRewardModel

        if not isinstance(model, MetaRewardModel):
            raise TypeError(f"reward_model: expected a MetaRewardModel, got {type(model).__name__}")
        self._require_neural_linear("a reward model")
        if model.context_dim != self.context_dim:
            raise ValueError(f"reward_model: built for context_dim={model.context_dim}, this router has {self.context_dim}")
        model.check_featurizer(self._featurize)
        options = {**self._policy_options, **model.policy_options()}
        make_policy("neural_linear", seed=0, **options)  # validate before anything changes
        for profile in self._tools.values():
            self._check_scorable(profile, model)
        self._policy_options = options
        self.reward_model = model
        self._feature_map = model.feature_map()

    def install_reward_model(self, model: MetaRewardModel, *, from_kept: bool = False) -> None:
        """Route with ``model`` from now on: every route is rebuilt on its encoder and priors, and
        (with a store) relearns the store's whole attempt log on top of them. Without a store the
        routes restart from the priors alone. What the structure model learned is kept.

        After ``toolrouter prune`` the log no longer holds the attempts pruned: a rebuild that
        would relearn fewer outcomes than the routes hold is refused with ``PrunedLogError``
        (naming the store, the ids pruned and the outcomes that would be lost) and changes
        nothing; ``from_kept=True`` rebuilds the routes from the attempts kept, losing the rest."""
        from_kept = _checked_flag("from_kept", from_kept)
        with self._lock:
            saved = (self._policy_options, self.reward_model, self._feature_map, self._routes, self._seen_upto, self._own_ahead, self._journaled, self._late, self._history_pending, self._outcomes)
            learned = self._learned_outcomes()
            try:
                self._set_reward_model(model)
                self._routes = {}
                # the routes' drift records date their resets by the outcomes learned: the rebuilt
                # ones count from the log's first, as a router reopened on the store does
                self._outcomes = 0
                self._seen_upto, self._own_ahead, self._journaled, self._late, self._history_pending = 0, set(), 0, {}, True
                self._replay(saved[4])
                if not from_kept:
                    self._check_rebuild(learned, self._learned_outcomes())
            except BaseException:
                (self._policy_options, self.reward_model, self._feature_map, self._routes, self._seen_upto, self._own_ahead, self._journaled, self._late, self._history_pending, self._outcomes) = saved
                raise
        log.info("reward_model_installed", tools=len(model.tool_ids), routes=len(self._routes))

    def _learned_outcomes(self) -> int:
        """How many outcomes of the registered tools the routes have learned from."""
        with self._lock:  # meta_train asks from any thread: another may be adding a route or a tool's counts
            return sum(c.calls for r in self._routes.values() for c in r.counts.values())

    def _check_rebuild(self, learned: int, relearned: int) -> None:
        """``PrunedLogError`` if routes that learned ``learned`` outcomes, rebuilt from the store's
        log, would learn only ``relearned``, because attempts they learned from were pruned."""
        pruned = 0 if self.store is None else self.store.pruned_upto()
        if pruned and relearned < learned:
            raise PrunedLogError(
                f"from_kept: store {self.store.url!r} pruned its attempts up to id {pruned}: rebuilding the routes "
                f"from its log would relearn {relearned} of the {learned} outcomes they learned, and lose "
                f"{learned - relearned}; pass from_kept=True to rebuild them from the attempts kept"
            )

    def meta_train(self, *, from_kept: bool = False, **options: Any) -> MetaRewardModel:
        """Meta-train a reward model on the store's history (``toolrouter.reward_model.meta_train``;
        ``options`` go to it), install it and keep it in the store, so that a restarted router
        loads it. Needs ``policy="neural_linear"`` and a store. Outcomes of tools that are no longer
        registered are left out, and so are those of a tool from before its removal (``ToolRemoval``,
        ``remove_tool``; on a capability taken from it, ``update_tool``): routers replaying the log
        forget them too.

        Installing rebuilds the routes from the store's log (``install_reward_model``): after
        ``toolrouter prune`` that would lose what they learned from the attempts pruned, so it is
        refused with ``PrunedLogError`` (before training where the attempts kept are fewer than the
        outcomes the routes learned) and nothing changes; ``from_kept=True`` trains on, and
        rebuilds the routes from, the attempts kept."""
        from toolrouter.reward_model import check_meta_train_options, meta_train

        # before anything is synced or read: an option the router sets itself (context_dim, the
        # featurizer, ...) or a bad value is named as meta_train's options are
        from_kept = _checked_flag("from_kept", from_kept)
        check_meta_train_options(options)
        self._catch_up()
        if self.store is None:
            raise ValueError("store: meta_train learns from the store's history; open the router with a store")
        self._check_store_open()
        self._require_neural_linear("meta_train")
        self.sync()
        # the tools of one moment, those the history is read for and the model is trained with:
        # another thread may remove one while the log is read (which takes no lock)
        tools = self.tools
        # the model has seen every attempt read, those it cannot learn from too: attempts of a removed
        # tool after its watermark would count as new ones, and background training retrain every round
        history: list[AttemptRecord] = []
        watermark = 0
        for r in self.store.iter_log():  # one pass: a long log is not held twice
            if isinstance(r, ToolRemoval):  # read as a router replays it: what came before is not the tool's now
                history = [
                    h for h in history
                    if h.tool_id != r.tool_id or (r.capabilities is not None and _routed(h.capability) not in r.capabilities)
                ]
                continue
            if isinstance(r, TraceClose):
                continue
            watermark = max(watermark, r.id or 0)
            if r.tool_id in tools and _unusable(r, self.context_dim) is None:
                history.append(r)
        if not from_kept:  # the rebuild relearns at most the history: refused now, not after training
            self._check_rebuild(self._learned_outcomes(), len(history))
        options.setdefault("features", self._policy_options.get("features", 32))
        options.setdefault("hidden", self._policy_options.get("hidden", 64))
        model = meta_train(
            history, tools, self._featurize, context_dim=self.context_dim, watermark=watermark,
            store_id=self.store.store_id, **options,
        )
        self.install_reward_model(model, from_kept=from_kept)
        self.store.put_snapshot(self._reward_model_name, model.to_bytes(), watermark)
        self.save()
        return model

    def start_background_meta_training(
        self, interval_s: float, *, min_new_attempts: int = 100, from_kept: bool = False, **options: Any
    ) -> None:
        """Meta-train in a background thread every ``interval_s`` seconds, whenever the store has
        at least ``min_new_attempts`` attempts that the current model has not seen (``from_kept``
        and ``options`` go to ``meta_train``: without ``from_kept``, rounds after a prune that
        would lose what the routes learned are refused). A failed round is logged
        (``meta_training_failed``) and retried at the next interval; routing never waits for
        training, only for the installation at its end. Refused (``ValueError``) after ``close``."""
        if self.store is None:
            raise ValueError("store: background meta-training learns from the store; open the router with a store")
        self._check_store_open()  # else its thread would fail at every round, for good
        self._require_neural_linear("meta-training")
        # the thread waits interval_s at a time: beyond TIMEOUT_MAX the wait raises and the thread dies
        # a bool is no number of seconds (True would train every second)
        if isinstance(interval_s, bool) or not (isinstance(interval_s, (int, float)) and 0 < interval_s <= threading.TIMEOUT_MAX):
            raise ValueError(
                f"interval_s: expected a positive number of seconds up to {threading.TIMEOUT_MAX:g}, got {interval_s!r}"
            )
        min_new_attempts = check_count("min_new_attempts", min_new_attempts, low=1)
        from_kept = _checked_flag("from_kept", from_kept)
        from toolrouter.reward_model import check_meta_train_options

        # now, not in each round: a bad option would fail every round, logged in the background
        check_meta_train_options(options)
        self.stop_background_meta_training()
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(interval_s):
                assert self.store is not None
                try:  # a bad round, or a store that cannot be read now, must not kill the thread
                    if len(self.store.attempts(self._reward_model_seen(), limit=min_new_attempts)) < min_new_attempts:
                        continue
                    self.meta_train(from_kept=from_kept, **options)
                except Exception as exc:
                    log.error("meta_training_failed", error=repr(exc))

        thread = threading.Thread(target=loop, name="toolrouter-meta-training", daemon=True)
        self._background = (stop, thread)
        thread.start()

    def _reward_model_seen(self) -> int:
        """The id of the last attempt of this router's store that its reward model was trained on:
        the model's watermark where it counts this store's ids (``MetaRewardModel.store_id``), else
        0. A position in another store's log says nothing of this one's: taken here, it held
        background training back until this store's ids passed it, if they ever did."""
        model = self.reward_model
        if model is None or self.store is None or model.store_id != self.store.store_id:
            return 0
        return model.watermark

    def stop_background_meta_training(self, timeout_s: float | None = None) -> None:
        """Stop the background meta-training (waits for a round in progress up to ``timeout_s``)."""
        running = self._background
        if running is not None:
            stop, thread = running
            stop.set()
            thread.join(timeout_s)
            self._background = None

    # --- save and load ------------------------------------------------------------------------
    def state_bytes(self) -> bytes:
        """The learned state as safetensors bytes (JSON config in the header metadata)."""
        with self._lock:
            arrays: dict[str, np.ndarray] = {}
            routes = []
            for i, r in enumerate(self._routes.values()):
                state = r.policy.state_dict()
                for name, a in state["arrays"].items():
                    arrays[f"routes.{i}.{name}"] = np.ascontiguousarray(a)
                detectors, packed = {}, []
                for t, d in r.detectors.items():
                    detectors[t] = d.state_dict()
                    for field in _RECORD_FIELDS:
                        if field in detectors[t]:
                            packed.append(pack_requests(detectors[t][field]))
                            detectors[t][field] = len(packed[-1][0])
                if sum(len(keys) for keys, _ in packed):
                    arrays[f"routes.{i}.{_REQUEST_KEYS}"] = np.concatenate([keys for keys, _ in packed])
                    arrays[f"routes.{i}.{_REQUEST_RECORDS}"] = np.concatenate([records for _, records in packed])
                if r.recent:
                    arrays[f"routes.{i}.{_RECENT_CONTEXTS}"] = np.stack([x for x, _, _ in r.recent]).astype(np.float64)
                    arrays[f"routes.{i}.{_RECENT_UTILITIES}"] = np.array([u for _, _, u in r.recent], dtype=np.float64)
                routes.append(
                    {
                        "task_type": r.task_type,
                        "step": r.step,
                        "capability": r.capability,
                        "policy": state["config"],
                        "array_names": sorted(state["arrays"]),
                        "counts": {t: c.as_list() for t, c in r.counts.items()},
                        "detectors": detectors,
                        "outcomes": r.outcomes,
                        "drift": {t: d.as_dict() for t, d in r.drift.items()},
                        "recent_tools": [t for _, t, _ in r.recent],
                    }
                )
            config = {
                "format": _FORMAT,
                "version": _VERSION,
                "policy": self.policy_name,
                "policy_options": self._policy_options,
                "context_dim": self.context_dim,
                "seed": self.seed,
                "weights": self.weights.model_dump(),
                "drift_detection": None if self.drift_detection is None else self.drift_detection.model_dump(),
                "tools": [p.model_dump(mode="json") for p in self._tools.values()],
                "watermark": self._seen_upto if self.store is not None else 0,
                # whose attempt ids the watermark counts: a load onto another store must not skip its attempts
                "store_id": self.store.store_id if self.store is not None else None,
                "outcomes": self._outcomes,
                # own attempts above the watermark are in this state already: a replay skips them
                "applied_above_watermark": sorted(self._own_ahead) if self.store is not None else [],
                "routes": routes,
                "task_graphs": self.graphs.state_dict(),
                # where Thompson sampling over structures is: a loaded router draws on from there
                "structure_rng": self._structure_rng.bit_generator.state,
                "structure_config": self.structures.config.model_dump(),
            }
            config["structures"], structure_arrays = self.structures.state()
            arrays.update({f"{_STRUCTURES}.{name}": a for name, a in structure_arrays.items()})
            if self.contextual:  # a restored router not yet checked keeps the saved vector, what its policies learned on
                probe = self._featurizer_probe
                arrays[_FEATURIZER_PROBE] = probe if probe is not None else probe_vector(self._featurize, self.context_dim)
            if self.reward_model is not None:  # a file holds everything; a store keeps it apart
                arrays[_REWARD_MODEL] = np.frombuffer(self.reward_model.to_bytes(), dtype=np.uint8).copy()
            return write_blob(arrays, _FORMAT, config)

    def save(self, path: str | Path | None = None) -> None:
        """Save the learned state: to ``path`` (a safetensors file), or with no path as a snapshot
        in the store. Saving to the store first catches up with other writers (``sync``). With a
        store, attempts waiting in its outage journal are written first (``Store.flush``, which
        raises ``StoreUnavailableError`` if the server is still away): saved state must name the
        ids of every attempt it holds. A ``path`` that names the file of the router's SQLite store
        raises ``ValueError``: the saved state would replace its attempt log."""
        with self._lock:
            if self.store is not None:
                self._check_store_open()
                self.store.flush()
                if self._journaled:
                    self.sync()
            if path is None:
                if self.store is None:
                    raise ValueError("path: give a file path, or open the router with a store")
                self.sync()
                self.store.put_snapshot(self.snapshot_name, self.state_bytes(), self._seen_upto)
                self._since_snapshot = 0
                if self.reward_model is not None:  # it may have adapted to drifts since meta_train
                    self.store.put_snapshot(self._reward_model_name, self.reward_model.to_bytes(), self._seen_upto)
            else:
                _check_not_the_store_file(path, self.store)
                write_atomically(path, self.state_bytes())
        log.info("learner_saved", path=str(path) if path else None, routes=len(self._routes))

    @classmethod
    def load(
        cls,
        source: str | Path | Store,
        *,
        policy: Callable[..., Policy] | None = None,
        store: str | Store | None = None,
        **kwargs: Any,
    ) -> "ToolMetaLearner":
        """A router restored from a file written by ``save(path)``, or from a store (URL or
        ``Store``) with ``save()``'s snapshot plus the attempts after it. Without ``tools=``, a URL
        where there is no store yet (a missing SQLite file) is refused (``StoreOpenError``) and
        nothing is created there.

        The policy name, options, seed, weights, tools and the structure model's options
        (``StructureConfig``; ``structure=`` replaces them) come from the saved state; pass
        ``policy=`` for a router saved with a custom factory, and other constructor arguments
        (``featurizer``, ``prior_fn``, ``sync_every``) as keywords. ``tools=`` replaces the saved
        tools, from a file as from a store: what was learned of a tool it keeps carries over (a tool
        nothing was learned of, given with another profile, starts from that profile's prior, as
        after ``update_tool``), a tool it leaves out is dropped. ``store=`` attaches a store to a router loaded from a file (with
        a store as ``source``, ``ValueError``: the router runs on that one). The file's watermark
        (and its own attempts above it) counts the ids of the store it was saved with, which the
        file names (``Store.store_id``): on that store (or a copy of it) the router resumes after
        it; on another store, or from a file saved without a store, it learns every attempt of
        ``store`` (logged as ``watermark_not_this_store`` where a saved position is dropped): ids at
        or below another log's position are attempts it never learned. A file saved before stores
        had identities cannot tell: it learns every attempt too (those it holds already, if it was
        saved on this store: an outcome counted twice rather than one lost). A store snapshot that
        names another store (bytes copied from one) is read the same way; one saved before stores
        had identities is its own store's.
        ``reward_model=`` replaces the saved reward model with one the saved routes were learned on
        (the same options and encoder), else ``ValueError`` naming what differs: to route with
        another model, load, then ``install_reward_model(model)``. A store's own reward-model
        snapshot that its routes were not learned on (a process stopped between the two snapshots
        meta-training writes) is installed as ``install_reward_model`` does: the routes relearned
        on it from the attempt log.

        Saved state that is truncated, damaged or contradicts itself raises
        ``toolrouter.errors.CorruptStateError`` (a ``ValueError``) naming the file (or the store URL
        and snapshot name) and what is wrong, which key or array, expected against found.
        """
        if isinstance(source, Store) or (isinstance(source, str) and "://" in source):
            if store is not None:  # else the router ran on the source, never on the store asked for
                raise ValueError(
                    f"store: {short_repr(store)} given with a store as source ({short_repr(source)}); a router "
                    "loaded from a store runs on it: pass store= only with a file"
                )
            name = _checked_snapshot_name(kwargs.get("snapshot_name", "learner"))
            if "tools" in kwargs:  # the router opens it, and creates it only once the arguments are checked
                return cls(policy=policy, store=source, **kwargs)
            # without tools only a snapshot makes the router: a store made here (a typo) would only be left behind
            st = open_store(source, create=False)
            try:
                if st.get_snapshot(name) is None:
                    raise ValueError(
                        f"source: store {st.url!r} has no snapshot {name!r}; pass tools= to rebuild the router "
                        "from its attempt log"
                    )
                router = cls(policy=policy, store=st, **kwargs)
                router._owns_store = st is not source  # opened here from a URL: the router's to close
                return router
            except BaseException:  # a store this call opened is closed again (a server store's threads)
                if st is not source:
                    st.close()
                raise
        saved = _read_state(checked_path(source, "source").read_bytes(), f"file {str(source)!r}")
        args = _ctor_args(saved.config, policy, kwargs, saved.source)
        if saved.reward_model is not None and "reward_model" not in args:
            args["reward_model"] = saved.reward_model
        router = cls(**args)
        keep_tools = "tools" in kwargs
        opened = store is not None and not isinstance(store, Store)
        st = _existing_store(store) if opened else store
        if opened and st is None:  # none there yet: every check of the state is made before it is created
            router._restore(saved, keep_tools=keep_tools)
            st = open_store(store)
        try:
            if st is not None:  # first: the saved watermark counts only if it is this store's
                router._attach(st)
                router._owns_store = opened
            router._restore(saved, keep_tools=keep_tools)
            if st is not None:
                router.sync()
        except BaseException:  # as a load from a URL: a store this call opened is closed again
            if st is not None and st is not store:
                st.close()
            raise
        return router

    def _restore(self, state: bytes | _SavedState, *, keep_tools: bool, source: str = "saved state") -> None:
        """Load saved state (bytes, named ``source`` in errors, or what ``_read_state`` read);
        ``keep_tools``: the router's current tools win over the saved ones. Everything is checked
        and built before anything is assigned, so a failure leaves the router as it was."""
        saved = state if isinstance(state, _SavedState) else _read_state(state, source)
        config = saved.config
        if isinstance(self._policy_spec, str) and config.policy not in (None, self._policy_spec):
            raise ValueError(f"policy: the saved state used {config.policy!r}, this router {self._policy_spec!r}")
        if config.context_dim != self.context_dim:
            raise ValueError(
                f"context_dim: the saved state used {config.context_dim!r}, this router {self.context_dim!r}"
            )
        misfit = None if self.reward_model is None else _reward_model_misfit(saved, self.reward_model)
        if misfit is not None:
            raise ValueError(
                f"reward_model: {misfit}; load without reward_model= to keep the saved model, or call "
                "install_reward_model(model) after loading to relearn the routes on it"
            )
        if isinstance(self._policy_spec, str) and config.policy_options != self._policy_options:
            raise ValueError(
                f"policy_options: the saved state used {config.policy_options!r}, this router {self._policy_options!r}"
            )
        if (config.policy is None or not isinstance(self._policy_spec, str)) and config.routes:  # a factory: the routes name what they hold
            made = self._new_policy("default", "default").name
            kinds = sorted({str(rc.policy.get("policy")) for rc in config.routes} - {made})
            if kinds:
                hint = "pass the factory it was saved with" if config.policy is None else f"leave policy= out to make {config.policy!r} ones"
                raise ValueError(f"policy: {saved.source} holds {', '.join(kinds)} policies, this router makes {made}; {hint}")
        saved_tools = {p.tool_id: p for p in config.tools}
        tools = dict(self._tools) if keep_tools else saved_tools
        watermark, own_ahead = self._saved_watermark(saved)
        if self.store is not None and (watermark, own_ahead) != (config.watermark, set(config.applied_above_watermark)):
            log.warning(  # a saved position dropped: the router learns the store's whole log
                "watermark_not_this_store", store=self.store.url, store_id=self.store.store_id,
                saved_store_id=config.store_id, watermark=config.watermark, source=saved.source,
            )
        graphs = TaskGraphLibrary()
        routes: dict[tuple[str, str], _Route] = {}
        try:
            try:
                graphs.load_state_dict(config.task_graphs)
            except TaskGraphError as exc:  # a saved template or structure that is not a valid graph
                raise CorruptStateError(str(exc)).within("config.task_graphs") from None
            except CorruptStateError as exc:
                raise exc.within("config.task_graphs") from None
            for i, rc in enumerate(config.routes):
                try:
                    requests = _route_requests(saved.arrays, f"routes.{i}.")
                    recent = {n: saved.arrays[f"routes.{i}.{n}"] for n in (_RECENT_CONTEXTS, _RECENT_UTILITIES) if f"routes.{i}.{n}" in saved.arrays}
                    route = self._restored_route(
                        rc, {n: saved.arrays[f"routes.{i}.{n}"] for n in rc.array_names}, requests, recent, tools, saved_tools
                    )
                except CorruptStateError as exc:
                    raise exc.within(f"config.routes[{i}] (task type {rc.task_type!r}, step {rc.step!r})") from None
                routes[route.key] = route
            prefix = f"{_STRUCTURES}."
            structure_arrays = {n[len(prefix) :]: a for n, a in saved.arrays.items() if n.startswith(prefix)}
            structure_rng = None
            if config.structure_rng is not None:
                structure_rng = generator_from_state(config.structure_rng, "config.structure_rng")
            try:  # the last check: it assigns the structure model's state when it succeeds
                self.structures.load_state(config.structures, structure_arrays)
            except CorruptStateError as exc:
                raise exc.within("config.structures") from None
        except CorruptStateError as exc:
            raise exc.within(saved.source) from None
        with self._lock:
            self._tools = tools
            self._capability_text = None
            self._routes = routes
            self.graphs = graphs
            if structure_rng is not None:  # saved before: the seed's
                self._structure_rng = structure_rng
            self._seen_upto, self._own_ahead, self._late = watermark, own_ahead, {}
            self._outcomes = config.outcomes if config.outcomes is not None else sum(r.outcomes for r in routes.values())
            self._featurizer_probe = saved.arrays.get(_FEATURIZER_PROBE)

    def _saved_watermark(self, saved: _SavedState) -> tuple[int, set[int]]:
        """The watermark ``saved`` holds, and its own attempts above it, if they count the ids of
        this router's store (the state names it: ``Store.store_id``); else 0 and none, so that
        every attempt of the store is learned: ids of another store's log would skip attempts the
        router never learned, and its next snapshot would hold them, letting ``prune`` delete them."""
        config = saved.config
        if self.store is not None and config.store_id == self.store.store_id:
            return config.watermark, set(config.applied_above_watermark)
        return 0, set()

    def _restored_route(
        self,
        rc: _SavedRoute,
        arrays: dict[str, np.ndarray],
        requests: tuple[np.ndarray, np.ndarray],
        recent: Mapping[str, np.ndarray],
        tools: dict[str, ToolProfile],
        saved_tools: Mapping[str, ToolProfile],
    ) -> _Route:
        """A route rebuilt from its saved config, its policy's arrays, its detectors' request
        records (keys and records, as ``_route_requests`` read them) and its recent outcomes'
        arrays, its arms fitted to ``tools`` (an arm of a tool whose profile differs from the
        saved one, ``saved_tools``, restarts from the new prior if it learned nothing here, as in
        ``update_tool``)."""
        policy = self._new_policy(rc.task_type, rc.step)
        policy.load_state_dict({"config": rc.policy, "arrays": arrays})
        route = _Route(rc.task_type, rc.step, rc.capability, policy)
        for tool_id in list(policy.arm_ids):
            if tool_id not in tools or not tools[tool_id].serves(route.capability):
                policy.remove_arm(tool_id)
        for tool_id in policy.arm_ids:
            untried = tool_id not in rc.counts or int(rc.counts[tool_id][0]) == 0
            if untried and tools[tool_id] != saved_tools.get(tool_id):
                policy.restart_arm(tool_id, self._prior(tools[tool_id], route))
        for tool_id, profile in tools.items():
            if profile.serves(route.capability) and tool_id not in policy.arm_ids:
                policy.add_arm(tool_id, self._prior(profile, route))
        arms = set(policy.arm_ids)
        route.counts = {t: _Counts(v) for t, v in rc.counts.items() if t in arms}
        # files saved before routes counted their outcomes: the calls of their tools
        route.outcomes = rc.outcomes if rc.outcomes is not None else sum(int(v[0]) for v in rc.counts.values())
        route.drift = {t: _ToolDrift(**d.model_dump()) for t, d in rc.drift.items() if t in arms}
        route.detectors = {}
        keys, records = requests
        row = 0  # the first row of the next detector's request records
        for t, d in rc.detectors.items():
            for field in _RECORD_FIELDS:
                rows = d.get(field)
                if type(rows) is int:  # its records are in the route's arrays
                    if not 0 <= rows <= len(keys) - row:
                        raise CorruptStateError(
                            f"detectors[{t!r}].{field}: {rows} rows from row {row}, but the route's "
                            f"{_REQUEST_KEYS} has {len(keys)}"
                        )
                    d = {**d, field: unpack_requests(keys[row : row + rows], records[row : row + rows])}
                    row += rows
            if t in arms:
                try:
                    detector = detector_from_state(d)
                except CorruptStateError as exc:
                    raise exc.within(f"detectors[{t!r}]") from None
                # a router loaded with another drift_detection judges every tool by it, not the
                # saved detectors by theirs (and rechecks turned off turn off for all of them)
                route.detectors[t] = detector if self.drift_detection is None else detector.reconfigured(self.drift_detection)
        if row != len(keys):
            raise CorruptStateError(f"{_REQUEST_KEYS}: {len(keys)} rows, but the detectors name {row}")
        if route.drift and self.drift_detection is not None and self.drift_detection.recheck_after is not None:
            after = self.drift_detection.recheck_after
            for t, drift in route.drift.items():
                # a recheck scheduled under the saved configuration (rechecks off: never; a longer
                # interval) comes no later than this one's would; under the same one it stays as saved
                detector = route.detectors.get(t)
                wait = after if detector is None else max(after, detector.recheck_interval(drift.misses) or after)
                drift.due = min(drift.due, route.outcomes + wait)
            route.next_due = min(d.due for d in route.drift.values())
        if rc.recent_tools:
            n = len(rc.recent_tools)
            contexts = checked_array(recent, _RECENT_CONTEXTS, (n, self.context_dim or 0))
            utilities = checked_array(recent, _RECENT_UTILITIES, (n,))
            route.recent.extend(zip(contexts, rc.recent_tools, utilities.tolist()))
        return route

    def close(self) -> None:
        """Stop background meta-training, release the executor ``execute`` keeps (its worker
        threads and event loops) and stop using the store (if any): close it if the router opened
        it from a URL; a ``Store`` passed in stays open, its owner's to close, and takes no more
        of this router's attempts or snapshots (they are refused with ``ValueError``).

        With a store, the calls in flight through this router (a ``ToolMiddleware``'s routed
        calls, plans run by ``execute``) end first, as they would have, with their attempts
        recorded: new ones are refused at once (``ValueError``), and ``close`` waits for those
        running (each try bounded by its timeout). Then the attempts waiting in its
        ``AttemptGroup``s are committed (a commit that fails is raised once the store is closed,
        and told to its calls), and a group takes no more. Called where waiting could never end
        (from a tool of one of those calls, or on a thread running an event loop), it returns at
        once and the last call to end closes the router; a failure then is logged
        (``close_failed``). A router without a store has nothing to lose: it only releases its
        threads, and stays usable."""
        if self.store is None:
            self._close_now()
        else:
            self._calls.close(self._close_now)

    def _check_store_open(self) -> None:
        """Refuse to use the store after ``close``: one passed in is still open (its owner's), and
        would take on what a closed router wrote."""
        if self._closed:
            raise self._refused()

    def _refused(self) -> ValueError:
        """The error of a call made after ``close``."""
        where = "ToolMetaLearner" if self.store is None else f"store {self.store.url!r}"
        return ValueError(f"{where}: closed by ToolMetaLearner.close(); make a new router")

    def _close_now(self) -> None:
        """``close`` once no call is in flight."""
        try:
            self._commit_groups()
        finally:
            self._release()

    def _commit_groups(self) -> None:
        """Commit the attempts waiting in this router's ``AttemptGroup``s, which the store could
        take no more once closed: each group is committed, then the first failure is raised
        (their calls are told of it too: ``GroupMember.error``)."""
        if self.store is None:
            return  # nothing to lose: the router stays usable, and records them when they commit
        with self._lock:
            groups = list(self._groups)
        failure: Exception | None = None
        for group in groups:
            try:
                group.commit()
            except Exception as exc:
                failure = failure or exc
        if failure is not None:
            raise failure

    def _release(self) -> None:
        """``_close_now`` once the groups are committed: the threads, and the store."""
        self.stop_background_meta_training()
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.close()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self.store is not None:
            try:
                if self._owns_store:
                    self.store.close()  # closed even when it raises (attempts it could not write)
            finally:
                # the store is used no more (_check_store_open), closed or its owner's: what would
                # write to it is refused (reads of what was learned go on without it: _catch_up)
                self._closed, self._caught_up = True, False

    @property
    def closed(self) -> bool:
        """Whether ``close`` ended the router's use of its store: it records no more attempts."""
        return self._closed

    def __enter__(self) -> "ToolMetaLearner":
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"ToolMetaLearner(tools={len(self._tools)}, policy={self.policy_name or 'custom'!r}, "
            f"routes={len(self._routes)}, store={self.store.url if self.store else None!r})"
        )


def _request(text: str | None) -> str | None:
    """A trace's request text as the store keeps it (cut to ``MAX_REQUEST_CHARS``, storable): the
    structure model learns the same from it live as from the store's copy."""
    return None if text is None else kept_text(text[:MAX_REQUEST_CHARS])


def _check_task_id(task_id: Any) -> None:
    """Refuse a ``task_id`` that is no string, or an empty one: each store failed on it in its own
    words, or kept it as it was, and the decision log would carry it as given."""
    if not isinstance(task_id, str):
        raise TypeError(f"task_id: expected a string, got {short_repr(task_id)}")
    if not task_id or task_id.isspace():  # as TaskProfile refuses: the log would name no task
        raise ValueError(f"task_id: expected a non-empty string, got {task_id!r}")


def _checked_trace_id(trace_id: Any) -> str:
    """``trace_id`` checked (``check_trace_id``), or a new one-call id for ``None``."""
    if trace_id is None:
        return f"{CALL_TRACE_PREFIX}{uuid.uuid4().hex}"
    return check_trace_id(trace_id)


def _checked_flag(name: str, value: Any) -> bool:
    """``value`` if it is a bool, else a ``TypeError`` naming ``name`` (a string "no" is true)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a bool, got {short_repr(value)}")
    return bool(value)


def _check_not_the_store_file(path: Any, store: Store | None) -> None:
    """A ``ValueError`` if ``path`` names the file of ``store`` (an SQLite store's): the saved state
    would replace the attempt log, and the store would refuse every later write."""
    target, store_file = checked_path(path), getattr(store, "file", None)
    if store is None or not isinstance(store_file, str) or not (target.exists() and os.path.exists(store_file)):
        return
    if target.samefile(store_file):
        raise ValueError(f"path: {str(path)!r} is the file of the router's store {store.url!r}; save to another file")


def _checked_snapshot_name(name: Any) -> str:
    """``snapshot_name`` as given, or an error naming it, before any store is opened: ``str()``
    made ``None`` a snapshot called 'None', and a name no store can keep failed only at a save."""
    if not isinstance(name, str):
        raise TypeError(f"snapshot_name: expected a string, got {name!r}")
    _identifier("snapshot_name", name)  # refuses a blank name, a lone surrogate, a NUL character
    if name.endswith(_REWARD_MODEL_SUFFIX):  # its saves would replace that router's model, which then could not load
        raise ValueError(
            f"snapshot_name: {name!r} names the reward model snapshot of router {name[: -len(_REWARD_MODEL_SUFFIX)]!r}; "
            f"choose a name that does not end in {_REWARD_MODEL_SUFFIX!r}"
        )
    longest = MAX_SNAPSHOT_NAME - len(_REWARD_MODEL_SUFFIX)  # its reward model is saved under the name and the suffix
    if len(name) > longest:
        raise ValueError(f"snapshot_name: expected at most {longest} characters, got {len(name)}")
    return name


def _check_names(**names: Any) -> None:
    """Each name (a capability, task type, step, tool id) a string or None, else a TypeError naming
    the argument: the hot paths use them as dictionary keys, where a list would fail obscurely."""
    _check_ids(**{field: value for field, value in names.items() if value is not None})


def _check_ids(**names: Any) -> None:
    """Each name a string, else a TypeError naming the argument: where one thing must be named (a
    tool to remove), None is no name (it was refused as an unknown tool)."""
    for field, value in names.items():
        if not isinstance(value, str):
            raise TypeError(f"{field}: expected a string, got {value!r}")


def _removed_since(rec: AttemptRecord, removed: Mapping[str, set[str] | None]) -> bool:
    """Whether a removal in ``removed`` (tool -> its capabilities, None: all) made the route of
    attempt ``rec`` forget its tool (``_forget_arms``)."""
    if rec.tool_id not in removed:
        return False
    capabilities = removed[rec.tool_id]
    return capabilities is None or _routed(rec.capability) in capabilities


def _forgets(removal: ToolRemoval, late: Mapping[str, set[str | None]]) -> bool:
    """Whether ``removal`` makes a route forget attempts in ``late`` (tool -> their capabilities)."""
    capabilities = late.get(removal.tool_id)
    return bool(capabilities) and (removal.capabilities is None or not capabilities.isdisjoint(removal.capabilities))


def _unusable(rec: AttemptRecord, context_dim: int | None) -> str | None:
    """Why the router cannot learn from an attempt of the store (another writer's, checked by
    other rules), or ``None``: a utility beyond ``MAX_ABS_REWARD``, or, for a contextual router
    (``context_dim``), a context of another size or with entries that are not finite or beyond
    ``MAX_ABS_CONTEXT``. Learning from it would raise halfway through an update, in the call of
    whoever caught up with the store."""
    if not abs(rec.utility) <= MAX_ABS_REWARD:
        return f"utility {rec.utility!r} is beyond +-{MAX_ABS_REWARD:g}"
    x = rec.context
    if context_dim is not None and x is not None:
        if x.shape != (context_dim,):
            return "context does not match context_dim"
        if not np.all(np.abs(x) <= MAX_ABS_CONTEXT):
            return f"context entries are not finite or beyond +-{MAX_ABS_CONTEXT:g}"
    return None


def _clean(name: str) -> bool:
    """Whether ``name`` is already what the models make of a name (non-empty, stripped, storable).
    An identifier (``search``, ``web_search``: most names) is, in one C call: it has no whitespace,
    NUL or lone surrogate."""
    return name.isidentifier() or (
        bool(name) and not name[0].isspace() and not name[-1].isspace() and name.isascii() and "\x00" not in name
    )


def _recheck_claim_name(route: _Route, tool_id: str) -> str:
    """The name under which routers sharing a store claim the rechecks of ``tool_id`` on
    ``route``: a digest of the three names, of one size whatever theirs (a claim's name is
    short, ``MAX_CLAIM_NAME``, and a task type may be as long as a prompt)."""
    names = json.dumps([route.task_type, route.step, tool_id]).encode()
    return f"recheck {hashlib.sha256(names).hexdigest()}"


def _route_names(capability: Any, task_type: Any, step: Any) -> tuple[str | None, str, str | None]:
    """``(capability, task_type, step)`` of a one-step call as ``TaskProfile`` and ``ToolProfile``
    make them: stripped, or a ``ValueError`` naming an empty one or one a store cannot keep (a lone
    surrogate), a ``TypeError`` for a non-string. A route under a name the models would refuse
    could be learned but not saved: its snapshot would not load again."""
    if (
        isinstance(task_type, str) and _clean(task_type)
        and (capability is None or isinstance(capability, str) and _clean(capability))
        and (step is None or isinstance(step, str) and _clean(step))
    ):  # fmt: skip
        return _routed(capability), task_type, step  # the hot path: names as the middleware passes them
    _check_names(capability=capability, step=step)
    if not isinstance(task_type, str):
        raise TypeError(f"task_type: expected a string, got {task_type!r}")
    return (
        None if capability is None else _routed(_identifier("capability", capability)),
        _identifier("task_type", task_type),
        None if step is None else _identifier("step", step),
    )


def _attempt_step(result: ExecutionResult, step: str | None, capability: str | None) -> str:
    """The step a one-step attempt is recorded at: ``step`` if given, else the step ``result``
    names (``ExecutionResult.step`` given, ``"main"`` too), else the capability (or ``"main"``).
    A result naming another step than ``step`` is refused naming both: recorded at either, the
    other would be lost silently. A result's step left unset (its default ``"main"``) names none."""
    if "step" not in result.model_fields_set:
        return step or capability or DEFAULT_STEP
    if step is not None and result.step != step:
        raise InvalidOutcomeError(f"execution_results[0].step: {result.step!r} differs from step={step!r}")
    return result.step


def _profiles(tools: Any) -> list[ToolProfile]:
    if tools is None:
        return []
    if isinstance(tools, Mapping):
        out = []
        for key, profile in tools.items():
            if not isinstance(profile, ToolProfile):
                profile = ToolProfile.model_validate(profile)
            if key != profile.tool_id:
                raise ValueError(f"tools: key {key!r} differs from its profile's tool_id {profile.tool_id!r}")
            out.append(profile)
        return out
    if isinstance(tools, (str, bytes, ToolProfile)) or not isinstance(tools, Iterable):
        raise TypeError(f"tools: expected a mapping or a list of ToolProfile, got {short_repr(tools)}")
    return [p if isinstance(p, ToolProfile) else ToolProfile.model_validate(p) for p in tools]


#: A policy option as saved: a JSON scalar (64-bit ints, finite floats).
_Option = Union[None, StrictBool, Annotated[int, Field(strict=True, ge=-(2**63), le=2**63 - 1)], FiniteFloat, StrictStr]
def _nonblank_stripped(value: str) -> str:
    if not value.strip() or value != value.strip():
        raise ValueError(f"expected a non-empty name without surrounding blanks, got {value!r}")
    return value


#: A saved name (task type, step, capability): what the router's models accept, stripped.
_Name = Annotated[StrictStr, AfterValidator(_nonblank_stripped)]


#: Policy options that size arrays, with the largest value a saved configuration may give them.
_SIZE_OPTIONS = {"context_dim": MAX_SAVED_DIM, "features": MAX_SAVED_DIM, "hidden": MAX_SAVED_DIM, "window": MAX_SAVED_WINDOW}


class _SavedToolDrift(BaseModel):
    """What drift detection did to one (route, tool), as ``_ToolDrift.as_dict`` writes it."""

    model_config = ConfigDict(extra="forbid")

    resets: Count
    last_reset_at: Count | None
    last_reason: StrictStr | None
    rechecks: Count
    due: Count
    # saved before rechecks backed off: none missed, none awaited
    misses: Count = 0
    pending: StrictBool = False


_SavedCounts = tuple[Count, Count, FiniteFloat, FiniteFloat, FiniteFloat, FiniteFloat]


def _no_more_successes_than_calls(counts: _SavedCounts) -> _SavedCounts:
    """Saved counts of one (route, tool), checked: a tool cannot succeed more often than it was called."""
    if counts[1] > counts[0]:
        raise ValueError(f"{counts[1]} successes in {counts[0]} calls")
    return counts


def _saved_profile(profile: Any) -> Any:
    """A saved tool profile without ``"*"`` among its capabilities: saved before profiles refused
    it, it now means nothing more (every tool serves a ``"*"`` step); a profile left with none
    serves its tool type's, as any profile that lists none."""
    if isinstance(profile, Mapping) and isinstance(profile.get("capabilities"), list):
        if ANY_CAPABILITY in profile["capabilities"]:
            profile = {**profile, "capabilities": [c for c in profile["capabilities"] if c != ANY_CAPABILITY]}
    return profile


def _saved_structure_config(config: Any) -> Any:
    """Structure options saved before ``drop_quoted`` was one: their description term read the
    whole request, and a router loaded from them proposes what it did."""
    if isinstance(config, Mapping) and "drop_quoted" not in config:
        config = {**config, "drop_quoted": False}
    return config


class _SavedRoute(BaseModel):
    """One route of a saved learner: its policy's config (checked by the policy), the names of its
    arrays, and its counts and change detectors per tool."""

    model_config = ConfigDict(extra="forbid")

    task_type: _Name
    step: _Name
    # "*": a route saved before "*" meant any tool (served by the profiles that listed it)
    capability: Annotated[_Name | None, AfterValidator(_routed)]
    policy: dict[str, Any]
    array_names: list[StrictStr]
    counts: dict[str, Annotated[_SavedCounts, AfterValidator(_no_more_successes_than_calls)]]
    detectors: dict[str, dict[str, Any]] = {}
    outcomes: Count | None = None
    drift: dict[str, _SavedToolDrift] = {}
    # saved before routes kept their recent outcomes: none
    recent_tools: Annotated[list[StrictStr], Field(max_length=_RECENT_OUTCOMES)] = []


class _SavedLearner(BaseModel):
    """The JSON configuration of a saved learner (what ``state_bytes`` writes), checked field by field."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["toolrouter.learner"]
    version: Literal[1, 2, 3]
    policy: StrictStr | None
    policy_options: dict[str, _Option]
    context_dim: Annotated[int, Field(strict=True, ge=1, le=MAX_SAVED_DIM)] | None
    seed: Annotated[int, Field(strict=True, ge=0, lt=SEED_LIMIT)] | None
    weights: UtilityWeights
    drift_detection: DetectorConfig | None = None
    tools: list[Annotated[ToolProfile, BeforeValidator(_saved_profile)]]
    watermark: Count = 0
    # the store whose ids the watermark counts; none: saved without a store, or before stores had one
    store_id: StrictStr | None = None
    outcomes: Count | None = None
    applied_above_watermark: list[Count] = []
    routes: list[_SavedRoute]
    task_graphs: dict[str, Any] = {}
    structures: dict[str, Any] = {}
    structure_rng: dict[str, Any] | None = None
    # saved before the structure model's options were: the defaults
    structure_config: Annotated[StructureConfig, BeforeValidator(_saved_structure_config)] | None = None


@dataclass(frozen=True)
class _SavedState:
    """A saved learner read and checked by ``_read_state``: nothing in it contradicts itself."""

    config: _SavedLearner
    arrays: dict[str, np.ndarray]
    reward_model: MetaRewardModel | None
    source: str


def _every(name: str, value: Any) -> int | None:
    """``value`` of a count option (``sync_every``, ``snapshot_every``): a positive int or ``None``."""
    return None if value is None else check_count(name, value, low=1)


def _existing_store(url: str) -> Store | None:
    """The store at ``url`` if there is one; ``None`` where there is none yet (nothing created).
    Any other failure raises: opening the URL again to create the store would only fail again (a
    refused login tried twice, a registered factory called twice)."""
    try:
        return open_store(url, create=False)
    except NoStoreError:
        return None


def _snapshot_source(store: Store, name: str) -> str:
    """How errors name a store snapshot."""
    return f"store {store.url!r} snapshot {name!r}"


def _read_state(data: bytes, source: str, store: Store | None = None) -> _SavedState:
    """Read and check a saved learner; ``source`` names it in a ``CorruptStateError``. ``store``:
    the store whose snapshot it is; state that names no store (saved before stores had an
    identity) is taken as that store's, whose ids its watermark counted; a reward model in it that
    names no store (saved before models named one), as the state's store's."""
    try:
        saved = _check_state(data, source)
    except CorruptStateError as exc:
        raise exc.within(source) from None
    if store is not None and saved.config.store_id is None:
        config = saved.config.model_copy(update={"store_id": store.store_id})
        saved = dataclass_replace(saved, config=config)
    if saved.reward_model is not None and saved.reward_model.store_id is None:  # saved before models named one
        saved.reward_model.store_id = saved.config.store_id  # the store of the state that holds it
    return saved


def _check_state(data: bytes, source: str) -> _SavedState:
    try:
        blob = read_blob(data, _FORMAT)
    except CorruptStateError as exc:
        raise CorruptStateError(f"not a saved toolrouter learner: {exc.problem}") from None
    found = (blob.config.get("format"), blob.config.get("version"))
    if found[0] == _FORMAT and isinstance(found[1], int) and not isinstance(found[1], bool) and found[1] > _VERSION:
        # a router of a newer toolrouter saved it (one upgraded first, on a store they share)
        raise CorruptStateError(
            f"version {found[1]} was saved by a newer toolrouter, this one reads versions 1 to {_VERSION}: upgrade toolrouter"
        )
    # the type too: 3.0 and true are == 3 and 1
    if found[0] != _FORMAT or type(found[1]) is not int or found[1] not in (1, 2, 3):
        raise CorruptStateError(f"unsupported format {found[0]!r} version {found[1]!r}; expected {_FORMAT!r} 1, 2 or 3")
    if found[1] >= 2 and not blob.sealed:
        raise CorruptStateError(f"the digest that every version {found[1]} learner carries is missing")
    config = read_model(_SavedLearner, blob.config, "config")
    _check_policy_config(config)
    if len({p.tool_id for p in config.tools}) != len(config.tools):
        raise CorruptStateError(f"config.tools: a tool id appears twice in {[p.tool_id for p in config.tools]}")
    keys = [(r.task_type, r.step) for r in config.routes]
    if len(set(keys)) != len(keys):
        raise CorruptStateError(f"config.routes: a (task type, step) appears twice in {keys}")
    below = [i for i in config.applied_above_watermark if i <= config.watermark]
    if below:
        raise CorruptStateError(f"config.applied_above_watermark: ids {below} are not above the watermark {config.watermark}")
    wanted = {f"routes.{i}.{n}" for i, r in enumerate(config.routes) for n in r.array_names}
    # a route's request records are there when its detectors remember requests (checked with them)
    wanted |= {f"routes.{i}.{n}" for i in range(len(config.routes)) for n in (_REQUEST_KEYS, _REQUEST_RECORDS)} & set(blob.arrays)
    # and its recent outcomes, when it names their tools
    wanted |= {f"routes.{i}.{n}" for i, r in enumerate(config.routes) if r.recent_tools for n in (_RECENT_CONTEXTS, _RECENT_UTILITIES)}
    if _FEATURIZER_PROBE in blob.arrays:
        if config.context_dim is None:
            raise CorruptStateError(f"arrays.{_FEATURIZER_PROBE}: a featurizer's vector without a context_dim")
        checked_array(blob.arrays, _FEATURIZER_PROBE, (config.context_dim,), np.float64)
        wanted.add(_FEATURIZER_PROBE)
    missing = sorted(wanted - set(blob.arrays))
    unknown = sorted(n for n in set(blob.arrays) - wanted - {_REWARD_MODEL} if not n.startswith(f"{_STRUCTURES}."))
    if missing or unknown:
        raise CorruptStateError(f"arrays: missing {missing}, unexpected {unknown}")
    model = None
    if _REWARD_MODEL in blob.arrays:
        packed = checked_array(blob.arrays, _REWARD_MODEL, blob.arrays[_REWARD_MODEL].shape[:1], np.uint8)
        model = _read_reward_model(packed.tobytes(), f"arrays.{_REWARD_MODEL}")
        if config.policy != "neural_linear" or model.context_dim != config.context_dim:
            raise CorruptStateError(
                f"arrays.{_REWARD_MODEL}: a reward model for context_dim={model.context_dim} does not fit policy "
                f"{config.policy!r} with context_dim={config.context_dim!r}"
            )
    return _SavedState(config, blob.arrays, model, source)


def _route_requests(arrays: Mapping[str, np.ndarray], prefix: str) -> tuple[np.ndarray, np.ndarray]:
    """A route's request keys and records (none when it has no such arrays), their dtypes and
    shapes checked; each detector checks its own rows when it loads them."""
    if f"{prefix}{_REQUEST_KEYS}" not in arrays and f"{prefix}{_REQUEST_RECORDS}" not in arrays:
        return np.zeros(0, dtype=np.uint64), np.zeros((0, 2), dtype=np.int64)
    keys = arrays.get(f"{prefix}{_REQUEST_KEYS}")
    n = keys.shape[:1] if isinstance(keys, np.ndarray) else ()
    keys = checked_array(arrays, f"{prefix}{_REQUEST_KEYS}", n, np.uint64)
    return keys, checked_array(arrays, f"{prefix}{_REQUEST_RECORDS}", (len(keys), 2), np.int64)


def _check_policy_config(config: _SavedLearner) -> None:
    """The saved policy name, options and context dimension agree and build a policy."""
    if config.policy is None:  # a custom factory: the caller passes it, and it checks its state
        return
    if config.policy not in POLICIES:
        raise CorruptStateError(f"config.policy: unknown policy {config.policy!r}; known: {sorted(POLICIES)}")
    options = config.policy_options
    dim = options.get("context_dim") if POLICIES[config.policy].contextual else None
    if dim != config.context_dim:
        raise CorruptStateError(
            f"config.context_dim: {config.context_dim!r} does not fit policy {config.policy!r} with "
            f"policy_options.context_dim {dim!r}"
        )
    for name, bound in _SIZE_OPTIONS.items():
        value = options.get(name)
        if isinstance(value, int) and value > bound:
            raise CorruptStateError(f"config.policy_options.{name}: {value!r} is above the largest saved size {bound}")
    try:
        probe = make_policy(config.policy, seed=0, **options)
    except ValueError as exc:  # make_policy's check of the options
        raise CorruptStateError(f"config.policy_options: {exc}") from None
    for i, route in enumerate(config.routes):
        if route.policy.get("options") != probe.options:
            raise CorruptStateError(
                f"config.routes[{i}].policy.options: {short_repr(route.policy.get('options'))} differ from "
                f"{probe.options!r}, those of policy_options"
            )


def _reward_model_misfit(saved: _SavedState, model: MetaRewardModel) -> str | None:
    """Why the saved routes do not fit ``model`` (the policy options it sets, or the encoder a route
    was learned on), or ``None``. A route's statistics live in the feature space of its encoder:
    under another one they would score tools on features they were never fitted to."""
    config = saved.config
    if config.policy is None:  # a custom factory: a reward model needs neural_linear, refused elsewhere
        return None
    options = make_policy(config.policy, seed=0, **config.policy_options).options  # the defaults filled in
    differ = [f"{k} saved {options.get(k)!r}, the model's {v!r}" for k, v in model.policy_options().items() if options.get(k) != v]
    if differ:
        return f"does not fit {saved.source}: {', '.join(differ)}"
    encoder = model.feature_map()
    for i, rc in enumerate(config.routes):
        learned_on = {n: saved.arrays.get(f"routes.{i}.map.{n}") for n in encoder}
        if any(a is None for a in learned_on.values()):
            continue  # a damaged route: its own load names what is missing
        if any(not np.array_equal(learned_on[n], a) for n, a in encoder.items()):
            return (
                f"its encoder is not the one that route (task type {rc.task_type!r}, step {rc.step!r}) of "
                f"{saved.source} was learned on"
            )
    return None


def _read_reward_model(data: bytes, source: str, store: Store | None = None) -> MetaRewardModel:
    """A reward model saved on its own (``MetaRewardModel.to_bytes``); errors name ``source``.
    ``store``: the store whose snapshot it is; a model that names no store (saved before models
    named one) is taken as that store's, whose ids its watermark counted."""
    from toolrouter.reward_model import MetaRewardModel

    try:
        model = MetaRewardModel.from_bytes(data)
    except CorruptStateError as exc:
        raise exc.within(source) from None
    if store is not None and model.store_id is None:
        model.store_id = store.store_id
    return model


def _ctor_args(config: _SavedLearner, policy: Any, kwargs: dict[str, Any], source: str) -> dict[str, Any]:
    """Constructor arguments of a router loaded from ``config`` (read from ``source``), the
    caller's ``policy`` and ``kwargs`` taking precedence."""
    args: dict[str, Any] = {
        "tools": list(config.tools),
        "policy": config.policy,
        "policy_options": config.policy_options,
        "context_dim": config.context_dim,
        "seed": config.seed,
        "weights": config.weights,
        "drift_detection": config.drift_detection,
    }
    if policy is not None and not (isinstance(policy, str) and policy == config.policy):
        # another policy than the saved one: the saved options are not its own
        args["policy"] = policy
        args.pop("policy_options")
        if _takes_no_context(policy):  # it refuses a context_dim: the policies' mismatch is what to report
            args.pop("context_dim")
    if args["policy"] is None:  # only its caller has the factory: the default policy would misread its state
        raise ValueError(f"policy: {source} was made with a custom policy factory; pass policy=")
    args.update(kwargs)
    if args.get("structure") is None and config.structure_config is not None:  # as a resumed router's
        args["structure"] = StructureModel(args.get("featurizer"), config.structure_config)
    return args


def _dim_of(featurizer: Any) -> int | None:
    """The vector length a featurizer declares (its ``dim``), or None for one that declares none
    (a plain function)."""
    dim = getattr(featurizer, "dim", None)
    return int(dim) if isinstance(dim, (int, np.integer)) and not isinstance(dim, bool) else None


def _takes_no_context(policy: Any) -> bool:
    """Whether ``policy`` is the name of a policy without a context (which a context_dim would not fit)."""
    return isinstance(policy, str) and policy in POLICIES and not POLICIES[policy].contextual


def _tool_ids(tools: Any) -> frozenset[str]:
    """``tools`` of ``optimize_task_execution``: tool ids (a mapping's keys), as a set."""
    if isinstance(tools, (str, bytes)) or not isinstance(tools, Iterable):  # "web" was {"w", "e", "b"}
        raise TypeError(f"tools: expected tool ids, got {short_repr(tools)}")
    ids = frozenset(tools)
    bad = [t for t in ids if not isinstance(t, str)]
    if bad:
        raise TypeError(f"tools: expected tool ids, got {short_repr(bad[0])}")
    return ids


def _learning_result(task_id: str, outcomes: list[_Outcome]) -> LearningResult:
    """What learning ``outcomes`` (those the policies learned) did."""
    utilities: dict[str, list[float]] = {}
    for o in outcomes:
        utilities.setdefault(o.result.tool_id, []).append(o.utility)
    n = len(outcomes)
    return LearningResult(
        task_id=task_id,
        n_results=n,
        utilities=utilities,
        success_rate=(sum(o.result.success for o in outcomes) / n) if n else 0.0,
        total_cost=float(sum(o.result.cost for o in outcomes)),
        total_latency_s=float(sum(o.result.latency_s for o in outcomes)),
        mean_utility=(sum(o.utility for o in outcomes) / n) if n else 0.0,
        updated_tools=tuple(utilities),
    )


def optimize_task_execution(learner: ToolMetaLearner, task: TaskProfile, **options: Any) -> ExecutionPlan:
    """Function form of ``ToolMetaLearner.optimize_task_execution``, its keyword options included
    (``allow_infeasible``, ``tools``)."""
    return learner.optimize_task_execution(task, **options)


def learn_from_execution(
    learner: ToolMetaLearner, task: TaskProfile, execution_results: Iterable[ExecutionResult], **options: Any
) -> LearningResult:
    """Function form of ``ToolMetaLearner.learn_from_execution``, its keyword options included
    (``trace_id``)."""
    return learner.learn_from_execution(task, execution_results, **options)
