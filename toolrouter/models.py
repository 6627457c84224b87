"""The validated data the router takes in and gives back.

Everything a user passes in is a pydantic v2 model: a mistake raises ``pydantic.ValidationError`` (a
``ValueError``) naming the field and the value, before any state changes. Hot paths work on plain
floats and arrays extracted from these models, never on the models themselves.
"""

from __future__ import annotations

import math
import numbers
from datetime import datetime, timezone
from enum import Enum
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from toolrouter._checks import NumbersOnly, json_round_trip, no_bools, real_array
from toolrouter.policies.base import MAX_ABS_REWARD
from toolrouter.serialization import short_repr

__all__ = [
    "ToolType",
    "TaskComplexity",
    "UtilityWeights",
    "ToolProfile",
    "TaskStep",
    "TaskProfile",
    "ExecutionResult",
    "LearningResult",
    "MAX_ERROR_CHARS",
    "MAX_CONVERSATION_ID_CHARS",
    "CANCELLED_BY_CALLER",
    "cancelled_by_caller",
    "checked_weights",
    "storable_text",
    "kept_text",
    "truncate_error",
    "utc_time",
]

#: Most characters of a failed call's error message that are kept (``ExecutionResult.error`` and
#: every stored attempt): a tool that raises with a huge message must not bloat the store.
MAX_ERROR_CHARS = 4096

#: Most characters of a conversation's id (``TaskProfile.conversation_id``): every attempt of its
#: tasks' traces keeps it, so a longer one is refused rather than cut (two ids cut alike would be
#: one conversation).
MAX_CONVERSATION_ID_CHARS = 200

#: The error of an attempt whose caller cancelled it while the tool ran (the routed call's asyncio
#: task cancelled, a plan run cancelled, an MCP client that cancelled its request or went away).
#: Such an attempt is recorded like any other, but it is the caller's choice, not an outcome of the
#: tool: the router does not learn from it (no policy update, no count, no drift evidence).
CANCELLED_BY_CALLER = "CancelledError: run cancelled"


def cancelled_by_caller(success: bool, error: str | None) -> bool:
    """Whether an attempt (an ``ExecutionResult`` or a stored one) is one its caller cancelled."""
    return not success and error == CANCELLED_BY_CALLER


class ToolType(str, Enum):
    """Broad family of a tool; also the default capability of a tool that names none."""

    SEARCH = "search"
    RETRIEVAL = "retrieval"
    ANALYSIS = "analysis"
    CODE = "code"
    LLM = "llm"
    DATA = "data"
    COMPUTATION = "computation"
    COMMUNICATION = "communication"
    API = "api"
    OTHER = "other"


class TaskComplexity(str, Enum):
    """How demanding a task is, as the caller judges it.

    For a task without declared steps it sets the expected number of steps of the structure the
    router proposes (``toolrouter.structure``: about ``1 + level`` steps before any trace of that
    complexity, then the sizes the traces of each complexity had); tool choice, budgets and context
    features ignore it. ``level`` gives it as a number, 0 (SIMPLE) to 3 (EXPERT).
    """

    SIMPLE = "simple"
    MODERATE = "moderate"
    COMPLEX = "complex"
    EXPERT = "expert"

    @property
    def level(self) -> int:
        """0 for SIMPLE up to 3 for EXPERT."""
        return list(TaskComplexity).index(self)


