"""Task structure learned from execution traces and from the request text.

A *trace* is what ran for one task: its steps in the order they first ran, each with the capability
it served and the earlier steps whose outputs it consumed. A trace counts once every step that ends
it (no later step consumes it) has succeeded and it was not closed unfinished (``close(trace_id,
finished=False)``: a step of it never ran): a run cut short by a failure, or by a step skipped
without an attempt, ran only part of the task, and counting that part would teach a flaky tool's
task type a structure without the steps the failure kept from running. ``StructureModel`` keeps, per task type, a
distribution over the structures (DAGs of capabilities) its traces had, with a prior shared across
task types, and a text model that predicts the structure from the request, so that a task type seen
rarely, or a new one, still gets a sensible plan. ``ToolMetaLearner`` feeds it every trace it records
or replays from its store and asks it for the steps of a task that declares none.

The score of a candidate structure ``s`` for a task of type ``t`` with request ``x`` (without a
request only the first and the last term count: with the default weights of 1, a log posterior):

    type_weight * u(x)^prior_fade * log P(s | t)            the task type's traces
  + structure_weight * r_s(x)                               the text model, per structure
  + capability_weight * sum_{c in s} logit m_c(x)           the text model, per capability
  + description_weight * cos(x', v_s)                       what s's capabilities do, in words
  + size_weight * u(x)^prior_fade * log P(|s| | complexity) the task's complexity
  + conversation_weight * r(s, e) * log P(again)          what the conversation already ran

- ``u(x) = ridge * f^T A^-1 f`` in (0, 1] is how new the request is to the text model: its predictive
  variance relative to its prior's (1 without a request, or before any trace with one; about
  ``ridge / (ridge + n)`` once ``n`` traces had requests like it). The task type's history and the
  size prior decide where the text says nothing, and give way to the text model as it learns requests
  like this one (on BFCL's multi-turn calls a fixed weight of 0.1 beside the text cost 0.05 exact
  match on the tune half; see ``docs/benchmarks/planning.md``).

- ``P(s | t) = (n_t(s) + concentration * G(s)) / (n_t + concentration)``: the Dirichlet-multinomial
  posterior mean of the type's traces around ``G``, the structures of every task type (with
  ``default_weight`` pseudo-traces of the one-step default), so a type with few traces borrows from
  the others. With ``sampling="thompson"`` a draw from that Dirichlet replaces the mean (Thompson
  sampling over structures: a rarely seen structure is tried now and then).
- ``r_s`` and ``m_c`` are ridge regressions (a Bayesian linear model with one shared posterior
  precision) from the featurised request to "this trace had structure ``s``" and "this trace used
  capability ``c``", learned online (one rank-one update per trace).
- ``x'``: the request; with ``drop_quoted``, less its quoted spans (``'...'``, ``"..."``: a file's
  name, a message's text), values the task passes on rather than what it asks to do: a tweet quoting
  "tire pressure is fine" does not ask to check the tires. The text model reads the whole request.
- ``v_s``: the sum of the unit vectors of ``s``'s capabilities, each its description's (the
  capability's name and its tools' descriptions, featurised like requests) plus ``prototype_weight``
  times the mean of the requests of the traces that used it, normalised. The description lets a
  capability no trace has used yet be predicted from the text alone; the requests say what users
  ask of it in their own words (on BFCL's multi-turn calls: 0.02 more node F1 on the tune half, within
  noise of before on the held-apart half; see ``docs/benchmarks/planning.md``).
- ``r(s, e)``: the sum over ``s``'s steps of ``e(c)``, how surely the task's conversation already ran
  the step's capability ``c`` (``e``, the ``earlier`` given to the proposal: 1 for each capability its earlier tasks
  ran, or, where what an earlier task ran is not known yet, the probability that it ran it: its
  proposal's ``capabilities``, combined by ``StructureProposal.ran_after``), and ``P(again) = (a + 1)
  / (n + 1)``: of the ``n`` capabilities conversations had run before a task
  (``observe_conversation``), the ``a`` that the task ran again. Where conversations seldom repeat a
  call (a log-in, a lookup whose answer the conversation keeps) a plan that repeats one gives way;
  where they do, the term fades to 0. Without ``observe_conversation``, or without ``earlier``, it is 0.
  The model follows conversations itself: a trace observed with ``conversation=`` (the id its
  task's conversation has, ``TaskProfile.conversation_id``) is, once it counts, a task of that
  conversation: the capabilities the conversation's traces counted before it ran (as its first
  attempt was observed) are its ``earlier``, those it ran its ``used`` (``observe_conversation``),
  and they join the conversation's. A proposal given ``conversation=`` and no ``earlier`` takes the
  conversation's as ``earlier``. A trace whose count moves (a step added, a failure, a close as
  unfinished) moves its part with it, against the same ``earlier``, so that counting a trace while
  it runs and counting it once it ended, as a replay of the store may, learn the same (of two turns
  run side by side, the later one's ``earlier`` is what the other had run when it started). The
  ``max_conversations`` conversations whose traces started latest are kept; a trace of one
  forgotten since it started counts in none, not in one that starts under its id.
  Weighing a predicted earlier capability by how sure its prediction was matters: a capability
  wrongly predicted for an earlier turn, held back in full, is missed where it is called.
- ``P(k | complexity)``: the sizes the traces of that complexity had, around a prior centred on
  ``1 + TaskComplexity.level`` steps (a discretised normal with a standard deviation of one step):
  before any trace of that complexity, a SIMPLE task is expected to take one step, an EXPERT one four.

Candidates are every structure seen (in any task type) whose capabilities are all available, one
single-step structure per available capability, with ``compose`` the sets of up to that many
available capabilities run side by side (when at most ``compose_limit`` are available), and the
default: one step ``main`` any tool may serve, whose description term is ``default_similarity``
(it wins when no capability's description is closer to the request). A task type without traces
and without request text gets the default: there is nothing to predict from. The proposal says where it came from (``learned``: the type's own traces ran it;
``predicted``: from the text and the other types' traces; ``default``), its probability (a softmax of
the scores over the candidates) and how many of the type's traces ran it.

Example:
    >>> model = StructureModel()
    >>> for i in range(3):
    ...     model.observe(f"t{i}", "research", TraceStep("search", "search", ()))
    ...     model.observe(f"t{i}", "research", TraceStep("analysis", "analysis", ("search",)))
    >>> plan = model.propose("research", capabilities={"search": "", "analysis": ""})
    >>> [(s.step, s.depends_on) for s in plan.steps], plan.source
    ([('search', ()), ('analysis', ('search',))], 'learned')
"""

from __future__ import annotations

import functools
import bisect
import hashlib
import heapq
import itertools
import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import networkx as nx
import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictStr

from meta._checks import check_flag
from toolrouter._checks import NumbersOnly, check_count
from toolrouter.errors import CorruptStateError, InvalidOutcomeError
from toolrouter.features import checked_vector
from toolrouter.models import ANY_CAPABILITY, TaskComplexity
from toolrouter.serialization import MAX_SAVED_DIM, Count, checked_array, read_model, short_repr
from toolrouter.store.base import check_storable

__all__ = [
    "CALL_TRACE_PREFIX",
    "DEFAULT_STEP",
    "StructureConfig",
    "StructureModel",
    "StructureProposal",
    "TraceStep",
    "check_trace_id",
]

#: The step of a task that names no steps or capabilities: any tool may serve it.
DEFAULT_STEP = "main"

#: Trace ids that start with this name a trace recorded in one call (``learn_from_execution``
#: without ``trace_id``): its attempts are appended together, so it is complete once written. The
#: latest few are remembered (a store's outage journal may write one in two parts, others between)
#: but never saved as open traces.
CALL_TRACE_PREFIX = "call:"
_RECENT_CALLS = 64

#: Most characters of a trace id.
MAX_TRACE_ID_CHARS = 200

#: A structure as compared across traces: per step in the order it first ran, its capability and
#: the positions of its parents (step names are the traces' own and do not matter).
Key = tuple[tuple["str | None", tuple[int, ...]], ...]

_DEFAULT_KEY: Key = ((None, ()),)
_RECENT_VECTORS = 64  # request texts whose features are remembered
_MAX_DESCRIPTIONS = 4096  # capabilities' description vectors remembered
_MAX_PENDING = 32  # traces whose rank-one updates wait for a proposal; more: invert A afresh
_MAX_UNCOUNTED = 256  # traces with new steps that wait to be counted until the counts are read
_MAX_SIZE = 64  # the size prior's support: 1 to this many steps (a larger structure counts as this)
_MARKS = re.compile("['\"\u2018\u2019\u201c\u201d\n]")  # what opens, closes or cuts off a quoted span
_WORD = re.compile(r"\w")


def _unquoted(text: str) -> str:
    """``text`` less its quoted spans, each left as a space: a span opens with a quote after a
    non-word character (the apostrophes of "I'm" and "Ltd.'s stock" open none) and closes with the
    first quote, at least one character later on the same line, before a non-word character. One
    pass over the marks: a regular expression scanned the rest of the line again from every quote
    that opened a span and found none to close it, quadratic in the length of such a text."""
    out, start, opened = [], 0, -1
    for m in _MARKS.finditer(text):
        i, mark = m.start(), m.group()
        if mark == "\n":
            opened = -1
        elif opened >= 0:
            if i > opened + 1 and mark not in "\u2018\u201c" and not _WORD.match(text, i + 1):
                out += [text[start:opened], " "]
                start, opened = i + 1, -1
        elif mark not in "\u2019\u201d" and not (i and _WORD.match(text, i - 1)):
            opened = i
    return "".join(out) + text[start:]


def _names(field: str, values: Iterable[str]) -> set[str]:
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError(f"{field}: expected capability names (an iterable of strings), got {short_repr(values)}")
    out = set(values)
    for v in out:
        _check_name(field, v)
    return out


def _ran(earlier: Mapping[str, float] | Iterable[str]) -> dict[str, float]:
    """``earlier`` as capability -> how surely the conversation ran it: names ran for sure, a
    mapping gives each its probability."""
    if not isinstance(earlier, Mapping):
        return dict.fromkeys(_names("earlier", earlier), 1.0)
    for c, p in earlier.items():
        _check_name("earlier", c)
        if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"earlier[{c!r}]: expected a probability (a number), got {short_repr(p)}")
        if not 0.0 <= p <= 1.0:  # NaN fails too
            raise ValueError(f"earlier[{c!r}]: expected a probability in [0, 1], got {p!r}")
    return {c: float(p) for c, p in earlier.items()}


def _marginals(cands: "_Candidates | None", p: np.ndarray) -> dict[str, float]:
    """Each available capability's probability of being run: the shares ``p`` of the candidates
    that use it, summed (each candidate lists a capability once)."""
    if cands is None:  # the default alone: one step any tool may serve
        return {}
    m = np.minimum(np.bincount(cands.cols, weights=p[cands.rows], minlength=len(cands.available)), 1.0)
    return {cands.available[i]: float(m[i]) for i in np.flatnonzero(m > 0.0)}


def _size_prior(mean: float) -> np.ndarray:
    k = np.arange(1, _MAX_SIZE + 1, dtype=float)
    p = np.exp(-0.5 * (k - mean) ** 2) + 1e-12  # never zero: every size stays possible
    return p / p.sum()