def _finite(name: str, value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _identifier(name: str, value: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if not stripped.isascii() and storable_text(stripped) != stripped:
        raise ValueError(f"{name} must be text a store can keep (no lone surrogate), got {value!r}")
    if "\x00" in stripped:  # PostgreSQL's text cannot hold it: its routers would learn another name
        raise ValueError(f"{name} must be text a store can keep (no NUL character), got {value!r}")
    return stripped


def storable_text(text: str) -> str:
    """``text`` with each lone surrogate (a ``str`` can hold one, no encoding can: a store would
    fail to write it) replaced by U+FFFD; other text is returned as it is.

    Example:
        >>> storable_text("bad \\ud800 byte") == "bad \\ufffd byte", storable_text("fine")
        (True, 'fine')
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if "\ud800" <= ch <= "\udfff" else ch for ch in text)
    return text


def kept_text(text: str) -> str:
    """A free text (an attempt's error message, a trace's request) as every store keeps it:
    ``storable_text``, and each NUL as U+FFFD, as PostgreSQL keeps it (its text cannot hold one;
    SQLite and memory kept the NUL, so a router replaying one store's log read another text than
    its writer had learned from).

    Example:
        >>> kept_text("a\\x00b") == "a\\ufffdb"
        True
    """
    text = storable_text(text)
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _check_identifier(value: str, info: ValidationInfo) -> str:
    return _identifier(info.field_name or "value", value)


def check_conversation_id(value: Any) -> str | None:
    """``value`` as ``TaskProfile.conversation_id`` keeps it (an identifier, stripped, of at most
    ``MAX_CONVERSATION_ID_CHARS`` characters, or ``None``), else a ``TypeError`` or ``ValueError``
    naming ``conversation_id`` and the value."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"conversation_id: expected a string or None, got {short_repr(value)}")
    try:
        stripped = _identifier("conversation_id", value)
    except ValueError:
        stripped = ""
    if not stripped or len(stripped) > MAX_CONVERSATION_ID_CHARS:
        raise ValueError(
            f"conversation_id: expected a non-empty name of at most {MAX_CONVERSATION_ID_CHARS} characters a store "
            f"can keep (no NUL, no lone surrogate), got {short_repr(value)}"
        )
    return stripped


#: A name (tool id, step id, capability...): a non-empty string, stripped. Strict, so that a number
#: or ``None`` in a list of names fails validation with its field and value instead of being
#: coerced or failing deeper down; a ``str`` enum such as ``ToolType.SEARCH`` is accepted.
Identifier = Annotated[str, Strict(), AfterValidator(_check_identifier)]


def _one_or_many(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


def _sorted_if_set(value: Any) -> Any:
    # a set's order changes with the process's hash seed: equal profiles made in two processes
    # would differ, and so would a saved one from the one given again
    return sorted(value, key=str) if isinstance(value, (set, frozenset)) else value


def _not_a_set(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, (set, frozenset)):
        raise ValueError(f"{info.field_name}: expected a list, in order (a set has none), got {value!r}")
    return value


def _numbers_in_order(value: Any, info: ValidationInfo) -> Any:
    """A list in order (``_not_a_set``) of real numbers as the router takes them, none a bool
    (``no_bools``) nor a number string (``real_array``): pydantic read ``True`` and ``"1"`` as 1.0."""
    value = no_bools(info.field_name, _not_a_set(value, info))
    if value is not None:
        real_array(info.field_name, value)
    return value


def _unique(values: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    if len(set(values)) != len(values):
        raise ValueError(f"{info.field_name} must not repeat, got {list(values)!r}")
    return values


#: A list of names; a bare string is a list of one.
Names = Annotated[tuple[Identifier, ...], BeforeValidator(_one_or_many)]
#: A list of names, none repeated, whose order means nothing (a set is taken, sorted).
UniqueNames = Annotated[Names, BeforeValidator(_sorted_if_set), AfterValidator(_unique)]
#: A list of names in order (a set is refused).
OrderedNames = Annotated[Names, BeforeValidator(_not_a_set)]


def truncate_error(text: str | None) -> str | None:
    """``text`` as an error message is kept: cut to at most ``MAX_ERROR_CHARS`` characters (the
    start is kept and the cut is marked with the original length, e.g. ``"... [truncated: 10485760
    chars]"``) and ``storable_text`` (a tool's message may hold anything). Shorter, storable text
    (and ``None``) is returned unchanged, so doing it twice changes nothing.

    Example:
        >>> cut = truncate_error("x" * 5000)
        >>> len(cut), cut[-30:]
        (4096, 'xxx... [truncated: 5000 chars]')
    """
    if text is None:
        return text
    text = storable_text(text)
    if len(text) <= MAX_ERROR_CHARS:
        return text
    marker = f"... [truncated: {len(text)} chars]"
    return text[: MAX_ERROR_CHARS - len(marker)] + marker


def utc_time(stamp: datetime) -> datetime:
    """``stamp`` in UTC, a naive one taken as UTC (PostgreSQL took it for the session's local time,
    SQLite gave it back naive); one within a day of datetime's range, which has no UTC time,
    raises ``ValueError``."""
    if stamp.tzinfo is timezone.utc:
        return stamp
    try:
        return stamp.replace(tzinfo=timezone.utc) if stamp.tzinfo is None else stamp.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError(f"timestamp: {stamp.isoformat()} is out of datetime's range in UTC") from None


def _no_unix_time(value: Any) -> Any:
    """A timestamp as given, unless it is a number or text that is one: pydantic read those as a
    Unix time, in seconds or in milliseconds as the size decided (``"0"``, a placeholder, became
    1970), where a datetime or ISO 8601 text says which time it means."""
    if isinstance(value, (str, bytes, bytearray)):
        try:
            float(value)
        except ValueError:
            return value  # ISO 8601 text, which pydantic reads (or refuses, naming the field)
    elif isinstance(value, bool) or not isinstance(value, numbers.Number):
        return value
    raise ValueError(
        f"timestamp: expected a datetime or ISO 8601 text (2026-01-31T12:00:00Z), got {short_repr(value)}; "
        "a Unix time is datetime.fromtimestamp(t, timezone.utc)"
    )


def _hash_but_dicts(model: BaseModel) -> int:
    """The hash of a frozen model with a dict field (``metadata``, ``utilities``): pydantic's own
    hash of every field fails on it (``unhashable type: 'dict'``), so the other fields are hashed;
    models that are equal have equal fields, so their hashes agree."""
    return hash(tuple(value for value in model.__dict__.values() if not isinstance(value, dict)))


M = TypeVar("M", bound=BaseModel)


def _checked_copy(model: M, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> M:
    """``model.model_copy(update=..., deep=...)`` as pydantic makes it, but for ``update``, checked
    as construction checks its fields: pydantic's copy checks none of it, and a model once built is
    trusted (the router takes an instance as it is)."""
    copy = BaseModel.model_copy(model, deep=deep)
    if not update:
        return copy
    return type(model).model_validate({**{name: getattr(copy, name) for name in copy.model_fields_set}, **update})


class UtilityWeights(NumbersOnly):
    """How an outcome is scored; the one place where utility is defined.

    ``utility = success * w_success + quality * w_quality - cost * w_cost - latency_s * w_latency``

    Defaults value a success and its quality equally and charge 0.1 utility per unit of cost and per
    second of latency. Set them per router (``ToolMetaLearner(weights=...)``) or per task
    (``TaskProfile(weights=...)``); ``model_copy(update=...)`` checks the update as construction
    does. ``success + quality`` and ``cost + latency`` are each at most
    ``MAX_ABS_REWARD`` (1e9): an outcome of at most one unit of cost and one second then scores
    within it, as a policy needs to learn from it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    success: float = Field(1.0, ge=0.0, description="Utility of a successful call.")
    quality: float = Field(1.0, ge=0.0, description="Utility per unit of quality in [0, 1].")
    cost: float = Field(0.1, ge=0.0, description="Utility lost per unit of cost.")
    latency: float = Field(0.1, ge=0.0, description="Utility lost per second of latency.")

    @field_validator("success", "quality", "cost", "latency")
    @classmethod
    def _check_finite(cls, v: float, info: Any) -> float:
        return _finite(info.field_name, v)

    @model_validator(mode="after")
    def _check_scale(self) -> "UtilityWeights":
        # beyond it every success (every slow or costly outcome) is refused when recorded: the
        # attempt loop records a tool's success as its failure
        for one, other in (("success", "quality"), ("cost", "latency")):
            a, b = getattr(self, one), getattr(self, other)
            if a + b > MAX_ABS_REWARD:
                raise ValueError(
                    f"{one}={a!r}, {other}={b!r}: expected {one} + {other} <= {MAX_ABS_REWARD:g} "
                    f"(an outcome's utility must lie within +-{MAX_ABS_REWARD:g})"
                )
        return self

    # pydantic's took model_copy(update={"cost": -1}) (an outcome scored higher the more it cost)
    model_copy = _checked_copy

    def utility(self, success: bool, quality: float, cost: float, latency_s: float) -> float:
        """Utility of one outcome."""
        return (
            self.success * float(success)
            + self.quality * quality
            - self.cost * cost
            - self.latency * latency_s
        )

    def of(self, result: "ExecutionResult") -> float:
        """Utility of an ``ExecutionResult``."""
        return self.utility(result.success, result.quality, result.cost, result.latency_s)


def checked_weights(weights: Any) -> UtilityWeights:
    """``weights`` as ``UtilityWeights`` (a mapping of its fields is taken, as routers take one),
    else an error naming ``weights``: another value failed later as an AttributeError naming none."""
    if isinstance(weights, UtilityWeights):
        return weights
    if not isinstance(weights, Mapping):
        raise TypeError(f"weights: expected UtilityWeights or a mapping of its fields, got {short_repr(weights)}")
    try:
        return UtilityWeights.model_validate(weights)
    except ValueError as exc:
        raise ValueError(f"weights: {exc}") from None


ANY_CAPABILITY = "*"
"""The capability of a step any tool may serve (``TaskStep.capability``): the router routes it
among all its tools. No tool lists it among its own capabilities."""


class ToolProfile(NumbersOnly):
    """What the router knows about a tool before it has called it.

    ``reliability`` and ``expected_latency_s`` are priors: the policies learn the real values from
    outcomes. A tool that lists no ``capabilities`` serves its ``tool_type``'s value. Every tool
    serves a step of capability ``"*"`` (``ANY_CAPABILITY``), so none may list ``"*"`` itself.
    ``model_copy(update=...)`` checks the update as construction does.

    Example:
        >>> ToolProfile(tool_id="web", tool_type=ToolType.SEARCH, cost_per_use=0.01).capabilities
        ('search',)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool_id: Identifier = Field(description="Unique name of the tool.")
    tool_type: ToolType = Field(ToolType.OTHER, description="Broad family of the tool.")
    capabilities: UniqueNames = Field(
        (), description="Capabilities (step kinds) the tool can serve; default: (tool_type.value,)."
    )
    cost_per_use: float = Field(0.0, ge=0.0, description="Cost of one call, in the user's unit.")
    reliability: float = Field(0.9, ge=0.0, le=1.0, description="Prior probability of success.")
    expected_latency_s: float = Field(1.0, ge=0.0, description="Prior latency of one call, seconds.")
    description: str = Field("", description="Free text describing what the tool does.")
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="Free-form user data: JSON values (saved with the router's state)."
    )

    __hash__ = _hash_but_dicts
    # pydantic's took model_copy(update={"reliability": 5.0}), which a router registered as it was
    model_copy = _checked_copy

    @field_validator("cost_per_use", "reliability", "expected_latency_s")
    @classmethod
    def _check_finite(cls, v: float, info: Any) -> float:
        return _finite(info.field_name, v)

    @field_validator("metadata")
    @classmethod
    def _check_saveable(cls, v: dict[str, Any]) -> dict[str, Any]:
        # the profile is saved with the router's state as JSON: refuse now what that would fail on,
        # and what it would change (NaN and inf read back as null, a set or a datetime as a list
        # or a string, a tuple as a list, an int key as a string): the loaded router would hold
        # another profile than the one given
        try:
            return json_round_trip(v)
        except ValueError as exc:
            raise ValueError(f"every value must be JSON-able (saved with the router's state): {exc}") from None

    @model_validator(mode="after")
    def _default_capability(self) -> "ToolProfile":
        if ANY_CAPABILITY in self.capabilities:
            # listed, it would read as "serves every step", yet only "*" steps would be its
            raise ValueError(
                f"capabilities: tool {self.tool_id!r} lists {ANY_CAPABILITY!r}, the capability of a step any tool "
                f"serves; list the capabilities the tool serves itself (got {list(self.capabilities)!r})"
            )
        if not self.capabilities:
            object.__setattr__(self, "capabilities", (self.tool_type.value,))
        return self

    def serves(self, capability: str | None) -> bool:
        """Whether this tool can serve ``capability`` (``None`` or ``"*"`` means any capability)."""
        return capability is None or capability == ANY_CAPABILITY or capability in self.capabilities


class TaskStep(BaseModel):
    """One step of a task's graph: a capability to serve, after the steps it depends on.

    The outputs of ``depends_on`` steps are passed to this step when the plan runs. Whole-graph checks
    (cycles, dependencies on steps that do not exist) are made by ``toolrouter.planner``.

    Example:
        >>> TaskStep(step_id="fetch", capability="retrieval", depends_on=["search"]).depends_on
        ('search',)
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    step_id: Identifier = Field(description="Unique name of the step within its task.")
    capability: Identifier = Field(
        description='The capability a tool must serve to run this step; "*" (ANY_CAPABILITY): any tool.'
    )
    depends_on: UniqueNames = Field((), description="Steps whose outputs this step needs.")

    @model_validator(mode="after")
    def _no_self_dependency(self) -> "TaskStep":
        if self.step_id in self.depends_on:
            raise ValueError(f"depends_on: step {self.step_id!r} cannot depend on itself")
        return self


class TaskProfile(NumbersOnly):
    """A task the agent wants done, and the budget it may spend on it.

    ``required_capabilities`` lists the steps in order, one capability each; an empty list means a
    single step that any tool may serve. Context is free text (``context``), a numeric vector
    (``features``), or both. ``max_cost`` and ``max_latency_s`` bound a plan: its predicted cost and
    critical-path latency. At run time nothing holds a run to ``max_latency_s`` (a run that takes
    longer goes on; ``deadline_s`` of ``execute`` cuts one), and ``max_cost`` only with the
    executor's ``enforce_budget``. ``weights`` overrides the router's utility weights for this
    task. ``steps`` gives the task's graph explicitly instead (steps with dependencies, run in
    parallel where they do not depend on each other); give either ``steps`` or
    ``required_capabilities``, not both. ``conversation_id`` names the conversation the task is a
    turn of (an agent's chat, one run of an agent; at most ``MAX_CONVERSATION_ID_CHARS``
    characters): the router learns what its conversations run again, and plans a task that
    declares no steps knowing what its conversation already ran (``toolrouter.structure``).
    ``model_copy(update=...)`` checks the update as construction does.

    Example:
        >>> task = TaskProfile(task_id="t1", task_type="research", required_capabilities=["search", "llm"])
        >>> task.required_capabilities
        ('search', 'llm')
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    task_id: Identifier = Field(description="Unique name of this task instance.")
    task_type: Identifier = Field("default", description="Family of tasks this one belongs to.")
    conversation_id: Identifier | None = Field(
        None, description="The conversation this task is a turn of; None: it is part of none."
    )
    complexity: TaskComplexity = Field(TaskComplexity.MODERATE, description="How demanding it is.")
    required_capabilities: OrderedNames = Field(
        (), description="One capability per step, in order; empty: one step, any tool."
    )
    steps: tuple[TaskStep, ...] = Field(
        (), description="The task's steps and their dependencies; empty: use required_capabilities."
    )
    context: str | None = Field(None, description="Free-text description of the request.")
    features: Annotated[tuple[float, ...] | None, BeforeValidator(_numbers_in_order)] = Field(
        None, description="Numeric context features."
    )
    max_cost: float | None = Field(None, gt=0.0, description="Budget: most cost the plan may spend.")
    max_latency_s: float | None = Field(
        None,
        gt=0.0,
        description="Budget: most seconds the plan's critical path is predicted to take "
        "(not enforced at run time: see execute's deadline_s).",
    )
    weights: UtilityWeights | None = Field(None, description="Utility weights for this task.")
    metadata: dict[str, Any] = Field(default_factory=dict, description="Free-form user data.")

    __hash__ = _hash_but_dicts

    @model_validator(mode="after")
    def _check_steps(self) -> "TaskProfile":
        if self.steps and self.required_capabilities:
            raise ValueError(
                "give either steps or required_capabilities, not both; got steps "
                f"{[s.step_id for s in self.steps]!r} and required_capabilities "
                f"{list(self.required_capabilities)!r}"
            )
        ids = [s.step_id for s in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError(f"steps: step ids must be unique, got {ids!r}")
        return self

    @field_validator("features")
    @classmethod
    def _check_features(cls, v: tuple[float, ...] | None) -> tuple[float, ...] | None:
        if v is not None:
            if len(v) == 0:
                raise ValueError("features must not be empty when given, got ()")
            for i, x in enumerate(v):
                _finite(f"features[{i}]", x)
        return v

    @field_validator("conversation_id")
    @classmethod
    def _check_conversation_id(cls, v: str | None) -> str | None:
        return check_conversation_id(v)

    @field_validator("max_cost", "max_latency_s")
    @classmethod
    def _check_finite(cls, v: float | None, info: Any) -> float | None:
        return None if v is None else _finite(info.field_name, v)

    # pydantic's took model_copy(update={"required_capabilities": "search"}): six one-letter steps
    model_copy = _checked_copy

    def _unchecked_copy(self, **update: Any) -> "TaskProfile":
        """pydantic's ``model_copy(update=...)``, for values the caller built valid: the executor
        pins a plan's steps on every run, where checking the task again would cost each run."""
        return BaseModel.model_copy(self, update=update)


class ExecutionResult(NumbersOnly):
    """The outcome of one attempt at one step with one tool.

    ``quality`` defaults to 1.0 for a success and 0.0 for a failure. Every attempt is recorded,
    failures, timeouts and cancellations included; one its caller cancelled (``error`` is
    ``CANCELLED_BY_CALLER``) is not learned from, being no outcome of the tool.

    ``error`` keeps at most ``MAX_ERROR_CHARS`` (4096) characters of the message: a longer one is
    cut, its start kept and the cut marked with the original length
    (``"... [truncated: 10485760 chars]"``, see ``truncate_error``).

    For a task without declared steps the results are a *trace* of what ran: each result's
    ``step`` names a step of the trace, ``capability`` the capability it served (default: the
    tool's only capability, or the step's name when the tool serves a capability of that name),
    and ``depends_on`` the earlier steps whose outputs it consumed (default: the step before it in
    the trace). The router learns the task type's structure from traces
    (``toolrouter.structure``). For a task with declared steps both come from the declaration; a
    result that gives them must agree with it.

    ``ToolMetaLearner.record_attempt`` (one attempt, no task) records a result at its ``step``
    when the result gives one, which must agree with the call's ``step=``; a result that leaves
    it unset takes the call's ``step=`` (default: its capability). Its ``depends_on`` needs a
    ``trace_id``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tool_id: Identifier = Field(description="The tool that was called.")
    step: Identifier = Field(
        "main", description="The plan step the call served (unset: record_attempt's step, default the capability)."
    )
    capability: Identifier | None = Field(
        None, description="The capability the call served; default: from the task's step, or the tool's."
    )
    depends_on: UniqueNames | None = Field(
        None, description="Steps whose outputs the call consumed; default: from the task, or the step before."
    )
    success: bool = Field(description="Whether the call succeeded.")
    # finiteness checked by pydantic's core (allow_inf_nan): this model is built on every attempt
    quality: float | None = Field(
        None, ge=0.0, le=1.0, allow_inf_nan=False, description="Quality of the output, [0, 1]."
    )
    cost: float = Field(0.0, ge=0.0, allow_inf_nan=False, description="What the call cost.")
    latency_s: float = Field(0.0, ge=0.0, allow_inf_nan=False, description="Wall-clock seconds the call took.")
    error: str | None = Field(
        None, description=f"Error message of a failed call, cut to at most {MAX_ERROR_CHARS} characters."
    )
    timestamp: Annotated[datetime, BeforeValidator(_no_unix_time), AfterValidator(utc_time)] = Field(
        default_factory=lambda: datetime.now(timezone.utc),
        description="When the call ended (a datetime or ISO 8601 text), in UTC: one with another offset is "
        "converted, one without is taken as UTC.",
    )

    @classmethod
    def _of_attempt(
        cls, tool_id: str, step: str, success: bool, quality: float | None, cost: float, latency_s: float,
        error: str | None,
    ) -> "ExecutionResult":
        """The result of one try, from values the attempt loop has checked (a registered tool, the
        call's step, finite non-negative numbers), built without validating them again: validation
        is a tenth of the cost of a routed call. The same object as ``cls(tool_id=..., ...)`` with
        these fields (tests/toolrouter/test_models.py compares the two); the learner checks the
        numbers of every result it records, however it was built."""
        if error is not None and (len(error) > MAX_ERROR_CHARS or not error.isascii()):
            error = truncate_error(error)
        result = object.__new__(cls)
        set_attr = object.__setattr__
        set_attr(result, "__dict__", {
            "tool_id": tool_id, "step": step, "capability": None, "depends_on": None, "success": success,
            "quality": (1.0 if success else 0.0) if quality is None else quality, "cost": float(cost),
            "latency_s": float(latency_s), "error": error, "timestamp": datetime.now(timezone.utc),
        })
        set_attr(result, "__pydantic_fields_set__", set(_ATTEMPT_FIELDS))
        set_attr(result, "__pydantic_extra__", None)
        set_attr(result, "__pydantic_private__", None)
        return result

    @model_validator(mode="after")
    def _fill_in(self) -> "ExecutionResult":
        # one validator for both (this model is built on every attempt): the default quality, and
        # the error as truncate_error keeps it
        if self.quality is None:
            object.__setattr__(self, "quality", 1.0 if self.success else 0.0)
        if self.error is not None and (len(self.error) > MAX_ERROR_CHARS or not self.error.isascii()):
            object.__setattr__(self, "error", truncate_error(self.error))
        return self


#: the fields ``ExecutionResult._of_attempt`` sets (its ``model_fields_set``); a frozenset, which
#: ``set()`` copies without hashing its names again
_ATTEMPT_FIELDS = frozenset(("tool_id", "step", "success", "quality", "cost", "latency_s", "error"))


class LearningResult(BaseModel):
    """What ``ToolMetaLearner.learn_from_execution`` did with a batch of outcomes."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    n_results: int = Field(description="How many outcomes were learned from.")
    utilities: dict[str, list[float]] = Field(description="Utility of each outcome, per tool.")
    success_rate: float = Field(description="Share of the outcomes that succeeded.")
    total_cost: float
    total_latency_s: float
    mean_utility: float
    updated_tools: tuple[str, ...] = Field(description="Tools whose statistics changed.")

    __hash__ = _hash_but_dicts