#: complexity level -> P(size = 1, 2, ...) before any trace: centred on ``1 + level`` steps
_SIZE_PRIOR = {c.level: _size_prior(1.0 + c.level) for c in TaskComplexity}
_EPS = 1e-3  # membership probabilities are clipped to [eps, 1 - eps]: a logit stays finite


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One step of a trace or of a proposed structure: its name, the capability it serves
    (``None``: any tool) and the steps whose outputs it consumes."""

    step: str
    capability: str | None
    depends_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # made by hand for StructureModel.observe: a string of parents was read as its letters,
        # each then dropped as no step of the trace
        _check_name("step", self.step)
        _check_text("capability", self.capability)
        if self.capability is not None:  # "" was kept, then refused by the saved state
            _check_name("capability", self.capability)
        # "*" is the capability of a step any tool serves, as a declared "*" step is: kept as
        # itself, it was learned but never proposed (no tool lists "*" among its capabilities)
        object.__setattr__(self, "capability", _any_tool(self.capability))
        if isinstance(self.depends_on, list):
            object.__setattr__(self, "depends_on", tuple(self.depends_on))
        if not isinstance(self.depends_on, tuple) or not all(isinstance(p, str) for p in self.depends_on):
            raise TypeError(f"depends_on: expected a tuple of step names, got {short_repr(self.depends_on)}")
        # a repeated parent made a structure whose saved state is refused as corrupt
        if len(set(self.depends_on)) != len(self.depends_on) or self.step in self.depends_on:
            raise ValueError(
                f"depends_on: expected other steps than {self.step!r}, each once, got {short_repr(self.depends_on)}"
            )


def _any_tool(capability: str | None) -> str | None:
    """``None`` (any tool) for ``ANY_CAPABILITY``, else ``capability``."""
    return None if capability == ANY_CAPABILITY else capability


def _check_name(field: str, value: Any) -> None:
    """A ``TypeError`` naming ``field`` unless ``value`` is a string with a non-blank character,
    and a ``ValueError`` unless a store keeps it as it is (``check_storable``): a name the model
    keys its counts by and saves, so another value was kept, then refused by the saved state."""
    if not isinstance(value, str) or not value.strip():
        raise TypeError(f"{field}: expected a non-empty string, got {short_repr(value)}")
    check_storable(field, value)


def _check_text(field: str, value: Any) -> None:
    """A ``TypeError`` naming ``field`` unless ``value`` is a string or ``None``."""
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{field}: expected a string or None, got {short_repr(value)}")


def _check_capabilities(capabilities: Any) -> None:
    """A ``TypeError`` unless ``capabilities`` is a mapping or a collection of capability names: a
    string was read as its letters, each a capability no tool serves."""
    if isinstance(capabilities, (str, bytes)) or not isinstance(capabilities, Iterable):
        raise TypeError(f"capabilities: expected a mapping or a list of capability names, got {short_repr(capabilities)}")
    names = capabilities if isinstance(capabilities, Mapping) else list(capabilities)
    for name in names:
        _check_name("capabilities", name)
        if name == ANY_CAPABILITY:  # as a tool may not list it: its one-step candidate was a "*" step
            raise ValueError(
                f"capabilities: {ANY_CAPABILITY!r} is the capability of a step any tool serves, not one a tool lists"
            )
        if isinstance(capabilities, Mapping):  # a description that is not text was read as its repr
            _check_text(f"capabilities[{name!r}]", capabilities[name])


def _check_complexity(value: Any) -> None:
    """An error naming ``complexity`` unless ``value`` is a ``TaskComplexity`` value or ``None``
    (a misspelt one was taken for MODERATE)."""
    _check_text("complexity", value)
    if value is not None and value not in _LEVELS:
        raise ValueError(f"complexity: expected one of {list(_LEVELS)} or None, got {short_repr(value)}")


def _check_rng(rng: Any) -> None:
    """A ``TypeError`` unless ``rng`` is a numpy ``Generator`` or ``None``."""
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng: expected a numpy Generator or None, got {short_repr(rng)}")


def _check_conversation(conversation: Any) -> None:
    """An error naming ``conversation`` unless it is a name (``_check_name``) or ``None``."""
    if conversation is not None:
        _check_name("conversation", conversation)


def _check_trace_key(trace_id: Any) -> None:
    """A ``TypeError`` unless ``trace_id`` is a string: another value named no trace, silently."""
    if not isinstance(trace_id, str):
        raise TypeError(f"trace_id: expected a string, got {short_repr(trace_id)}")


class StructureConfig(NumbersOnly):
    """Options of a :class:`StructureModel` (every field checked; see the module's docstring for
    the score they weigh).

    Arguments:
        type_weight: weight of the task type's posterior ``log P(s | t)`` (times ``u^prior_fade``).
        concentration: how many traces the shared prior is worth inside one task type.
        default_weight: pseudo-traces of the one-step default in the shared prior.
        ridge: the ridge (prior precision) of the text model.
        structure_weight, capability_weight, description_weight: weights of the text terms.
        drop_quoted: whether the description term reads the request less its quoted spans
            (``'...'``, ``"..."``): the values the task passes on (a file's name, a message's
            text) say nothing of what it asks to do. The text model, where a name that recurs is
            evidence, reads the whole request. On BFCL's multi-turn calls it gained 0.016 exact and
            0.017 node F1 on the tune half (featurizer minilm+hashing, seeds 0-3; paired over the
            same turns, 2.4 standard errors each) and 0.011 and 0.011 on the report half (see
            ``docs/benchmarks/planning.md``). A router saved before it existed loads with ``False``.
        prototype_weight: weight of the mean of the requests a capability's traces served, beside
            its description's unit vector, in the vector the description term compares a request
            with (0: the description alone).
        size_weight: weight of ``log P(size | complexity)`` (times ``u^prior_fade``).
        conversation_weight: weight of ``log P(again)`` per step of a candidate whose capability
            the task's conversation already ran, times how sure that is (``earlier``; nothing without
            ``observe_conversation``). See ``docs/benchmarks/planning.md`` for what it gave on BFCL.
        max_conversations: conversations whose capabilities are kept (those a trace started in
            latest); an older one is forgotten: a later task of it plans as its first, and a trace
            of it that started before counts in none.
        prior_fade: how fast those two give way to the text model as it learns requests like the
            task's (``u``: see the module's docstring; 0: fixed weights).
        size_prior: pseudo-traces of the size prior per complexity.
        compose: also propose every set of 2 to ``compose`` available capabilities, run side by
            side, when at most ``compose_limit`` capabilities are available (0: only structures
            seen and single capabilities).
        default_similarity: the description term of the default step, in cosine similarity: the
            default is proposed for a request no capability's description comes closer to.
        sampling: ``"map"``: the most probable structure; ``"thompson"``: the best under a draw of
            the task type's distribution (exploration over structures).
        max_open_traces: traces kept open for more attempts (the most recently seen); as many
            again that were pushed out of those are still known by id (without their request's
            features): an attempt of one reopens it and a close applies to it, so that a run
            still in flight loses no outcome, nor its close as unfinished. An attempt of a trace
            closed since (or pushed out of both) starts a new one.
        max_structures: distinct structures kept per task type. Beyond it, the type's least
            useful structure (fewest of its traces; the earliest learned among equals) is dropped
            with its traces' counts, and forgotten once no task type counts it; those open traces
            are counted with are kept beside the bound until they close. The type's newest
            ``max(1, max_structures // 8)`` structures are on probation, never dropped: a new
            structure stays until that many newer ones were learned, time to recur and then stand
            by its count, so that a full type still learns a new structure. Each costs about 5.4 KB
            (see :class:`StructureModel`), so that a router fed free-form traces stays bounded.
        max_task_types: task types kept. Beyond it, the least useful type (fewest traces; the
            earliest learned among equals) is dropped with its traces' counts, as a structure
            beyond ``max_structures`` is; a type an open trace is counted with is kept beside the
            bound until it closes, and the newest ``max(1, max_task_types // 8)`` types are on
            probation, never dropped. A saved state keeps the types in the order they were
            learned, so that a model that loads it drops what the one that saved it would; so that
            a router fed a new task type per request (an id, a user's text) stays bounded.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type_weight: float = Field(1.0, ge=0.0, allow_inf_nan=False)
    concentration: float = Field(1.0, gt=0.0, allow_inf_nan=False)
    default_weight: float = Field(1.0, ge=0.0, allow_inf_nan=False)
    ridge: float = Field(0.1, gt=0.0, allow_inf_nan=False)
    structure_weight: float = Field(2.0, ge=0.0, allow_inf_nan=False)
    capability_weight: float = Field(0.3, ge=0.0, allow_inf_nan=False)
    description_weight: float = Field(12.0, ge=0.0, allow_inf_nan=False)
    prototype_weight: float = Field(1.0, ge=0.0, allow_inf_nan=False)
    drop_quoted: StrictBool = True
    size_weight: float = Field(1.0, ge=0.0, allow_inf_nan=False)
    conversation_weight: float = Field(0.4, ge=0.0, allow_inf_nan=False)
    max_conversations: int = Field(10_000, ge=1, le=1 << 20)
    size_prior: float = Field(2.0, gt=0.0, allow_inf_nan=False)
    prior_fade: float = Field(8.0, ge=0.0, le=64.0, allow_inf_nan=False)
    compose: int = Field(0, ge=0, le=8)
    compose_limit: int = Field(8, ge=1, le=16)
    default_similarity: float = Field(0.0, ge=-1.0, le=1.0, allow_inf_nan=False)
    sampling: Literal["map", "thompson"] = "map"
    max_open_traces: int = Field(1024, ge=1, le=1 << 20)
    max_structures: int = Field(1024, ge=1, le=1 << 20)
    max_task_types: int = Field(4096, ge=1, le=1 << 20)


@dataclass(frozen=True)
class StructureProposal:
    """A structure for a task, and why.

    ``source``: ``"learned"`` (the task type's own traces ran it), ``"predicted"`` (from the request
    text and what other task types ran) or ``"default"`` (one step any tool may serve).
    ``probability``: its share of the candidates' softmax scores; ``traces``: how many of the task
    type's traces ran it, of ``task_type_traces``; ``sampled``: chosen under a Thompson draw.
    ``capabilities``: for each available capability, the probability that the task runs it (the
    shares of the candidates that use it, summed; only those above 0).
    """

    steps: tuple[TraceStep, ...]
    source: str
    probability: float
    traces: int
    task_type_traces: int
    sampled: bool = False
    capabilities: Mapping[str, float] = field(default_factory=dict, hash=False)

    def ran_after(self, earlier: Mapping[str, float] | Iterable[str] = ()) -> dict[str, float]:
        """What the task's conversation has run once its task ran as proposed, before its run says
        what did: each capability with the probability that the conversation ran it, ``1 - (1 - e)
        (1 - m)`` of the ``earlier`` probability ``e`` and this task's ``m`` (``capabilities``). The
        ``earlier`` to give the conversation's next proposal; a task whose real run is known gives
        its capabilities as 1 instead."""
        ran = _ran(earlier)
        for c, m in self.capabilities.items():
            ran[c] = 1.0 - (1.0 - ran.get(c, 0.0)) * (1.0 - m)
        return ran

    def graph(self) -> nx.DiGraph:
        """The structure as a DAG: a node per step (attribute ``capability``), an edge per
        dependency."""
        graph = nx.DiGraph()
        for s in self.steps:
            graph.add_node(s.step, capability=s.capability)
        graph.add_edges_from((p, s.step) for s in self.steps for p in s.depends_on)
        return graph


class _Trace:
    """A trace that may still get steps: its task type, complexity level, request and steps."""

    __slots__ = ("task_type", "complexity", "request", "steps", "failed", "unfinished", "key", "size", "text",
                 "features", "conversation", "ran_before", "ran", "conversation_ran")

    def __init__(self, task_type: str, complexity: str | None, request: str | None, conversation: str | None = None) -> None:
        self.task_type = task_type
        self.complexity = complexity
        self.request = request
        self.conversation = conversation  # the conversation its task is a turn of (None: none)
        # what its conversation's traces ran before it started (None: restored from a state saved
        # before that was kept, until it counts), kept so
        # that a recount weighs its capabilities against the same ``earlier``; and the
        # capabilities it adds to the conversation now (None: not counted)
        self.ran_before: frozenset[str] | None = None
        self.ran: tuple[str, ...] | None = None
        # what its conversation's counted traces ran: the conversation's entry where the trace
        # started (None: forgotten since), never one its id got since (forgotten, then started again)
        self.conversation_ran: Counter[str] | None = None
        self.steps: dict[str, TraceStep] = {}  # in the order they first ran
        self.failed: set[str] = set()  # steps without a successful attempt so far
        self.unfinished = False  # closed with steps that never ran (skipped, cancelled)
        self.key: Key | None = None  # the structure it is counted with (None: not counted)
        # the size it is counted with in the size prior: its structure's, kept where that is dropped
        # (as a closed trace's is) while the trace may be recounted (None: not counted)
        self.size: int | None = None
        self.text = False  # whether its request is in the text model's precision A
        self.features: np.ndarray | None | bool = False  # the request's, once computed

    def ended_well(self) -> bool:
        """Whether every step that ends the trace (no step of it consumes it) succeeded, and none
        was left without an attempt."""
        if self.unfinished:
            return False
        if not self.failed:
            return True
        consumed = {p for s in self.steps.values() for p in s.depends_on}
        return self.failed <= consumed


def _saved_trace(trace_id: str, t: _Trace, followed: Mapping[str, Counter[str]]) -> dict[str, Any]:
    """An open (or pushed out) trace as ``StructureModel.state`` saves it (``followed``: the
    model's conversations)."""
    saved = {
        "trace_id": trace_id,
        "task_type": t.task_type,
        "complexity": t.complexity,
        "request": t.request,
        "steps": [[s.step, s.capability, list(s.depends_on)] for s in t.steps.values()],
        "failed": [s for s in t.steps if s in t.failed],
        "text": t.text,
    }
    if t.conversation is not None:  # its part in the conversation is its count's (``ran``)
        saved["conversation"] = t.conversation
        saved["ran_before"] = None if t.ran_before is None else sorted(t.ran_before)
        if followed.get(t.conversation) is not t.conversation_ran and t.conversation in followed:
            saved["forgotten"] = True  # its conversation's id is another conversation's now
    return saved


def check_trace_id(trace_id: Any) -> str:
    """``trace_id`` if it names a trace a caller may write to: a non-empty string of at most
    ``MAX_TRACE_ID_CHARS`` characters, not one of the ids the router makes for one-call traces;
    else a ``ValueError`` naming the field and the value."""
    if (
        not isinstance(trace_id, str) or not trace_id.strip() or len(trace_id) > MAX_TRACE_ID_CHARS
        or trace_id.startswith(CALL_TRACE_PREFIX)
    ):
        raise ValueError(
            f"trace_id: expected a non-empty string of at most {MAX_TRACE_ID_CHARS} characters not starting with "
            f"{CALL_TRACE_PREFIX!r}, got {short_repr(trace_id)}"
        )
    return check_storable("trace_id", trace_id)  # a router without a store kept it, then could not load it


def _key(steps: Sequence[TraceStep]) -> Key:
    """The structure of ``steps`` (parents before the steps that consume them), as compared across
    traces: the same whichever of two independent steps finished first. Steps are placed in a
    canonical topological order, the ready step with the least (capability, parents' places) first."""
    return _canonical(steps)[0]


def _canonical(steps: Sequence[TraceStep]) -> tuple[Key, tuple[str, ...]]:
    """``(key, step names in the key's order)`` of ``steps`` (see ``_key``). Among the ready
    steps the least (capability, parents' places) goes first; two that tie there go in the order
    of the part they play in the trace (``_classes``), so that which of the two a trace listed
    first does not change the key. A step's rank is fixed once it is ready, so the ready steps
    wait in a heap: O(n log n) for a trace of n steps."""
    index = {s.step: i for i, s in enumerate(steps)}
    parents = [[index[p] for p in s.depends_on if p in index] for s in steps]
    children: list[list[int]] = [[] for _ in steps]
    for i, ps in enumerate(parents):
        for p in ps:
            children[p].append(i)
    classes = _classes(steps, parents, children)
    place: dict[int, int] = {}
    order: list[int] = []

    def rank(i: int) -> tuple[str, list[int], bytes, int]:
        return (steps[i].capability or "", sorted(place[p] for p in parents[i]), classes[i], i)

    waiting = [len(ps) for ps in parents]
    ready = [rank(i) for i in range(len(steps)) if not waiting[i]]
    heapq.heapify(ready)
    while ready:
        best = heapq.heappop(ready)[3]
        place[best] = len(order)
        order.append(best)
        for c in children[best]:
            waiting[c] -= 1
            if not waiting[c]:
                heapq.heappush(ready, rank(c))
    key = tuple((steps[i].capability, tuple(sorted(place[p] for p in parents[i]))) for i in order)
    return key, tuple(steps[i].step for i in order)


#: Rounds of ``_classes``: how far around a step its digest looks.
_REFINE_ROUNDS = 4


def _classes(steps: Sequence[TraceStep], parents: list[list[int]], children: list[list[int]]) -> list[bytes]:
    """Per step, a digest of its capability and of where it sits: refined by the digests of its
    parents and of its children (colour refinement), for ``_REFINE_ROUNDS`` rounds or until a
    round splits the steps no further. Steps with the same digest play the same part in the
    trace as far as that many steps around them show, whatever the steps are named or listed;
    the rounds are bounded so that a long trace costs O(n)."""

    def digest(*parts: Any) -> bytes:
        return hashlib.blake2b(repr(parts).encode("utf-8", "surrogatepass"), digest_size=8).digest()

    labels = [digest(s.capability) for s in steps]
    classes = len(set(labels))
    for _ in range(_REFINE_ROUNDS):
        labels = [
            digest(labels[i], sorted(labels[p] for p in parents[i]), sorted(labels[c] for c in children[i]))
            for i in range(len(steps))
        ]
        refined = len(set(labels))
        if refined == classes:
            break
        classes = refined
    return labels


def _order(key: Key) -> tuple[tuple[bool, str, tuple[int, ...]], ...]:
    """Where a structure stands among the candidates (and so which of two tied scores wins, and
    which candidate each value of a Thompson draw goes to): fixed by the structure itself, not by
    when its traces were counted, which differs between a router that counted a trace while it
    ran and one that replays the store, or restores a saved state."""
    return tuple((c is None, c or "", parents) for c, parents in key)


def _capabilities(key: Key) -> tuple[str, ...]:
    """The capabilities a structure uses, each once, in its order: not a set, whose order (and so
    the rounding of a sum over it) changes with each process's string hashing."""
    return tuple(dict.fromkeys(c for c, _ in key if c is not None))


def _uses(key: Key, capabilities: tuple[str, ...]) -> list[int]:
    """How many steps of a structure serve each of its ``capabilities`` (``_capabilities(key)``)."""
    steps = [c for c, _ in key if c is not None]
    if len(steps) == len(capabilities):  # most structures: each capability once
        return [1] * len(steps)
    n = Counter(steps)
    return [n[c] for c in capabilities]


def _source(key: Key, type_traces: int) -> str:
    """Where a proposed structure comes from: the task type's own traces ran it, it is the
    default, or it was predicted from the text and the other task types."""
    if type_traces > 0:
        return "learned"
    return "default" if key == _DEFAULT_KEY else "predicted"


#: ``TaskComplexity`` value -> its level, looked up once per trace step.
_LEVELS = {c.value: c.level for c in TaskComplexity}


def _probation(max_structures: int) -> int:
    """How many of a task type's newest structures ``StructureModel._evict`` (and
    ``TaskGraphLibrary._trim``) keep whatever their counts (at most ``max_structures``: as many
    older ones as they must drop are there)."""
    return max(1, max_structures // 8)


def _level(complexity: str | None) -> int:
    """The level of a ``TaskComplexity`` value; a trace or task without one (or with an unknown
    one) is MODERATE, the ``TaskProfile`` default."""
    return _LEVELS.get(complexity, TaskComplexity.MODERATE.level) if complexity is not None else TaskComplexity.MODERATE.level


class _Catalogue:
    """The structures seen, in ``_order``, as arrays a proposal reads at once: per structure its
    capabilities (``rows``: the structure's place, ``cols``: the capability's in ``capabilities``,
    in the order ``_capabilities`` gives, ``uses``: how many of its steps serve it) and its row of the text model's sums (``slots``; -1:
    none). Kept up to date as traces are learned (``learned``, ``forgotten``, ``counted``,
    ``slot``): a structure learned since it was made waits in ``recent`` with where it goes among
    ``keys``, and it is made again once those are many, so that a trace of a new structure does
    not sort thousands again before the next proposal."""

    __slots__ = ("keys", "place", "alive", "recent", "total", "sizes", "capabilities", "rows", "cols",
                 "uses", "slots", "default")

    def __init__(self, keys: list[Key], total: Mapping[Key, int], slots: Mapping[Key, int]) -> None:
        self.keys = keys
        self.place = {k: i for i, k in enumerate(keys)}
        self.alive = np.ones(len(keys), dtype=bool)  # False: no trace has it any more
        self.recent: dict[Key, tuple[int, tuple[Any, ...]]] = {}  # -> (place among keys, _order)
        self.total = np.array([total[k] for k in keys], dtype=float)  # kept up to date by _recount
        self.sizes = np.array([len(k) for k in keys], dtype=np.intp)
        self.capabilities = sorted({c for k in keys for c, _ in k if c is not None})
        ids = {c: i for i, c in enumerate(self.capabilities)}
        members = [[ids[c] for c in _capabilities(k)] for k in keys]
        self.rows = np.repeat(np.arange(len(keys), dtype=np.intp), [len(m) for m in members])
        self.cols = np.fromiter(itertools.chain.from_iterable(members), dtype=np.intp, count=len(self.rows))
        self.uses = np.fromiter(
            itertools.chain.from_iterable(_uses(k, _capabilities(k)) for k in keys), dtype=float, count=len(self.rows)
        )
        self.slots = np.array([slots.get(k, -1) for k in keys], dtype=np.intp)
        self.default = self.place.get(_DEFAULT_KEY, -1)

    def stale(self) -> bool:
        """Whether enough structures wait in ``recent``, or are gone, to make the catalogue again."""
        return len(self.recent) + int(np.count_nonzero(~self.alive)) > 32 + len(self.keys) // 16

    def learned(self, key: Key) -> None:
        i = self.place.get(key)
        if i is not None:
            self.alive[i] = True
        else:
            order = _order(key)
            self.recent[key] = (bisect.bisect_left(self.keys, order, key=_order), order)

    def forgotten(self, key: Key) -> None:
        i = self.place.get(key)
        if i is not None:
            self.alive[i], self.total[i], self.slots[i] = False, 0.0, -1
        else:
            self.recent.pop(key, None)

    def counted(self, key: Key, n: int) -> None:
        i = self.place.get(key)
        if i is not None:
            self.total[i] = n

    def slot(self, key: Key, slot: int) -> None:
        i = self.place.get(key)
        if i is not None:
            self.slots[i] = slot


@dataclass(frozen=True, slots=True)
class _Candidates:
    """The candidates of one proposal: ``keys``, and per capability of each (``rows``: its
    place in ``keys``, ``cols``: the capability's in ``available``, ``uses``: how many of its steps
    serve it), its row of the text model's
    sums (``slots``; -1: none), its traces of every type (``total``), its steps (``sizes``), and
    where each structure seen stands among them (``place``) and the default does (-1: not one)."""

    keys: list[Key]
    available: list[str]
    rows: np.ndarray
    cols: np.ndarray
    uses: np.ndarray
    slots: np.ndarray
    total: np.ndarray
    sizes: np.ndarray
    place: Callable[[Key], int]
    default: int

    def per_structure(self, values: np.ndarray) -> np.ndarray:
        """``values`` (one per capability of a candidate) summed per candidate, in order."""
        return np.bincount(self.rows, weights=values, minlength=len(self.keys))


def _cycle(steps: Sequence[TraceStep]) -> list[str] | None:
    """The steps on a cycle of the steps' dependencies, in order, or ``None`` (a plain topological
    sort first: it runs on every recorded trace; networkx finds the cycle)."""
    names = {s.step for s in steps}
    waiting: dict[str, set[str]] = {}
    for s in steps:
        waiting.setdefault(s.step, set()).update(p for p in s.depends_on if p in names)
    ready = [n for n, parents in waiting.items() if not parents]
    children: dict[str, list[str]] = {}
    for n, parents in waiting.items():
        for p in parents:
            children.setdefault(p, []).append(n)
    done = 0
    while ready:
        n = ready.pop()
        done += 1
        for c in children.get(n, ()):
            waiting[c].discard(n)
            if not waiting[c]:
                ready.append(c)
    if done == len(waiting):
        return None
    graph = nx.DiGraph()
    graph.add_nodes_from(s.step for s in steps)
    graph.add_edges_from((p, s.step) for s in steps for p in s.depends_on)
    return [u for u, _ in nx.find_cycle(graph)]


def _arrows(cycle: list[str]) -> str:
    return " -> ".join(cycle + cycle[:1])


def _locked(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` run under its model's lock."""

    @functools.wraps(method)
    def run(self: StructureModel, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return run


class StructureModel:
    """Per task type, a distribution over the structures its traces had; a text model that
    predicts the structure from the request; proposals for tasks that declare no steps.

    Arguments:
        featurizer: text -> vector for the request and the capabilities' descriptions (default
            ``toolrouter.features.HashingFeaturizer(dim=512)``); vectors are unit-normalised, a zero
            vector is a text without words, and anything but one vector of finite numbers (a NaN,
            a matrix) is refused with a ``ValueError`` naming the featurizer, before anything changes.
        config: a :class:`StructureConfig` or a dict of its fields.

    Thread-safe: a router's threads record traces while others read ``router.structures``.

    Memory: at most ``max_structures`` distinct structures per task type, of at most
    ``max_task_types`` task types (``StructureConfig``), are kept, beside those of open traces; each costs about 5.4 KB with the default
    featurizer (measured between 1,000 and 4,000 structures of random DAGs): most of it its row of
    the text model's request sums, ``dim + 1`` float64 (4.1 KB at 512 dimensions; it grows with the
    featurizer's dimension), the rest its key, its step names, its counts and its place among the
    sorted structures. On top of that, whatever the number of structures: the text model's
    precision matrix and its inverse, ``2 (dim + 1)^2`` float64 (4.2 MB at 512 dimensions); and
    per conversation followed (at most ``max_conversations``), the capabilities its traces ran.
    """

    def __init__(self, featurizer: Callable[[str], np.ndarray] | None = None, config: StructureConfig | Mapping[str, Any] | None = None) -> None:
        if config is None:
            config = StructureConfig()
        elif not isinstance(config, StructureConfig):
            config = StructureConfig.model_validate(config)
        if featurizer is not None and not callable(featurizer):  # else it failed at the first request
            raise TypeError(f"featurizer: expected a callable text -> vector or None, got {short_repr(featurizer)}")
        self.config = config
        self._featurizer = featurizer
        self._recent_vectors: OrderedDict[str, np.ndarray | None] = OrderedDict()
        self._descriptions: dict[str, np.ndarray | None] = {}  # capability text -> unit vector
        self._lock = threading.RLock()  # reentrant: a proposal reads the counts through traces()
        self._reset()

    def _reset(self) -> None:
        self._counts: dict[str, Counter[Key]] = {}  # task type -> structure -> traces
        self._total: Counter[Key] = Counter()  # structure -> traces of every type
        self._catalogue: _Catalogue | None = None  # the structures of _total in _order (None: to make)
        self._names: dict[Key, tuple[str, ...]] = {}  # the step names of the first trace of each
        self._sizes: dict[int, Counter[int]] = {}  # complexity level -> steps -> traces
        # traces with steps observed since they were last counted: counted when something reads
        # the counts, so that a plan of n steps recorded step by step is counted once, not n times
        self._uncounted: OrderedDict[_Trace, None] = OrderedDict()
        self._open: OrderedDict[str, _Trace] = OrderedDict()
        # pushed out of _open (the least recently seen first) but maybe still in flight: an attempt
        # reopens one, a close applies (closed unfinished, it teaches no structure)
        self._evicted: OrderedDict[str, _Trace] = OrderedDict()
        self._calls: OrderedDict[str, _Trace] = OrderedDict()  # the latest one-call traces
        self._over: set[str] = set()  # task types beyond max_structures while open traces hold them
        # the text model: A = ridge * I + sum f f^T over traces with a request (f = [x, 1]),
        # P = A^-1 kept by rank-one updates, and x summed per structure and per capability
        self._A: np.ndarray | None = None
        self._unfolded: list[np.ndarray] = []  # traces' features not yet added to A
        self._P: np.ndarray | None = None  # A^-1 as of the last proposal (None: to compute)
        self._pending: list[np.ndarray] = []  # traces' features added to A since P was computed
        # x summed per structure: one row of _S each (_slots: structure -> row, in the order the
        # structures got text; _free: rows to reuse), so that a proposal scores every structure
        # with one matrix product
        self._S: np.ndarray | None = None
        self._slots: dict[Key, int] = {}
        self._free: list[int] = []
        self._by_capability: dict[str, np.ndarray] = {}
        self._text_traces = 0
        # of the capabilities conversations had run before a task, how many the task ran again, and all
        self._again, self._earlier = 0, 0
        # conversation -> capability -> its counted traces that ran it; the one a trace started in latest last
        self._conversations: OrderedDict[str, Counter[str]] = OrderedDict()

    # --- text ----------------------------------------------------------------------------------
    @property
    def featurizer(self) -> Callable[[str], np.ndarray]:
        """The featurizer (made on first use)."""
        if self._featurizer is None:
            from toolrouter.features import HashingFeaturizer

            self._featurizer = HashingFeaturizer(dim=512)
        return self._featurizer

    def _vector(self, text: str | None) -> np.ndarray | None:
        """``[unit x, 1]`` for a text with words, else ``None``; the latest few are remembered (a
        task's request is featurised when it is planned and again when its trace is learned, and
        an encoder's featurizer is slow). A featurizer that returns anything but one vector of
        finite numbers is refused (``checked_vector``) before anything changes."""
        if not text or not text.strip():
            return None
        if text in self._recent_vectors:
            return self._recent_vectors[text]
        x = checked_vector(self.featurizer, text, f"the text {short_repr(text)}")
        norm = float(np.linalg.norm(x))
        f = None if not math.isfinite(norm) or norm == 0.0 else np.append(x / norm, 1.0)
        if f is not None:
            f.flags.writeable = False  # shared by the cache's users
        self._recent_vectors[text] = f
        if len(self._recent_vectors) > _RECENT_VECTORS:
            self._recent_vectors.popitem(last=False)
        return f

    def _add_text(self, f: np.ndarray) -> None:
        # Learning is on every recorded trace, proposing only for tasks without declared steps: A
        # takes the traces' f f^T in batches (one matrix product), and its inverse is brought up to
        # date when a proposal needs it.
        if self._A is None:
            self._A = np.eye(len(f)) * self.config.ridge
        self._unfolded.append(f)
        if len(self._unfolded) >= _MAX_PENDING:
            self._fold()
        if self._P is not None:
            self._pending.append(f)
            if len(self._pending) > _MAX_PENDING:
                self._P, self._pending = None, []
        self._text_traces += 1

    def _fold(self) -> np.ndarray | None:
        """``A`` with every trace's features added."""
        if self._unfolded:
            F = np.stack(self._unfolded)
            self._A += F.T @ F  # type: ignore[operator]
            self._unfolded = []
        return self._A

    def _precision_inverse(self) -> np.ndarray | None:
        """``A^-1`` of the text model (``None`` before any trace with a request): the pending
        traces folded in by Sherman-Morrison updates, or, after many, inverted afresh."""
        if self._A is None:
            return None
        if self._P is None:
            inverse = np.linalg.inv(np.linalg.cholesky(self._fold()))
            self._P, self._pending = inverse.T @ inverse, []
        for f in self._pending:
            pf = self._P @ f
            self._P -= np.outer(pf, pf) / (1.0 + f @ pf)
        self._pending = []
        return self._P

    def _move_text(self, f: np.ndarray, old: Key | None, new: Key | None, sign_old: float = -1.0) -> None:
        """The trace with features ``f`` now has structure ``new`` instead of ``old`` (``None``:
        none counted)."""
        if old is not None:
            self._S[self._slots[old]] += sign_old * f  # type: ignore[index]
            for c in _capabilities(old):
                self._by_capability[c] = self._by_capability[c] + sign_old * f
        if new is None:
            return
        slot = self._slot(new, len(f))  # before reading _S, which it may grow
        self._S[slot] += f  # type: ignore[index]
        for c in _capabilities(new):
            self._by_capability[c] = self._by_capability.get(c, 0.0) + f

    def _slot(self, key: Key, dim: int) -> int:
        """The row of ``_S`` that sums the features of ``key``'s traces (a zero row, made for a
        structure without one yet; ``_S`` grows when full)."""
        slot = self._slots.get(key)
        if slot is not None:
            return slot
        if self._S is None:
            self._S = np.zeros((16, dim))
        if not self._free:  # a quarter more: the copies stay O(1) per row, the unused rows few
            n, more = len(self._S), max(16, len(self._S) // 4)
            self._S = np.concatenate([self._S, np.zeros((more, self._S.shape[1]))])
            self._free = list(range(n + more - 1, n - 1, -1))
        slot = self._slots[key] = self._free.pop()
        if self._catalogue is not None:
            self._catalogue.slot(key, slot)
        return slot

    # --- learning ------------------------------------------------------------------------------
    def _trace(self, trace_id: str) -> _Trace | None:
        return self._calls.get(trace_id) or self._open.get(trace_id) or self._evicted.get(trace_id)

    def _keep_open(self, trace_id: str, trace: _Trace) -> None:
        """Hold ``trace`` open as the most recently seen (``_trim``)."""
        self._open[trace_id] = trace
        self._open.move_to_end(trace_id)
        self._trim()

    def _trim(self) -> None:
        """Push the least recently seen open traces beyond ``max_open_traces`` out to ``_evicted``
        (their features dropped, recomputed if reopened), and the oldest of those beyond as many
        again out for good."""
        while len(self._open) > self.config.max_open_traces:
            evicted_id, evicted = self._open.popitem(last=False)
            evicted.features = False
            self._evicted[evicted_id] = evicted
        while len(self._evicted) > self.config.max_open_traces:
            self._evicted.popitem(last=False)

    @_locked
    def open_steps(self, trace_id: str) -> tuple[TraceStep, ...]:
        """The steps of an open trace so far (none for an unknown or closed one)."""
        _check_trace_key(trace_id)
        trace = self._trace(trace_id)
        return tuple(trace.steps.values()) if trace is not None else ()

    @_locked
    def open_step(self, trace_id: str, step: str) -> TraceStep | None:
        """Step ``step`` of open trace ``trace_id`` (``None``: the trace is not open or lacks it);
        unlike ``open_steps``, no copy of a long trace."""
        _check_trace_key(trace_id)
        trace = self._trace(trace_id)
        return trace.steps.get(step) if trace is not None else None

    @_locked
    def check_task_type(self, trace_id: str, task_type: str, field: str = "trace_id", conversation: str | None = None) -> None:
        """Raise ``InvalidOutcomeError`` naming ``field`` when ``trace_id`` is held open for another
        task type, or, given ``conversation``, of another conversation (or of none): a trace is one
        task's run, and its steps teach its own type's structure, and its own conversation, only."""
        _check_trace_key(trace_id)
        _check_name("task_type", task_type)
        _check_conversation(conversation)
        trace = self._trace(trace_id)
        if trace is not None and trace.task_type != task_type:
            raise InvalidOutcomeError(
                f"{field}: trace {trace_id!r} is a trace of task type {trace.task_type!r}, got task type {task_type!r}"
            )
        if trace is not None and conversation is not None and trace.conversation != conversation:
            raise InvalidOutcomeError(
                f"{field}: trace {trace_id!r} is a trace of conversation {trace.conversation!r}, got conversation "
                f"{conversation!r}"
            )

    @_locked
    def check_request(self, request: str | None) -> None:
        """Raise the ``ValueError`` the featurizer's vector for ``request`` would raise when a trace
        with it is recorded (see ``observe``); else its vector is remembered for that recording.
        Lets a caller refuse an outcome before it changes anything of its own."""
        _check_text("request", request)
        self._vector(request)

    @_locked
    def check_trace(
        self, trace_id: str, entries: Sequence[tuple[str, str | None, Sequence[str] | None]], where: Callable[[int], str]
    ) -> list[TraceStep]:
        """The steps of ``entries`` (``(step, capability, depends_on or None)`` per attempt, in the
        order they ran) as they would join trace ``trace_id``, parents resolved: a step without
        ``depends_on`` follows the step before it in the trace. Changes nothing.

        Raises ``InvalidOutcomeError`` naming ``where(i)`` for a step that changes its capability
        or parents between attempts, a parent that is not in the trace, one that runs after the step
        that consumes it, and dependencies that form a cycle.
        """
        # read in place, not copied: a trace recorded attempt by attempt is checked at each one
        trace = self._trace(trace_id)
        earlier = trace.steps if trace is not None else {}
        last = next(reversed(earlier)) if earlier else None  # the step before, for one without depends_on
        new: dict[str, TraceStep] = {}  # the steps the entries add, in order
        given: dict[str, tuple[int, tuple[str, ...] | None]] = {}
        out: list[TraceStep] = []
        for i, (step, capability, depends_on) in enumerate(entries):
            capability = _any_tool(capability)  # as the trace holds it (TraceStep)
            if isinstance(depends_on, (str, bytes)):  # read as its letters, each a step of its own
                raise TypeError(f"{where(i)}.depends_on: expected a list of step names or None, got {short_repr(depends_on)}")
            deps = None if depends_on is None else tuple(depends_on)
            if deps is not None and step in deps:
                raise InvalidOutcomeError(f"{where(i)}.depends_on: step {step!r} cannot depend on itself")
            seen = earlier.get(step) or new.get(step)
            if seen is not None:
                if seen.capability != capability:
                    raise InvalidOutcomeError(
                        f"{where(i)}.capability: step {step!r} served {seen.capability!r} earlier in this trace, got {capability!r}"
                    )
                if deps is not None and set(deps) != set(seen.depends_on):
                    raise InvalidOutcomeError(
                        f"{where(i)}.depends_on: step {step!r} consumed {list(seen.depends_on)!r} earlier in this trace, got {list(deps)!r}"
                    )
                out.append(seen)
                continue
            if deps is not None:
                given[step] = (i, deps)
            new[step] = TraceStep(step, capability, deps if deps is not None else ((last,) if last is not None else ()))
            last = step
            out.append(new[step])
        for step, (i, deps) in given.items():  # a parent the trace lacks, then a cycle, then one run late
            missing = [p for p in deps if p not in earlier and p not in new]
            if missing:
                raise InvalidOutcomeError(
                    f"{where(i)}.depends_on: step {step!r} consumes {missing[0]!r}, which is not a step of this trace "
                    f"(its steps: {[*earlier, *new]!r})"
                )
        # the trace's earlier steps consume only steps before them: a cycle is among the new ones,
        # through a step given its parents (one without follows the step before it)
        cycle = _cycle(list(new.values()))
        if cycle is not None:
            k = next(k for k, s in enumerate(cycle) if s in given)
            cycle = cycle[k:] + cycle[:k]
            raise InvalidOutcomeError(
                f"{where(given[cycle[0]][0])}.depends_on: the dependencies of step {cycle[0]!r} form a cycle {_arrows(cycle)}"
            )
        position = {s: k for k, s in enumerate(new)}  # an earlier step runs before every new one
        for step, (i, deps) in given.items():
            late = [p for p in deps if position.get(p, -1) > position[step]]
            if late:
                raise InvalidOutcomeError(
                    f"{where(i)}.depends_on: step {step!r} consumes {late[0]!r}, which runs after it in this trace"
                )
        return out

    @_locked
    def observe(
        self,
        trace_id: str,
        task_type: str,
        step: TraceStep,
        *,
        request: str | None = None,
        complexity: str | None = None,
        succeeded: bool = True,
        conversation: str | None = None,
    ) -> None:
        """One attempt of trace ``trace_id``, in the order attempts ran (live or replayed from a
        store), and whether it ``succeeded``; ``conversation``: the conversation the trace's task
        is a turn of (see the module's docstring; as ``request``, the trace's first attempt says).
        A step the trace has already is not counted again
        (a successful retry or fallback makes it a step that succeeded); parents the trace lacks
        are dropped (a replayed log is trusted, not checked: ``check_trace`` checks before
        recording). The trace counts while the steps that end it have succeeded (see the module's
        docstring). A trace whose id starts with ``CALL_TRACE_PREFIX`` is complete once written;
        others stay open for more attempts (the latest ``max_open_traces``; an attempt of one
        pushed out since, but still known, reopens it: ``StructureConfig.max_open_traces``)."""
        _check_name("trace_id", trace_id)
        _check_name("task_type", task_type)
        if not isinstance(step, TraceStep):
            raise TypeError(f"step: expected a TraceStep, got {short_repr(step)}")
        _check_text("request", request)
        _check_complexity(complexity)
        check_flag("succeeded", succeeded, error=TypeError)
        _check_conversation(conversation)
        trace = self._trace(trace_id)
        if trace is not None:
            if trace_id not in self._calls:
                self._keep_open(trace_id, self._evicted.pop(trace_id, None) or trace)
            if step.step in trace.steps:
                if succeeded and step.step in trace.failed:
                    trace.failed.discard(step.step)
                    self._defer(trace)
                return
        f = self._vector(request) if trace is None else self._features(trace)
        if f is not None and self._A is not None and len(f) != len(self._A):
            raise ValueError(f"featurizer: returned {len(f) - 1} values, the text model holds {len(self._A) - 1}")
        if trace is None:
            trace = _Trace(task_type, complexity, request, conversation)
            if conversation is not None:
                trace.conversation_ran = self._seen_conversation(conversation)
                trace.ran_before = frozenset(trace.conversation_ran)
            if trace_id.startswith(CALL_TRACE_PREFIX):
                self._calls[trace_id] = trace
                if len(self._calls) > _RECENT_CALLS:
                    self._calls.popitem(last=False)
            else:
                self._keep_open(trace_id, trace)
            trace.features = f
        parents = tuple(p for p in step.depends_on if p in trace.steps)
        trace.steps[step.step] = TraceStep(step.step, step.capability, parents)
        if not succeeded:
            trace.failed.add(step.step)
        self._defer(trace)

    @_locked
    def observe_conversation(self, earlier: Iterable[str], used: Iterable[str]) -> None:
        """A task of a conversation (a chat, an agent's run) whose earlier tasks had run the
        capabilities ``earlier`` used ``used``: how often a conversation runs a capability again
        (``conversation_weight``)."""
        earlier, used = _names("earlier", earlier), _names("used", used)
        self._again += len(earlier & used)
        self._earlier += len(earlier)

    def _defer(self, trace: _Trace) -> None:
        """Count ``trace`` when something reads the counts, or now the oldest waiting trace once
        more than ``_MAX_UNCOUNTED`` wait: a router that never reads them (its tasks declare their
        steps) held every trace it recorded, with its request's features."""
        self._uncounted[trace] = None
        if len(self._uncounted) > _MAX_UNCOUNTED:
            oldest, _ = self._uncounted.popitem(last=False)
            self._recount(oldest, self._features(oldest))

    def _count(self) -> None:
        """Count every trace that got steps since it was last counted (see ``_uncounted``)."""
        while self._uncounted:
            trace, _ = self._uncounted.popitem(last=False)
            self._recount(trace, self._features(trace))
        for task_type in list(self._over):
            self._evict(task_type)
        if len(self._counts) > self.config.max_task_types:
            self._evict_task_types()

    @_locked
    def close(self, trace_id: str, *, finished: bool = True) -> bool:
        """Stop keeping trace ``trace_id`` open: a later attempt with its id starts a new trace.
        ``finished=False`` says some of its steps never ran (skipped with no attempt, or cut by a
        cancellation): the steps it has are only part of the task, so it teaches no structure;
        otherwise what it taught stays. Returns whether it was open."""
        _check_trace_key(trace_id)
        check_flag("finished", finished, error=TypeError)
        trace = self._open.pop(trace_id, None) or self._calls.pop(trace_id, None) or self._evicted.pop(trace_id, None)
        if trace is None:
            return False
        if not finished:
            trace.unfinished = True
            self._uncounted.pop(trace, None)
            self._recount(trace, self._features(trace))
        return True

    def _features(self, trace: _Trace) -> np.ndarray | None:
        if trace.features is False:  # restored from a saved state: computed on its next step
            trace.features = self._vector(trace.request)
        return trace.features  # type: ignore[return-value]

    def _recount(self, trace: _Trace, f: np.ndarray | None) -> None:
        """Move ``trace`` (request features ``f``) from the structure it was counted with to the
        one its steps make now (``None``: not counted, the steps that end it have not all
        succeeded)."""
        old = trace.key
        new, names = _canonical(list(trace.steps.values())) if trace.ended_well() else (None, ())
        if trace.conversation is not None:
            self._converse(trace, new)
        if old is None and new is None and trace.size is None:
            return
        trace.key = new
        counts = self._counts.setdefault(trace.task_type, Counter())
        sizes = self._sizes.setdefault(_level(trace.complexity), Counter())
        if trace.size is not None:
            sizes[trace.size] -= 1
            if sizes[trace.size] <= 0:
                del sizes[trace.size]
        trace.size = None if new is None else len(new)
        if old is not None:
            for c in (counts, self._total):
                c[old] -= 1
                if c[old] <= 0:
                    del c[old]
            if not counts and new is None:  # kept empty, each type a trace ever counted stayed
                del self._counts[trace.task_type]
                self._over.discard(trace.task_type)
        if new is not None:
            if new not in self._total and self._catalogue is not None:
                self._catalogue.learned(new)
            self._names.setdefault(new, names)
            counts[new] += 1
            self._total[new] += 1
            sizes[trace.size] += 1  # type: ignore[index]
        if self._catalogue is not None:
            for key in (old, new):
                if key is not None:
                    self._catalogue.counted(key, self._total.get(key, 0))
        if f is not None:
            if not trace.text:  # its request stays in A once counted: A is only ever added to
                self._add_text(f)
                trace.text = True
            self._move_text(f, old, new)
        if old is not None and old not in self._total:
            self._forget(old)
        if new is not None and len(counts) > self.config.max_structures:
            self._evict(trace.task_type)
        if new is not None and len(self._counts) > self.config.max_task_types:
            self._evict_task_types()

    def _converse(self, trace: _Trace, key: Key | None) -> None:
        """``trace``'s part in its conversation as it counts with structure ``key`` (``None``: not
        counted): the part of the count it had is taken back, the new one added, against what the
        conversation ran before it started (``observe_conversation``'s ``earlier``). Apart
        from ``trace.key``, which a dropped structure clears while the trace still ran what it ran."""
        used = None if key is None else _capabilities(key)
        if used == trace.ran:
            return
        ran = trace.conversation_ran
        if ran is not None and self._conversations.get(trace.conversation) is not ran:  # type: ignore[arg-type]
            ran = trace.conversation_ran = None  # forgotten since the trace started
        before = trace.ran_before
        if trace.ran is not None:
            assert before is not None
            self._again -= len(before.intersection(trace.ran))
            self._earlier -= len(before)
            if ran is not None:
                ran.subtract(trace.ran)
                for c in trace.ran:
                    if ran[c] <= 0:
                        del ran[c]
        if used is not None:
            if before is None:  # restored from a state saved before it was kept from the start
                before = trace.ran_before = frozenset(ran or ())
            self._again += len(before.intersection(used))
            self._earlier += len(before)
            if ran is not None:
                ran.update(used)
        trace.ran = used

    def _seen_conversation(self, conversation: str) -> Counter[str]:
        """What ``conversation`` ran, its traces that wait to be counted counted, now its latest:
        where a trace of it starts, an order the attempts' order fixes, not when the counts are
        read."""
        ran = self._conversations.get(conversation)
        if ran is None:
            ran = self._conversations[conversation] = Counter()
        elif any(t.conversation_ran is ran for t in self._uncounted):
            self._count()  # as a read of the counts: what it ran is what they ran too, read or not
        self._conversations.move_to_end(conversation)
        while len(self._conversations) > self.config.max_conversations:
            self._conversations.popitem(last=False)
        return ran

    def _evict(self, task_type: str) -> None:
        """Drop ``task_type``'s least useful structures (fewest traces, the earliest learned among
        equals) beyond ``max_structures`` beside those an open trace is counted with (a saved
        state holds them, counted): once it closes, its structure is among the others at the next
        read of the counts (``_count``). The newest ``_probation`` of the others are never dropped:
        a new structure has one trace, the fewest, and a full type whose structures had more
        would drop each new one at once. A one-call trace that may still be recounted
        (``_calls``, ``_uncounted``) and was counted with a dropped structure is counted with none:
        its recount counts it afresh, and moves its size, which stays counted as a closed trace's."""
        if task_type not in self._counts:  # dropped, or emptied, since it went over
            self._over.discard(task_type)
            return
        counts = self._counts[task_type]
        held = {t.key for t in itertools.chain(self._open.values(), self._evicted.values()) if t.task_type == task_type}
        others = [k for k in counts if k not in held]  # in the order learned: a counter keeps it, a save too
        older = others[: len(others) - _probation(self.config.max_structures)]
        self._drop(task_type, heapq.nsmallest(len(others) - self.config.max_structures, older, key=counts.__getitem__))
        (self._over.add if len(counts) > self.config.max_structures else self._over.discard)(task_type)

    def _evict_task_types(self) -> None:
        """Drop the least useful task types (fewest traces, the earliest learned among equals)
        beyond ``max_task_types``, beside those an open trace is counted with (``_evict``'s reason:
        a saved state holds them, counted); the newest ``_probation`` of the others are never
        dropped, so that a new type, with one trace, stays long enough to recur."""
        held = {t.task_type for t in itertools.chain(self._open.values(), self._evicted.values()) if t.key is not None}
        others = len(self._counts) - len(held & self._counts.keys())
        excess = others - self.config.max_task_types
        if excess <= 0:
            return

        def older() -> Iterator[str]:  # in the order learned, as a save keeps them
            kept = (t for t in self._counts if t not in held)
            return itertools.islice(kept, others - _probation(self.config.max_task_types))

        def traces(task_type: str) -> int:
            return sum(self._counts[task_type].values())

        # a type has a trace at least: the earliest types with one come first, found without
        # summing every type's counts (a type per request: each new one drops one)
        dropped = list(itertools.islice((t for t in older() if traces(t) <= 1), excess))
        if len(dropped) < excess:
            dropped = heapq.nsmallest(excess, older(), key=traces)
        for task_type in dropped:
            self._drop(task_type, list(self._counts[task_type]))
            del self._counts[task_type]
            self._over.discard(task_type)

    def _drop(self, task_type: str, dropped: list[Key]) -> None:
        """Drop the structures ``dropped`` from ``task_type``'s counts (``_evict``)."""
        counts = self._counts[task_type]
        for trace in itertools.chain(self._calls.values(), self._uncounted) if dropped else ():
            if trace.task_type == task_type and trace.key in dropped:
                trace.key = None  # its size stays counted, as a closed trace's does, until its recount
        for key in dropped:
            self._total[key] -= counts.pop(key)
            if self._total[key] <= 0:
                del self._total[key]
                self._forget(key)
            elif self._catalogue is not None:
                self._catalogue.counted(key, self._total[key])

    def _forget(self, key: Key) -> None:
        """A structure no trace has any more (a prefix of a trace that grew): its sums are zero."""
        self._names.pop(key, None)
        slot = self._slots.pop(key, None)
        if slot is not None:
            self._S[slot] = 0.0  # type: ignore[index]
            self._free.append(slot)
        if self._catalogue is not None:
            self._catalogue.forgotten(key)

    # --- reading -------------------------------------------------------------------------------
    @_locked
    def traces(self, task_type: str | None = None) -> int:
        """How many traces were learned (of ``task_type``, or of every type)."""
        if task_type is not None:
            _check_name("task_type", task_type)
        self._count()
        counts = self._total if task_type is None else self._counts.get(task_type, Counter())
        return int(sum(counts.values()))

    @property
    @_locked
    def task_types(self) -> list[str]:
        """The task types with traces."""
        self._count()
        return [t for t, c in self._counts.items() if c]

    def _steps(self, key: Key) -> tuple[TraceStep, ...]:
        if key == _DEFAULT_KEY and key not in self._names:
            return (TraceStep(DEFAULT_STEP, None, ()),)
        names = self._names.get(key)
        if names is None:  # a single capability no trace ran: the step is named after it
            names = tuple(str(c) for c, _ in key)
        return tuple(
            TraceStep(names[i], c, tuple(names[p] for p in parents)) for i, (c, parents) in enumerate(key)
        )

    def _candidates(self, capabilities: Iterable[str], include_default: bool) -> _Candidates:
        available = sorted(set(capabilities))
        if self._catalogue is None or self._catalogue.stale():
            self._catalogue = _Catalogue(sorted(self._total, key=_order), self._total, self._slots)
        cat = self._catalogue
        ids = {c: i for i, c in enumerate(available)}
        cols = np.array([ids.get(c, -1) for c in cat.capabilities], dtype=np.intp)[cat.cols]
        # a structure seen is a candidate when every capability of it is available
        ok = (np.bincount(cat.rows, weights=cols < 0, minlength=len(cat.keys)) == 0) & cat.alive
        if not include_default and cat.default >= 0:
            ok[cat.default] = False
        at = np.flatnonzero(ok)
        keys = [cat.keys[i] for i in at]
        take = ok[cat.rows]
        seq = np.where(ok, np.cumsum(ok) - 1, -1)  # catalogue -> place in keys
        rows, cols = [seq[cat.rows[take]]], [cols[take]]
        # the structures learned since the catalogue was made, then those no trace had: single
        # capabilities, their sets, and the default
        recent = sorted(
            ((where, order, k) for k, (where, order) in cat.recent.items()
             if all(c is None or c in ids for c, _ in k) and (include_default or k != _DEFAULT_KEY)),
            key=lambda item: item[1],
        )
        fresh = [((c, ()),) for c in available]
        if self.config.compose > 1 and len(available) <= self.config.compose_limit:
            for size in range(2, min(self.config.compose, len(available)) + 1):
                fresh += [tuple((c, ()) for c in group) for group in itertools.combinations(available, size)]
        # every capability of these is available: one is a candidate already when a trace had it
        fresh = [k for k in fresh if k not in self._total]
        if include_default and _DEFAULT_KEY not in self._total:
            fresh.append(_DEFAULT_KEY)
        recent_keys = [k for _, _, k in recent]
        for k in recent_keys + fresh:
            members = [ids[c] for c in _capabilities(k)]
            rows.append(np.full(len(members), len(keys), dtype=np.intp))
            cols.append(np.array(members, dtype=np.intp))
            keys.append(k)
        # how many steps serve each capability: a fresh structure runs each of its own once
        uses = [n for k in recent_keys for n in _uses(k, _capabilities(k))]
        uses += [1] * sum(len(c) for c in cols[1 + len(recent_keys):])
        # in _order: a recent structure goes before the catalogue's structure it was placed before
        # (sorted among those placed there), the others after every structure seen
        where = np.concatenate([2 * at + 1, [2 * w for w, _, _ in recent], np.full(len(fresh), 2 * len(cat.keys) + 2)])
        perm = np.argsort(where, kind="stable")
        final = np.empty(len(keys), dtype=np.intp)
        final[perm] = np.arange(len(keys))
        extra = keys[len(at):]
        keys = [keys[i] for i in perm]
        total = np.concatenate([cat.total[at], [self._total.get(k, 0) for k in extra]])[perm]
        sizes = np.concatenate([cat.sizes[at], [len(k) for k in extra]]).astype(np.intp)[perm]
        slots = np.concatenate([cat.slots[at], [self._slots.get(k, -1) for k in extra]]).astype(np.intp)[perm]
        recent_place = {k: final[len(at) + j] for j, (_, _, k) in enumerate(recent)}

        def place(key: Key) -> int:
            i = cat.place.get(key, -1)
            if i >= 0:
                return int(final[seq[i]]) if ok[i] else -1
            return int(recent_place.get(key, -1))

        default = place(_DEFAULT_KEY)
        if default < 0 and keys and keys[-1] == _DEFAULT_KEY:
            default = len(keys) - 1
        return _Candidates(keys, available, final[np.concatenate(rows)], np.concatenate(cols),
                           np.concatenate([cat.uses[take], np.array(uses, dtype=float)]), slots, total, sizes, place, default)

    def _size_log_prior(self, sizes: np.ndarray, complexity: str | None) -> np.ndarray:
        level = _level(complexity)
        prior = _SIZE_PRIOR[level][np.minimum(sizes, len(_SIZE_PRIOR[level])) - 1]
        seen = self._sizes.get(level, Counter())
        n = sum(seen.values())
        a = self.config.size_prior
        observed = np.zeros(int(sizes.max(initial=0)) + 1)
        for k, count in seen.items():
            if k < len(observed):
                observed[k] = count
        observed = observed[sizes]
        return np.log((observed + a * prior) / (n + a))

    def _novelty(self, f: np.ndarray | None) -> float:
        """``ridge * f^T A^-1 f`` in (0, 1]: the text model's predictive variance for request
        features ``f`` relative to its prior's; 1 without a request or before any trace with one,
        about ``ridge / (ridge + n)`` after ``n`` traces with the same request."""
        P = self._precision_inverse() if f is not None else None
        if P is None or len(P) != len(f):  # type: ignore[arg-type]
            return 1.0
        return min(1.0, max(0.0, self.config.ridge * float(f @ P @ f)))  # type: ignore[operator]

    def _text_scores(
        self, cands: _Candidates, f: np.ndarray, descriptions: Mapping[str, str], request: str | None = None
    ) -> np.ndarray:
        """The text terms of every candidate: one array operation per term over the candidates
        (``_Candidates``), thousands of structures seen cost milliseconds, not a Python loop each.
        With ``drop_quoted`` the description term reads ``request`` less its quoted spans (the
        whole request where nothing else is left)."""
        cfg = self.config
        keys = cands.keys
        out = np.zeros(len(keys))
        P = self._precision_inverse()
        if P is not None and len(f) == len(P):
            w = P @ f
            if cfg.structure_weight and self._S is not None:
                # a loop per row of numpy's own, not BLAS: a threaded gemv waits for idle threads
                by_slot = np.einsum("ij,j->i", self._S, w)
                out += cfg.structure_weight * np.where(cands.slots >= 0, by_slot[cands.slots], 0.0)
            if cfg.capability_weight:
                logit = np.zeros(len(cands.available))
                for i in np.unique(cands.cols):
                    c = cands.available[i]
                    m = float(w @ self._by_capability[c]) if c in self._by_capability else 0.0
                    m = min(max(m, _EPS), 1.0 - _EPS)
                    logit[i] = math.log(m) - math.log(1.0 - m)
                # summed per structure in the order of its capabilities (bincount adds in order)
                out += cfg.capability_weight * cands.per_structure(logit[cands.cols])
        if cfg.description_weight:
            if cands.default >= 0:
                out[cands.default] += cfg.description_weight * cfg.default_similarity
            x = self._vector(_unquoted(request)) if cfg.drop_quoted and request else None
            x = f if x is None or len(x) != len(f) else x
            out += cfg.description_weight * self._description_similarity(cands, x[:-1], descriptions)
        return out

    def _description_similarity(self, cands: _Candidates, x: np.ndarray, descriptions: Mapping[str, str]) -> np.ndarray:
        """Per candidate, the cosine of the request ``x`` with the sum of its capabilities' unit
        vectors (``_capability_vectors``; 0 for one without any): its members' dot products with
        ``x`` over the norm of their sum, ``sqrt`` of the sum of their Gram matrix's block. Members
        are taken in the capabilities' order, so that structures of the same capabilities (a chain
        and a fan of them) score the same to the last bit, as ties."""
        used = np.unique(cands.cols)
        caps, D = self._capability_vectors([cands.available[i] for i in used], descriptions, len(x))
        n = len(cands.keys)
        if not caps:
            return np.zeros(n)
        member = np.full(len(cands.available), -1, dtype=np.intp)  # capability -> row of D
        index = {c: i for i, c in enumerate(cands.available)}
        member[[index[c] for c in caps]] = np.arange(len(caps))
        m = member[cands.cols]
        keep = m >= 0
        r, m = cands.rows[keep], m[keep]
        order = np.lexsort((m, r))  # per structure, its members in the capabilities' order
        r, m = r[order], m[order]
        size = np.bincount(r, minlength=n)
        out = np.bincount(r, weights=(D @ x)[m], minlength=n)
        if (size > 1).any():
            # every (i, j) of a structure's members, row by row: the Gram block's entries
            g = size[r]
            left = np.repeat(np.arange(len(r)), g)
            start = (np.cumsum(size) - size)[r[left]]
            right = start + np.arange(len(left)) - np.repeat(np.cumsum(g) - g, g)
            gram = (D @ D.T)[m[left], m[right]]
            norm = np.sqrt(np.maximum(np.bincount(r[left], weights=gram, minlength=n), 0.0))
            many = size > 1
            out[many] = np.divide(out[many], norm[many], out=np.zeros(int(many.sum())), where=norm[many] > 0)
        return out

    def _capability_vectors(self, caps: list[str], descriptions: Mapping[str, str], dim: int) -> tuple[list[str], np.ndarray]:
        """``(capabilities, unit vectors)`` a request is compared with, one row per capability of
        ``caps`` that has one: its description's unit vector plus ``prototype_weight`` times the mean
        of the requests its traces served (a prototype: what the capability is asked for in the
        users' own words, learned as it runs), normalised."""
        rows = np.zeros((len(caps), dim))
        has = np.zeros(len(caps), dtype=bool)
        for i, c in enumerate(caps):
            d = self._description_vector(c, descriptions.get(c) or "", dim)
            if d is not None:
                rows[i], has[i] = d, True
        weight = self.config.prototype_weight
        served = [(i, self._by_capability[c]) for i, c in enumerate(caps) if weight and c in self._by_capability]
        served = [(i, v) for i, v in served if len(v) == dim + 1 and v[-1] >= 0.5]  # a trace with text used it
        if served:
            at = [i for i, _ in served]
            sums = np.stack([v for _, v in served])
            rows[at] += sums[:, :-1] * (weight / sums[:, -1:])  # the last entry counts the traces
            has[at] = True
        norms = np.linalg.norm(rows, axis=1)
        keep = has & (norms > 0)
        return [c for c, k in zip(caps, keep) if k], rows[keep] / norms[keep, None]

    def _description_vector(self, capability: str, description: str, dim: int) -> np.ndarray | None:
        """The unit vector of a capability's name and description (``None`` for one without words or
        of another dimension), remembered apart from requests: a proposal asks for every available
        capability's."""
        text = f"{capability.replace('_', ' ')}: {description}"
        if text not in self._descriptions:
            d = self._vector(text)  # before the eviction: a featurizer it refuses changes nothing
            if len(self._descriptions) >= _MAX_DESCRIPTIONS:
                self._descriptions.pop(next(iter(self._descriptions)))
            self._descriptions[text] = None if d is None or len(d) != dim + 1 else d[:-1]
        return self._descriptions[text]

    @_locked
    def scores(
        self,
        task_type: str,
        *,
        capabilities: Mapping[str, str] | Iterable[str],
        request: str | None = None,
        complexity: str | None = None,
        rng: np.random.Generator | None = None,
        include_default: bool = True,
        earlier: Mapping[str, float] | Iterable[str] | None = None,
        conversation: str | None = None,
    ) -> tuple[list[Key], np.ndarray, np.ndarray]:
        """``(candidates, scores, map_scores)``: the candidate structures for a task of
        ``task_type`` with the available ``capabilities`` (a mapping gives each a description), and
        their scores (under a Thompson draw when ``rng`` is given) and posterior-mean scores.
        ``earlier``: the capabilities the task's conversation already ran, or a mapping of each to
        the probability that it did (``conversation_weight``); not given, those the traces of
        ``conversation`` ran (none without)."""
        return self._scores(task_type, capabilities, request, complexity, rng, include_default, earlier, conversation)[:3]

    def _scores(
        self,
        task_type: str,
        capabilities: Mapping[str, str] | Iterable[str],
        request: str | None,
        complexity: str | None,
        rng: np.random.Generator | None,
        include_default: bool,
        earlier: Mapping[str, float] | Iterable[str] | None,
        conversation: str | None = None,
    ) -> tuple[list[Key], np.ndarray, np.ndarray, _Candidates | None]:
        """``scores``, and the candidates' arrays (None where the default is the only candidate)."""
        _check_name("task_type", task_type)
        if isinstance(capabilities, Iterator):
            capabilities = list(capabilities)  # read by the check, and again below
        _check_capabilities(capabilities)
        _check_text("request", request)
        _check_complexity(complexity)
        check_flag("include_default", include_default, error=TypeError)
        ran = _ran(() if earlier is None else earlier)
        _check_conversation(conversation)
        _check_rng(rng)
        self._count()
        if earlier is None and conversation is not None:  # read after the count: its latest traces too
            ran = dict.fromkeys(self._conversations.get(conversation, ()), 1.0)
        descriptions = capabilities if isinstance(capabilities, Mapping) else {}
        counts = self._counts.get(task_type, Counter())
        f = self._vector(request)
        cands = None
        if not counts and f is None:  # nothing to predict from
            keys = [_DEFAULT_KEY] if include_default else []
        else:
            cands = self._candidates(capabilities, include_default)
            keys = cands.keys
        if not keys:
            return keys, np.zeros(0), np.zeros(0), cands
        cfg = self.config
        n_t = np.zeros(len(keys))
        if cands is None:
            shared, sizes, default = np.zeros(len(keys)), np.array([len(k) for k in keys]), 0
        else:  # read from the arrays the candidates keep: thousands of structures, no loop over them
            shared, sizes, default = cands.total.copy(), cands.sizes, cands.default
            for k, n in counts.items():  # the task type's own: a few
                at = cands.place(k)
                if at >= 0:
                    n_t[at] = n
        if default >= 0:
            shared[default] += cfg.default_weight
        shared = (shared + 1.0 / len(keys)) / (shared.sum() + 1.0)
        alpha = cfg.concentration * shared + n_t
        # the task type's and the size's log-probabilities count fully where the text model knows
        # nothing like the request (or there is none), and fade as it learns similar requests
        # (see ``prior_fade``); the text terms add to them
        fade = self._novelty(f) ** cfg.prior_fade
        type_weight, size_weight = cfg.type_weight * fade, cfg.size_weight * fade
        base = size_weight * self._size_log_prior(sizes, complexity)
        if f is not None:
            base = base + self._text_scores(cands, f, descriptions, request)  # type: ignore[arg-type]
        if ran and cfg.conversation_weight and self._earlier and cands is not None:
            again = math.log((self._again + 1) / (self._earlier + 1))
            # per step: a plan that runs an already-run capability again four times repeats it four times
            repeats = cands.per_structure(np.array([ran.get(c, 0.0) for c in cands.available])[cands.cols] * cands.uses)
            base = base + cfg.conversation_weight * again * repeats
        mean = base + type_weight * np.log(alpha / alpha.sum())
        if rng is None:
            return keys, mean, mean, cands
        draw = rng.dirichlet(alpha)
        return keys, base + type_weight * np.log(np.maximum(draw, 1e-300)), mean, cands

    @_locked
    def propose(
        self,
        task_type: str,
        *,
        capabilities: Mapping[str, str] | Iterable[str],
        request: str | None = None,
        complexity: str | None = None,
        rng: np.random.Generator | None = None,
        include_default: bool = True,
        earlier: Mapping[str, float] | Iterable[str] | None = None,
        conversation: str | None = None,
    ) -> StructureProposal | None:
        """The structure to plan a task of ``task_type`` with: the best scored candidate (see the
        module's docstring), under a Thompson draw from ``rng`` when the config samples.

        Arguments:
            capabilities: the capabilities some tool serves (a mapping: with a description of
                each, for the text terms).
            request: the task's request text; complexity: its ``TaskComplexity`` value.
            include_default: whether the one-step default is a candidate. Without it, None when
                there is no other (nothing to predict from, or no capability to build one of).
            earlier: the capabilities the task's conversation already ran, or a mapping of each to
                the probability that it did (``conversation_weight``; ``StructureProposal.ran_after``
                gives it for a conversation whose earlier tasks' runs are not known yet).
            conversation: the conversation the task is a turn of: without ``earlier``, what its
                traces ran is ``earlier`` (see the module's docstring).
        """
        _check_rng(rng)  # a seed given to a model that does not sample was dropped unchecked
        sample = rng is not None and self.config.sampling == "thompson"
        keys, score, mean, cands = self._scores(
            task_type, capabilities, request, complexity, rng if sample else None, include_default, earlier, conversation
        )
        if not keys:
            return None  # the default was left out, and there is nothing else to propose
        best = int(np.argmax(score))
        key = keys[best]
        p = np.exp(mean - mean.max())
        p /= p.sum()
        n_t = self._counts.get(task_type, Counter()).get(key, 0)
        return StructureProposal(
            self._steps(key), _source(key, n_t), float(p[best]), int(n_t), self.traces(task_type), sample,
            _marginals(cands, p),
        )

    @_locked
    def distribution(
        self,
        task_type: str,
        *,
        capabilities: Mapping[str, str] | Iterable[str] | None = None,
        request: str | None = None,
        complexity: str | None = None,
        top: int | None = 10,
    ) -> list[StructureProposal]:
        """The candidate structures for a task of ``task_type``, most probable first, each with its
        probability (``capabilities`` default: every capability a trace used)."""
        if top is not None:
            top = check_count("top", top)  # -1 cut the least probable off, as a slice does
        self._count()
        if capabilities is None:
            capabilities = sorted({c for k in self._total for c, _ in k if c is not None})
        keys, _, mean = self.scores(task_type, capabilities=capabilities, request=request, complexity=complexity)
        if not keys:
            return []
        p = np.exp(mean - mean.max())
        p /= p.sum()
        counts = self._counts.get(task_type, Counter())
        n = self.traces(task_type)
        order = np.argsort(-p, kind="stable")[: top if top is not None else len(keys)]
        return [
            StructureProposal(
                self._steps(keys[i]),
                _source(keys[i], counts.get(keys[i], 0)),
                float(p[i]),
                int(counts.get(keys[i], 0)),
                n,
            )
            for i in order
        ]

    @_locked
    def summary(self, task_type: str) -> dict[str, Any]:
        """What the task type's traces did: per capability and per dependency (``"a -> b"``, by
        capability; a step any tool may serve under ``DEFAULT_STEP``), in how many traces it
        occurred, and the posterior mean and standard deviation of that share (Beta(1, 1) prior)."""
        _check_name("task_type", task_type)
        self._count()
        counts = self._counts.get(task_type, Counter())
        n = int(sum(counts.values()))
        caps: Counter[str] = Counter()
        edges: Counter[str] = Counter()
        for key, k in counts.items():
            # str(None) named the step any tool may serve "None", counted as one with a capability "None"
            names = [DEFAULT_STEP if c is None else c for c, _ in key]
            caps.update({c: k for c in dict.fromkeys(names)})
            edges.update({f"{names[p]} -> {names[i]}": k for i, (_, parents) in enumerate(key) for p in set(parents)})

        def share(k: int) -> dict[str, float]:
            a, b = 1 + k, 1 + n - k
            return {"traces": k, "mean": a / (a + b), "sd": math.sqrt(a * b / ((a + b) ** 2 * (a + b + 1)))}

        return {
            "traces": n,
            "capabilities": {c: share(k) for c, k in caps.most_common()},
            "dependencies": {e: share(k) for e, k in edges.most_common()},
        }

    # --- persistence ---------------------------------------------------------------------------
    @_locked
    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """The learned state as JSON-able data and arrays (``load_state`` reads them back)."""
        self._count()
        keys = list(self._names)
        index = {k: i for i, k in enumerate(keys)}
        config: dict[str, Any] = {
            "structures": [
                {"names": list(self._names[k]), "capabilities": [c for c, _ in k], "parents": [list(p) for _, p in k]}
                for k in keys
            ],
            "counts": {t: [[index[k], n] for k, n in c.items()] for t, c in self._counts.items() if c},
            "sizes": [[level, size, n] for level, c in self._sizes.items() for size, n in c.items() if n],
            "open": [_saved_trace(tid, t, self._conversations) for tid, t in self._open.items()],
            "evicted": [_saved_trace(tid, t, self._conversations) for tid, t in self._evicted.items()],
            "text_traces": self._text_traces,
            "text_structures": [index[k] for k in self._slots if k in index],
            "text_capabilities": list(self._by_capability),
            "ridge": self.config.ridge,
            "conversation": [self._again, self._earlier],
            # the oldest first, each one's capabilities in order: equal models save equal states
            "conversations": [[cid, [[c, n] for c, n in sorted(ran.items())]] for cid, ran in self._conversations.items()],
        }
        arrays: dict[str, np.ndarray] = {}
        if self._A is not None:
            arrays["A"] = self._fold().copy()  # type: ignore[union-attr]
            rows = [slot for k, slot in self._slots.items() if k in index]
            arrays["by_structure"] = self._S[rows] if rows else np.zeros((0, len(self._A)))  # type: ignore[index]
            arrays["by_capability"] = np.array(list(self._by_capability.values())).reshape(len(self._by_capability), len(self._A))
        return config, arrays

    @_locked
    def load_state(self, state: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
        """Restore what ``state`` returned. A state that is malformed or contradicts itself raises
        ``CorruptStateError`` naming the key; nothing changes then."""
        saved = read_model(_SavedStructures, state, "state")
        fresh = StructureModel(self._featurizer, self.config)
        keys: list[Key] = []
        saved_keys: set[Key] = set()
        for i, s in enumerate(saved.structures):
            where = f"state.structures[{i}]"
            n = len(s.names)
            if not n or len(s.capabilities) != n or len(s.parents) != n or len(set(s.names)) != n:
                raise CorruptStateError(f"{where}: names, capabilities and parents must be as long as each other, names unique")
            for j, parents in enumerate(s.parents):
                if any(p >= n or p == j for p in parents) or len(set(parents)) != len(parents):
                    raise CorruptStateError(f"{where}.parents[{j}]: {parents!r} must name other steps, each once")
            key: Key = tuple((c, tuple(sorted(p))) for c, p in zip(s.capabilities, s.parents))
            steps = [TraceStep(s.names[j], c, tuple(s.names[p] for p in ps)) for j, (c, ps) in enumerate(key)]
            cycle = _cycle(steps)
            if cycle is not None:
                raise CorruptStateError(f"{where}: the dependencies form a cycle {_arrows(cycle)}")
            if key in saved_keys:
                raise CorruptStateError(f"{where}: the same structure appears twice")
            saved_keys.add(key)
            names = tuple(s.names)
            if ANY_CAPABILITY in s.capabilities:
                # saved before "*" was any tool's: the structure as a trace of it is keyed now
                # (its steps' order may change), counted with any structure it now equals
                key, names = _canonical(steps)
            fresh._names.setdefault(key, names)
            keys.append(key)
        for task_type, entries in saved.counts.items():
            counter: Counter[Key] = Counter()
            named: set[int] = set()
            for i, n in entries:
                if i >= len(keys) or n < 1 or i in named:
                    raise CorruptStateError(f"state.counts[{task_type!r}]: entry [{i}, {n}] names no structure or counts none")
                named.add(i)
                counter[keys[i]] += n
            if counter:  # no traces: no type (a live model keeps none)
                fresh._counts[task_type] = counter
                fresh._total.update(counter)
        unused = [i for i, k in enumerate(keys) if k not in fresh._total]
        if unused:
            raise CorruptStateError(f"state.structures: structures {unused} are in no task type's counts")
        for level, size, n in saved.sizes:
            if level > TaskComplexity.EXPERT.level or size < 1 or n < 1 or size in fresh._sizes.get(level, {}):
                raise CorruptStateError(f"state.sizes: entry [{level}, {size}, {n}] is not a (level, size, traces) count")
            fresh._sizes.setdefault(level, Counter())[size] = n
        if saved.conversation[0] > saved.conversation[1]:
            raise CorruptStateError(f"state.conversation: {list(saved.conversation)!r}: more capabilities run again than run before")
        fresh._again, fresh._earlier = saved.conversation
        for i, (cid, ran) in enumerate(saved.conversations):
            names = [c for c, _ in ran]
            if cid in fresh._conversations or len(set(names)) != len(names) or any(n < 1 for _, n in ran):
                raise CorruptStateError(
                    f"state.conversations[{i}]: conversation {cid!r} repeats, or a capability of it repeats or counts no trace"
                )
            fresh._conversations[cid] = Counter(dict(ran))
        while len(fresh._conversations) > self.config.max_conversations:  # saved with a larger limit: the latest stay
            fresh._conversations.popitem(last=False)
        for part, i, t in [("evicted", i, t) for i, t in enumerate(saved.evicted)] + [("open", i, t) for i, t in enumerate(saved.open)]:
            trace = _Trace(t.task_type, t.complexity, t.request)
            for step, capability, parents in t.steps:
                if step in trace.steps or any(p not in trace.steps for p in parents) or len(set(parents)) != len(parents):
                    raise CorruptStateError(f"state.{part}[{i}].steps: step {step!r} repeats or consumes a step not before it")
                trace.steps[step] = TraceStep(step, capability, tuple(parents))
            trace.failed = set(t.failed)
            if not trace.failed <= trace.steps.keys() or len(trace.failed) != len(t.failed):
                raise CorruptStateError(f"state.{part}[{i}].failed: {t.failed!r} must name steps of the trace, each once")
            trace.key = _key(list(trace.steps.values())) if trace.steps and trace.ended_well() else None
            trace.size = None if trace.key is None else len(trace.key)
            # a counted trace of a conversation was weighed against what the conversation ran before it
            if (t.conversation is None and t.ran_before is not None) or (
                t.conversation is not None and trace.key is not None and t.ran_before is None
            ):
                raise CorruptStateError(
                    f"state.{part}[{i}].ran_before: {t.ran_before!r} must be what its conversation ran before a counted trace"
                )
            if t.forgotten and t.conversation is None:
                raise CorruptStateError(f"state.{part}[{i}].forgotten: a trace of no conversation forgot none")
            trace.conversation = t.conversation
            if t.conversation is not None and not t.forgotten:
                trace.conversation_ran = fresh._conversations.get(t.conversation)
            if t.ran_before is not None:
                trace.ran_before = frozenset(t.ran_before)
            if t.conversation is not None and trace.key is not None:
                trace.ran = _capabilities(trace.key)
            # a counted trace's request is in A, and stays there when a failed step uncounts it
            trace.text = t.text if t.text is not None else trace.key is not None
            counted = trace.key is None or fresh._counts.get(t.task_type, Counter()).get(trace.key, 0) >= 1
            if not trace.steps or not counted or t.trace_id in fresh._open or t.trace_id in fresh._evicted:
                raise CorruptStateError(f"state.{part}[{i}]: trace {t.trace_id!r} has no counted structure of its task type, or repeats")
            if t.trace_id.startswith(CALL_TRACE_PREFIX):
                raise CorruptStateError(f"state.{part}[{i}].trace_id: a one-call trace {t.trace_id!r} is never kept open")
            (fresh._open if part == "open" else fresh._evicted)[t.trace_id] = trace
        fresh._trim()  # saved with a larger limit: the latest stay open
        fresh._text_traces = saved.text_traces
        if "A" in arrays:
            a = arrays["A"]
            dim = a.shape[0] if isinstance(a, np.ndarray) and a.ndim == 2 else -1
            if not 2 <= dim <= MAX_SAVED_DIM + 1:
                raise CorruptStateError(f"arrays.A: expected a square matrix, got shape {getattr(a, 'shape', None)}")
            A = checked_array(arrays, "A", (dim, dim))
            if not np.allclose(A, A.T, rtol=0, atol=1e-9) or saved.text_traces < 1:
                raise CorruptStateError("arrays.A: not a symmetric matrix of at least one trace")
            try:
                chol = np.linalg.cholesky(A)
            except np.linalg.LinAlgError:
                raise CorruptStateError("arrays.A: not positive definite") from None
            ridge = self.config.ridge if saved.ridge is None else saved.ridge
            try:
                if float(np.diag(chol).min()) < math.sqrt(ridge) * 0.5:
                    raise np.linalg.LinAlgError
                if ridge != self.config.ridge:  # loaded with another ridge: the traces' part of A is kept
                    A = A + (self.config.ridge - ridge) * np.eye(dim)
                    chol = np.linalg.cholesky(A)  # positive definite unless A was below its ridge
            except np.linalg.LinAlgError:
                raise CorruptStateError(f"arrays.A: smaller than its ridge {ridge!r} allows") from None
            probe = fresh._vector("a request")
            if probe is not None and len(probe) != dim:
                raise ValueError(
                    f"featurizer: its vectors have {len(probe) - 1} values, the saved text model holds {dim - 1}"
                )
            fresh._A = A
            inverse = np.linalg.inv(chol)
            fresh._P = inverse.T @ inverse
            by_s = checked_array(arrays, "by_structure", (len(saved.text_structures), dim))
            by_c = checked_array(arrays, "by_capability", (len(saved.text_capabilities), dim))
            if len(set(saved.text_structures)) != len(saved.text_structures):
                raise CorruptStateError("state.text_structures: a structure repeats")
            for j, i in enumerate(saved.text_structures):
                if i >= len(keys):
                    raise CorruptStateError(f"state.text_structures[{j}]: {i} names no structure")
                slot = fresh._slot(keys[i], dim)
                fresh._S[slot] += by_s[j]  # type: ignore[index]
            if len(set(saved.text_capabilities)) != len(saved.text_capabilities):
                raise CorruptStateError("state.text_capabilities: a capability repeats")
            # a "*" step's sums were a capability's; a step any tool serves has none
            fresh._by_capability = {c: by_c[j] for j, c in enumerate(saved.text_capabilities) if c != ANY_CAPABILITY}
        elif saved.text_traces or saved.text_structures or saved.text_capabilities or {"by_structure", "by_capability"} & set(arrays):
            raise CorruptStateError("arrays.A: missing, but the state has text")
        for task_type in list(fresh._counts):  # saved with a larger limit: the most useful stay
            if len(fresh._counts[task_type]) > self.config.max_structures:
                fresh._evict(task_type)
        if len(fresh._counts) > self.config.max_task_types:
            fresh._evict_task_types()
        self.__dict__.update({k: v for k, v in fresh.__dict__.items() if k not in ("config", "_featurizer", "_lock")})

    def __repr__(self) -> str:
        return f"StructureModel(task_types={len(self.task_types)}, traces={self.traces()}, structures={len(self._names)})"


def _saved_name(value: str) -> str:
    try:
        _check_name("name", value)
    except TypeError as exc:  # pydantic reports a ValueError at the name's place in the state
        raise ValueError(str(exc)) from None
    return value


#: A saved name (task type, step, capability): what ``TraceStep`` and ``observe`` take.
_Name = Annotated[StrictStr, Field(min_length=1), AfterValidator(_saved_name)]


def _saved_complexity(value: str) -> str:
    _check_complexity(value)
    return value


class _SavedStructure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: list[_Name]
    capabilities: list[_Name | None]
    parents: list[list[Count]]


class _SavedTrace(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trace_id: _Name
    task_type: _Name
    # one observe takes: an unknown one was read as MODERATE, and the trace's count of its size,
    # saved under its own level, was moved from the wrong one when the trace got a step
    complexity: Annotated[StrictStr, AfterValidator(_saved_complexity)] | None
    request: StrictStr | None
    steps: list[tuple[_Name, _Name | None, list[_Name]]]
    failed: list[_Name] = []  # steps without a successful attempt (states saved before: none)
    text: StrictBool | None = None  # whether its request is in A (states saved before: if counted)
    # the conversation its task is a turn of, and what that had run before it started (before it
    # counted first in states saved before)
    # (states saved before conversations were followed: none)
    conversation: _Name | None = None
    ran_before: list[_Name] | None = None
    # its conversation was forgotten since it started, and its id is another one's now (states
    # saved before: its conversation is the one of that id)
    forgotten: StrictBool = False


class _SavedStructures(BaseModel):
    """``StructureModel.state``, checked field by field."""

    model_config = ConfigDict(extra="forbid")

    structures: list[_SavedStructure] = []
    counts: dict[_Name, list[tuple[Count, Count]]] = {}
    sizes: list[tuple[Count, Count, Count]] = []
    open: list[_SavedTrace] = []
    evicted: list[_SavedTrace] = []  # pushed out of the open ones, still closable (states saved before: none)
    text_traces: Count = 0
    text_structures: list[Count] = []
    text_capabilities: list[_Name] = []
    # the ridge the text model was built with (saved before it was: the loading model's)
    ridge: Annotated[float, Field(strict=True, gt=0.0, allow_inf_nan=False)] | None = None
    # capabilities run again, of those conversations had run before a task (saved before: none)
    conversation: tuple[Count, Count] = (0, 0)
    # per conversation followed, the oldest first, its capabilities and the counted traces that ran
    # each (saved before the model followed conversations: none)
    conversations: list[tuple[_Name, list[tuple[_Name, Count]]]] = []
