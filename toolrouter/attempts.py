"""One attempt loop for every routed call: the middleware's and the plan executor's.

A call tries tools in ranked order. Each tool gets ``1 + retry.max_retries`` tries with exponential
backoff and seeded jitter; each try is bounded by the tool's timeout, counted from when the tool
starts (a sync tool may first wait for a free worker thread: the process's wait, not the tool's),
and by the call's deadline, which bounds that wait too; a try that never got a worker (its deadline
came first, or its caller was cancelled or interrupted) is no outcome of the tool: nothing is
recorded (``CallReport.skipped`` names the tool). A tool whose circuit breaker is open is skipped.
Whatever a tool does (returns, raises, hangs, reports NaN or a negative cost, returns a value its
step cannot use, raises an exception that cannot even be printed), each try becomes exactly one
``ExecutionResult``, handed to the caller's ``record`` the moment it ends, and a failure moves on to
the next try or the next tool. Invalid self-reported numbers are the tool's failure. A
``KeyboardInterrupt`` or ``SystemExit`` that comes while a tool runs (Ctrl-C in the calling thread,
an exit), or while its value is judged (its quality function), interrupts the caller, not the
tool: the try is recorded as cancelled by its caller
(``CANCELLED_BY_CALLER``, not learned from, as an asyncio cancellation), then raised (an async
tool's own is raised by the call awaiting it, in the caller's task: the caller may handle it, its
event loop and other calls going on). Any other
``BaseException`` the tool raises that is not an ``Exception`` (``GeneratorExit``, one of its own)
is recorded as its failure, then raised. A cancellation or interruption that reaches the caller
once its tool has ended (before the caller had its turn) cuts nothing: the try is recorded as it
ended (a deadline's judges it by when its tool ended), then the cancellation is raised. A value
that comes only after the try's timeout or its
call's deadline (from a tool that nothing could stop: an async tool that blocks the event loop
with a sync sleep or computation, an inline sync tool) is a timeout failure, as if the wait had
given up: the caller never gets a late value, and the try's latency is the measured one. A sync
tool in a worker thread is judged, and its latency measured, by its worker around the tool alone:
one that ended in time stays a success when its caller hears of it late (another task held the
event loop meanwhile). An async tool's time counts from its first step; one that ended in that
step is judged by it, and one that was waiting while another task held the loop past its limit
keeps a value it got in the loop's next turn (what cannot be told apart: ``_await_bounded``).

The loop is written once, as a generator (``attempt_loop``) that yields what it needs done (call
this tool within this many seconds; sleep this long) and gets the raw outcome back. Two small
drivers do the waiting: ``run_sync`` (sync tools in a worker thread, so a hung tool cannot hold
the caller past its timeout; a try with neither a timeout nor a deadline runs them inline) and ``run_async`` (async tools
awaited, sync ones in a thread pool). Policy lives in the loop, waiting in the drivers.

Example:
    >>> import random
    >>> def flaky():
    ...     raise ConnectionError("down")
    >>> spec = CallSpec(
    ...     step="search", candidates=["flaky", "steady"],
    ...     bind=lambda tool, attempt: Binding({"flaky": flaky, "steady": lambda: "ok"}[tool]),
    ...     record=lambda result: None, config=ExecutorConfig(retry=RetryPolicy(max_retries=0)),
    ... )
    >>> report = run_sync(attempt_loop(spec))
    >>> report.value, [(a.tool_id, a.success) for a in report.attempts]
    ('ok', [('flaky', False), ('steady', True)])
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import math
import numbers
import os
import queue
import random
import threading
import time
import types
import weakref
from collections.abc import Callable, Coroutine, Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from itertools import islice
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field

from toolrouter._checks import NumbersOnly, check_count, check_options, check_real
from toolrouter.errors import InvalidOutcomeError
from toolrouter.logging import EventLog
from toolrouter.models import CANCELLED_BY_CALLER, ExecutionResult

__all__ = [
    "Binding",
    "CallReport",
    "CallSpec",
    "CircuitBreaker",
    "CircuitBreakerConfig",
    "CircuitBreakers",
    "CircuitState",
    "ExecutorConfig",
    "RetryPolicy",
    "ThreadRunner",
    "ToolFailure",
    "ToolOutput",
    "attempt_loop",
    "check_callback",
    "checked_config",
    "describe_error",
    "is_async_callable",
    "is_generator_callable",
    "run_async",
    "run_sync",
]

log = EventLog(__name__)

try:
    _EXCEPTION_GROUPS: tuple[type[BaseException], ...] = (BaseExceptionGroup,)
except NameError:  # pragma: no cover - Python 3.10: anyio's backport, where it is installed
    try:
        from exceptiongroup import BaseExceptionGroup as _Backport

        _EXCEPTION_GROUPS = (_Backport,)
    except ImportError:
        _EXCEPTION_GROUPS = ()


# --------------------------------------------------------------------------------------------------
# What a tool may report
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ToolOutput:
    """What a tool function may return to report its own ``quality`` in [0, 1], ``cost`` or
    ``latency_s`` (``None``: use the default). The caller receives ``value``. Any real number will
    do (numpy's scalars too); one that is not finite, negative, or a quality outside [0, 1], and
    anything that is not a real number, make the attempt a failure of the tool, as does a ``value``
    that is an awaitable (a coroutine): the tool awaits it, nothing after it does."""

    value: Any
    quality: float | None = None
    cost: float | None = None
    latency_s: float | None = None


class ToolFailure(Exception):
    """Raise from a tool to fail with a known ``cost`` or ``latency_s`` (any exception is a
    failure; this one carries numbers; invalid ones are ignored in favour of the defaults)."""

    def __init__(self, message: str, *, cost: float | None = None, latency_s: float | None = None) -> None:
        super().__init__(message)
        self.cost = cost
        self.latency_s = latency_s


def is_async_callable(fn: Any) -> bool:
    """Whether calling ``fn`` gives a coroutine: an ``async def`` function, a partial of one, or an
    object whose ``__call__`` is one."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(getattr(fn, "__call__", None))


def is_generator_callable(fn: Any) -> bool:
    """Whether ``fn`` is a generator function, sync or async (a partial of one, or an object whose
    ``__call__`` is one): calling it runs none of its body, so it cannot be a tool."""
    return any(inspect.isgeneratorfunction(f) or inspect.isasyncgenfunction(f) for f in (fn, getattr(fn, "__call__", None)))


def check_callback(field: str, fn: Any) -> None:
    """Refuse a callback that is not a plain callable: one that is not callable failed only when
    first called, and an ``async def`` one was called without being awaited, so each call of it
    was lost without a word (a ``RuntimeWarning`` at most)."""
    if fn is None:
        return
    if not callable(fn):
        raise TypeError(f"{field}: expected a callable, got {fn!r:.100}")
    if is_async_callable(fn):
        raise TypeError(
            f"{field}: expected a plain function, got the async function {fn!r:.100}, which would be "
            "called without being awaited"
        )


def describe_error(exc: BaseException) -> str:
    """``"TypeName: message"`` for an exception, even one whose ``__str__`` raises. An exception
    group (a task group's failure) is described by the exceptions in it, which say what went wrong:
    the one alone, or several after the group's own message."""
    leaves = list(_leaves(exc))
    if len(leaves) == 1 and leaves[0] is not exc:
        return describe_error(leaves[0])
    name = type(exc).__name__
    try:
        text = str(exc)
    except Exception as inner:  # a tool's broken exception must not break the record of it
        text = f"<unprintable message: str() raised {type(inner).__name__}>"
    if len(leaves) > 1:
        text += ": " + "; ".join(describe_error(leaf) for leaf in leaves[:3])
        text += f"; and {len(leaves) - 3} more" if len(leaves) > 3 else ""
    return f"{name}: {text}"


def _leaves(exc: BaseException) -> Iterable[BaseException]:
    """The exceptions inside ``exc`` when it is an exception group (nested ones flattened), else ``exc``."""
    inner = getattr(exc, "exceptions", None) if isinstance(exc, _EXCEPTION_GROUPS) else None
    if not isinstance(inner, tuple) or not inner:
        yield exc
        return
    for sub in inner:
        yield from _leaves(sub)


# --------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------
class RetryPolicy(NumbersOnly):
    """Bounded retries of one tool with exponential backoff and jitter.

    The k-th retry (k = 0, 1, ...) waits ``min(max_delay_s, base_delay_s * multiplier**k)``, of
    which a share ``jitter`` is drawn uniformly at random (from a seeded generator), so that many
    clients retrying at once do not hit a tool in lockstep.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_retries: int = Field(1, ge=0, le=20, description="Retries of a tool after its first try.")
    base_delay_s: float = Field(0.05, ge=0.0, le=60.0, description="Wait before the first retry.")
    multiplier: float = Field(2.0, ge=1.0, le=10.0, description="Growth of the wait per retry.")
    max_delay_s: float = Field(2.0, ge=0.0, le=600.0, description="Longest wait between tries.")
    jitter: float = Field(0.5, ge=0.0, le=1.0, description="Share of each wait drawn at random.")

    def delay_s(self, retry_index: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry_index`` (0-based)."""
        delay = min(self.max_delay_s, self.base_delay_s * self.multiplier**retry_index)
        return delay * (1.0 - self.jitter + self.jitter * rng.random())


class CircuitBreakerConfig(NumbersOnly):
    """When a tool's circuit opens, and when it is probed again."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    failure_threshold: int = Field(3, ge=1, description="Failures in a row that open the circuit.")
    reset_timeout_s: float = Field(5.0, gt=0.0, description="Open time before a probe is let through.")
    half_open_max_calls: int = Field(1, ge=1, description="Probes at once while half-open.")


#: A timeout: positive seconds, at most a million (beyond what a thread lock can wait for).
Seconds = Annotated[float, Field(gt=0.0, le=1e6)]


class _ReadOnlyDict(dict):
    """A config's per-tool timeouts, which no one can change in place: the config is frozen and
    shared (``MIDDLEWARE_CONFIG`` by every middleware built with the defaults). Read as a dict, at
    a dict's speed; pickled and copied as one."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError(
            "tool_timeouts_s is read-only: make a config with model_copy(update={'tool_timeouts_s': ...})"
        )

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> tuple[type, tuple[dict[str, float]]]:
        return type(self), (dict(self),)


def _numbers_only(timeouts: Any) -> Any:
    """Per-tool timeouts that are numbers: ``NumbersOnly`` looks at whole fields, and pydantic read
    ``{"search": "5"}`` as 5 seconds and ``True`` as 1."""
    if isinstance(timeouts, Mapping):
        for tool_id, seconds in timeouts.items():
            if isinstance(seconds, NumbersOnly._not_numbers):
                raise ValueError(
                    f"tool_timeouts_s[{tool_id!r}]: expected a number, not a {type(seconds).__name__}, got {seconds!r}"
                )
    return timeouts


class ExecutorConfig(NumbersOnly):
    """How tools are called: by ``PlanExecutor`` for each step of a plan, and by ``ToolMiddleware``
    for each routed call (where ``max_concurrency`` and ``enforce_budget``, which concern a plan,
    do not apply)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: Seconds | None = Field(
        30.0,
        description="Seconds each try may take, from when its tool starts (the wait for a free worker "
        "thread is not counted); None: no limit (a synchronous call of the middleware then runs sync tools in "
        "the calling thread, unless the call has a deadline_s, which only a worker thread lets it keep; an "
        "async call runs them in a worker all the same).",
    )
    tool_timeouts_s: Annotated[dict[str, Seconds], BeforeValidator(_numbers_only), AfterValidator(_ReadOnlyDict)] = Field(
        default_factory=_ReadOnlyDict, description="Per-tool overrides of timeout_s (read-only)."
    )
    retry: RetryPolicy = Field(default_factory=RetryPolicy, description="Retries of one tool.")
    use_fallbacks: bool = Field(
        True,
        description="Try the next tool (a step's, a routed call's) when one fails. False: one tool is "
        "tried, not always the first: a tool skipped with no attempt (its circuit open, over budget, no "
        "function to call) leaves its place to the next.",
    )
    max_fallbacks: int | None = Field(
        None, ge=0, description="At most this many fallbacks a step or routed call (a tool skipped with no "
        "attempt takes none of these places).",
    )
    circuit_breaker: CircuitBreakerConfig | None = Field(
        default_factory=CircuitBreakerConfig, description="Per-tool breakers; None disables them."
    )
    max_concurrency: int | None = Field(None, ge=1, description="Calls in flight at once.")
    enforce_budget: bool = Field(
        False,
        description="Skip a call whose cost as the plan predicts it, added to what the run spent and "
        "the calls in flight, would take it over the plan's max_cost (or the run's own, when tighter: a task's).",
    )
    seed: int | None = Field(0, description="Seed of the backoff jitter.")

    def timeout_for(self, tool_id: str) -> float | None:
        """Seconds a try of ``tool_id`` may take (None: no limit)."""
        return self.tool_timeouts_s.get(tool_id, self.timeout_s)

    @property
    def max_tools(self) -> int | None:
        """At most this many tools tried per call (the first and its fallbacks); None: every one.
        A tool skipped with no attempt (its circuit open, over budget) or with no function to call
        leaves its place to the next."""
        if not self.use_fallbacks:
            return 1
        return None if self.max_fallbacks is None else 1 + self.max_fallbacks


def checked_config(config: ExecutorConfig | Mapping[str, Any] | None, defaults: ExecutorConfig) -> ExecutorConfig:
    """``config`` checked as ``check_options`` checks it: ``None`` is ``defaults``; a mapping updates
    the fields of ``defaults`` (the caller's, not the class's: the fields it leaves out keep them); a
    model is taken whole."""
    if config is None:
        return defaults
    if isinstance(config, Mapping):
        config = {**vars(defaults), **config}
    return check_options("config", ExecutorConfig, config)




# --------------------------------------------------------------------------------------------------
# Circuit breakers
# --------------------------------------------------------------------------------------------------
class CircuitState(str, Enum):
    """``closed``: calls go through; ``open``: calls are skipped; ``half_open``: probes allowed."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """The circuit of one tool: it opens after ``failure_threshold`` failures in a row, skips the
    tool for ``reset_timeout_s``, then lets ``half_open_max_calls`` probes through; a successful
    probe closes it, a failed one opens it again. Thread-safe; ``clock`` is injectable for tests.

    Example:
        >>> now = [0.0]
        >>> cb = CircuitBreaker("t", CircuitBreakerConfig(failure_threshold=2, reset_timeout_s=1.0),
        ...                     clock=lambda: now[0])
        >>> cb.record_failure(); cb.record_failure(); cb.state.value
        'open'
        >>> cb.allow()
        False
        >>> now[0] = 1.5; cb.allow(), cb.state.value
        (True, 'half_open')
        >>> cb.record_success(); cb.state.value
        'closed'
    """

    def __init__(
        self,
        tool_id: str,
        config: CircuitBreakerConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not isinstance(tool_id, str):
            raise TypeError(f"tool_id: expected a string, got {tool_id!r:.100}")
        self.tool_id = tool_id
        self.config = _breaker_config(config) or CircuitBreakerConfig()
        self._clock = _checked_clock(clock)
        self._lock = threading.Lock()
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probes = 0
        self.times_opened = 0

    @property
    def state(self) -> CircuitState:
        """The state now (an open circuit whose time is up reads as half-open)."""
        with self._lock:
            self._refresh()
            return self._state

    @property
    def consecutive_failures(self) -> int:
        """Failures in a row since the last success."""
        return self._failures

    def _refresh(self) -> None:
        if (
            self._state is CircuitState.OPEN
            and self._clock() - self._opened_at >= self.config.reset_timeout_s
        ):
            self._state = CircuitState.HALF_OPEN
            self._probes = 0

    def allow(self) -> bool:
        """Whether a call may go through now; a half-open circuit counts it as a probe."""
        return self._let_through() is not None

    def _let_through(self) -> int | None:
        """``allow``, for a call that may end without a verdict: None (refused), else what it
        hands ``release``: 0 (let through closed, no probe) or the opening whose probe it is."""
        if self._state is CircuitState.CLOSED:  # the common case, without the lock (a plain read)
            return 0
        with self._lock:
            self._refresh()
            if self._state is CircuitState.CLOSED:
                return 0
            if self._state is CircuitState.HALF_OPEN and self._probes < self.config.half_open_max_calls:
                self._probes += 1
                return self.times_opened
            return None

    def release(self, probe: int | None = None) -> None:
        """A probe let through by ``allow`` ended without a verdict (cancelled): free its slot.
        ``probe``: what ``_let_through`` gave the call (None: a probe now). A call let through
        while the circuit was closed, or a probe of an earlier opening, holds no slot now: freeing
        one let more than ``half_open_max_calls`` probes through at once."""
        with self._lock:
            if self._state is CircuitState.HALF_OPEN and self._probes > 0 and probe in (None, self.times_opened):
                self._probes -= 1

    def record_success(self) -> None:
        """A call went through: close the circuit."""
        if self._state is CircuitState.CLOSED and not self._failures:
            return  # nothing to change: skip the lock on the hot path
        with self._lock:
            if self._state is not CircuitState.CLOSED:
                log.info("circuit_closed", tool=self.tool_id)
            self._state = CircuitState.CLOSED
            self._failures = 0
            self._probes = 0

    def record_failure(self, probe: int | None = None) -> None:
        """A call failed: count it; open the circuit at the threshold or on a failed probe.
        ``probe``: what ``_let_through`` gave the call (None: a probe now). A call let through
        while the circuit was closed, or a probe of an earlier opening, is no probe now: its
        failure reopened a half-open circuit whose probe had yet to answer."""
        with self._lock:
            self._refresh()
            self._failures += 1
            if (self._state is CircuitState.HALF_OPEN and probe in (None, self.times_opened)) or (
                self._state is CircuitState.CLOSED and self._failures >= self.config.failure_threshold
            ):
                self._state = CircuitState.OPEN
                self._opened_at = self._clock()
                self._probes = 0
                self.times_opened += 1
                log.info("circuit_opened", tool=self.tool_id, failures=self._failures)


def _breaker_config(config: Any) -> CircuitBreakerConfig | None:
    # a mapping of its fields, as ExecutorConfig takes it (anything else failed only when the
    # circuit first opened, in the middle of a call), or a model checked again: one made with
    # model_copy(update=...) could hold half_open_max_calls=0, which kept a tool out for good
    return None if config is None else check_options("config", CircuitBreakerConfig, config)


def _checked_clock(clock: Any) -> Callable[[], float]:
    if not callable(clock):
        raise TypeError(f"clock: expected a callable, got {clock!r:.100}")
    return clock


class CircuitBreakers:
    """One ``CircuitBreaker`` per tool id, made on first use; thread-safe."""

    def __init__(self, config: CircuitBreakerConfig | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = _breaker_config(config)
        self._clock = _checked_clock(clock)
        self._breakers: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def get(self, tool_id: str) -> CircuitBreaker:
        """The breaker of ``tool_id``."""
        cb = self._breakers.get(tool_id)
        if cb is None:
            with self._lock:
                cb = self._breakers.get(tool_id)
                if cb is None:
                    cb = self._breakers[tool_id] = CircuitBreaker(tool_id, self.config, self._clock)
        return cb

    def snapshot(self) -> dict[str, CircuitBreaker]:
        """The breakers made so far, by tool id."""
        with self._lock:
            return dict(self._breakers)


# --------------------------------------------------------------------------------------------------
# The loop
# --------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Binding:
    """How to call one tool for one try: ``fn(*args, **kwargs)``, awaited if ``is_async``.

    ``cost``: charged when the tool reports none (or reports an invalid one). ``check(value)``
    raises ``ValueError``/``TypeError`` for a value the step cannot use (a failure not worth
    retrying); ``quality(value)`` scores a value in [0, 1] when the tool reports no quality.
    ``inline``: a sync tool runs in the calling thread (on the event loop's thread in ``run_async``)
    whatever the timeout, for tools bound to their thread; no timeout can then stop it (a value it
    returns past its timeout is a timeout failure all the same). An async
    tool is awaited in the calling task under ``asyncio.timeout`` (Python >= 3.11), not in a task
    of its own: about 10 us less per call, for a tool that gives in to its cancellation (one that
    swallows it would hold the caller past its timeout, and one that swallows its caller's
    cancellation is recorded as it ended, then the cancellation raised); one waiting while another
    task holds the event loop past its timeout is cancelled by it, whenever what it awaited came.
    """

    fn: Callable[..., Any]
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    is_async: bool = False
    cost: float = 0.0
    check: Callable[[Any], None] | None = None
    quality: Callable[[Any], float] | None = None
    inline: bool = False


@dataclass(slots=True)
class CallSpec:
    """One call for ``attempt_loop``.

    Arguments:
        step: the ``ExecutionResult.step`` of every attempt.
        candidates: tool ids in the order to try them (may be lazy: read only as far as needed).
        bind: ``bind(tool_id, attempt)`` -> ``Binding``; ``None`` when the tool's function is
            gone (skipped as ``no longer registered``: it never ran, so nothing is recorded), or a
            string saying why it cannot be called (recorded as a failed attempt that costs nothing
            and is not retried).
        record: called with each attempt the moment it ends; an ``InvalidOutcomeError`` from it
            (numbers the learner cannot take) makes the attempt a failure with default numbers,
            recorded again.
        config: timeouts, retries, fallbacks.
        breakers: per-tool circuit breakers (None: none).
        rng: the backoff jitter's generator.
        timeout_s: overrides ``config``'s timeouts for every try of this call.
        deadline: ``time.monotonic()`` after which no try starts and running ones stop waiting.
        max_tools: at most this many tools tried (before ``config.max_fallbacks`` applies).
        admit: ``admit(tool_id, cost)`` -> a reason to skip the tool (``"over budget"``) or None.
        timed_out: ``timed_out()`` for a try its caller cut: the ``time.monotonic()`` of the
            deadline that cut it (a timeout of the tool, its circuit's failure; a value its tool
            returned past it is late), or None when its caller did (no verdict; None: never).
        report: the ``CallReport`` the loop fills in as it goes (None: a new one), for a caller
            whose loop raised to read what it did: a try whose tool had ended before its caller
            was cut is recorded, and a success, with its value, then the cut raised.
    """

    step: str
    candidates: Iterable[str]
    bind: Callable[[str, int], Binding | str | None]
    record: Callable[[ExecutionResult], None]
    config: ExecutorConfig
    breakers: CircuitBreakers | None = None
    rng: random.Random | None = None
    timeout_s: float | None = None
    tool_timeouts_s: dict[str, float] | None = None
    deadline: float | None = None
    max_tools: int | None = None
    admit: Callable[[str, float], str | None] | None = None
    timed_out: Callable[[], float | None] | None = None
    report: CallReport | None = None


@dataclass(slots=True)
class CallReport:
    """What a call did: the tool that succeeded and its value, every attempt, the tools skipped
    (with why: ``circuit open``, ``over budget``, ``deadline passed``; of a failed call, those past
    its limit of tools too: ``max attempts reached``)."""

    succeeded: bool = False
    tool_id: str | None = None
    value: Any = None
    attempts: list[ExecutionResult] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def failure_summary(self) -> str:
        """Why the call failed, attempt by attempt."""
        tried = "; ".join(f"{a.tool_id}: {a.error}" for a in self.attempts) or "no tool could be tried"
        skipped = ", ".join(f"{t} ({why})" for t, why in self.skipped)
        return tried + (f"; skipped {skipped}" if skipped else "")


@dataclass(slots=True)
class _Try:
    """Yielded by the loop: call ``binding``; it may take ``timeout_s`` seconds from when its tool
    starts (None: no limit), and the wait, for a worker thread too, ends at ``deadline`` (a
    ``time.monotonic()``; None: none). ``queued_s``: set by the driver when the try's caller is
    cut (cancelled, interrupted) after its tool started, how long it waited for its turn first."""

    binding: Binding
    timeout_s: float | None
    deadline: float | None = None
    queued_s: float = 0.0

    def left_s(self, started: float | None = None) -> float | None:
        """Seconds left to wait for a tool that started at ``started`` (default: now); None: no limit."""
        now = time.monotonic()
        end = _until(self.timeout_s, self.deadline, now if started is None else started)
        return None if end is None else max(end - now, 0.0)


def _until(timeout_s: float | None, deadline: float | None, started: float) -> float | None:
    """When a try whose tool started at ``started`` must end: ``timeout_s`` later, or at the
    call's ``deadline`` if sooner (both ``time.monotonic()``; None: never)."""
    end = None if timeout_s is None else started + timeout_s
    return deadline if deadline is not None and (end is None or deadline < end) else end


@dataclass(slots=True)
class _Raw:
    """What the driver saw: the value, or the exception, or that the wait timed out. ``queued_s``:
    how long the try waited for its turn (a slot under a concurrency limit, a worker thread)
    before its tool started (not the tool's time); ``never_ran``: why a try that did not get its
    turn never ran (no outcome of the tool); ``ran``: when the tool started and ended (both
    ``time.monotonic()``), measured where it ran (a worker thread): the try is judged by that, not
    by when its caller heard of it, which another task holding the event loop can delay;
    ``in_time``: the value is not late, whatever the time measured around it (see ``_await_bounded``);
    ``cut``: the caller's cancellation or interruption that came once the tool had ended (before
    the caller had its turn): the try is recorded as it ended, then ``cut`` is raised."""

    value: Any = None
    exc: BaseException | None = None
    timed_out: bool = False
    queued_s: float = 0.0
    never_ran: str | None = None
    ran: tuple[float, float] | None = None
    in_time: bool = False
    cut: BaseException | None = None



class _Rejected(Exception):
    """A try ended in a way that is the tool's fault but not worth retrying."""


def attempt_loop(spec: CallSpec) -> Generator[Any, Any, CallReport]:
    """The one attempt loop (see the module docstring); drive it with ``run_sync`` or
    ``run_async``. Returns a ``CallReport``."""
    cfg = spec.config
    retry = cfg.retry
    report = CallReport() if spec.report is None else spec.report
    max_tools = cfg.max_tools
    if spec.max_tools is not None:
        max_tools = spec.max_tools if max_tools is None else min(max_tools, spec.max_tools)
    ranked = iter(spec.candidates)  # what the loop leaves untried is listed as skipped, with why
    # tools left to try (None: every one): one skipped with no attempt (its circuit open, over
    # budget) or not called (no function) leaves its place to the next, else a capped call failed
    # with a healthy tool untried
    places = max_tools
    for tool_id in ranked:
        if places == 0:
            report.skipped.append((tool_id, "max attempts reached"))
            break
        recorded = len(report.attempts)
        cost = 0.0
        binding = None
        breaker = spec.breakers.get(tool_id) if spec.breakers is not None else None
        for attempt in range(1 + retry.max_retries):
            if spec.deadline is not None and time.monotonic() >= spec.deadline:
                report.skipped.append((tool_id, "deadline passed"))
                within = None if places is None else places - 1  # the places after this one's
                report.skipped.extend((t, "deadline passed") for t in islice(ranked, within))
                return _untried(report, ranked)
            binding = spec.bind(tool_id, attempt)
            if binding is None:  # its function is gone (unbound before a retry): no outcome of the tool
                report.skipped.append((tool_id, "no longer registered"))
                break
            if isinstance(binding, str):
                _record(spec, report, _gone(tool_id, spec.step, binding))
                if attempt == 0:  # never called: its place goes to the next tool
                    recorded = len(report.attempts)
                break
            cost = binding.cost
            if spec.admit is not None:  # a retry costs as much as the first try
                reason = spec.admit(tool_id, cost)
                if reason is not None:
                    report.skipped.append((tool_id, reason))
                    break
            probe = None if breaker is None else breaker._let_through()
            if breaker is not None and probe is None:
                report.skipped.append((tool_id, "circuit open"))
                break
            timeout = _timeout(spec, tool_id)
            t0 = time.perf_counter()
            m0 = time.monotonic() if spec.deadline is not None or spec.timed_out is not None else 0.0
            action = _Try(binding, timeout, spec.deadline)
            try:
                raw = yield action
                if isinstance(raw.exc, _CALLER_INTERRUPTS) and raw.never_ran is None:
                    raise raw.exc  # reached the tool's frame, but the caller's as if it came while waiting
            except GeneratorExit:  # the loop itself closed (a tool's own GeneratorExit comes as its outcome)
                if breaker is not None:
                    breaker.release(probe)  # no verdict: a probe's place is free for the next call
                raise
            except BaseException as exc:  # cancelled or interrupted while the tool ran: record, re-raise
                elapsed = max(time.perf_counter() - t0 - action.queued_s, 0.0)  # the tool's time, as below
                _record_interrupted(spec, report, breaker, probe, tool_id, cost, elapsed, exc)
                raise
            if raw.never_ran is not None:  # it waited for its turn in vain: no outcome of the tool
                if breaker is not None:
                    breaker.release(probe)
                if raw.exc is not None:
                    raise raw.exc  # its caller was cancelled or interrupted meanwhile
                report.skipped.append((tool_id, raw.never_ran))
                break
            if raw.ran is not None:  # measured around the tool where it ran: the news of it may come later
                ended: float | None = raw.ran[1]
                elapsed = ended - raw.ran[0]
            else:
                ended = None
                elapsed = time.perf_counter() - t0 - raw.queued_s  # the tool's time, not the wait for its turn
            deadline = spec.deadline
            if raw.cut is not None and spec.timed_out is not None:  # a deadline that cut it once its tool had ended
                deadline = spec.timed_out() or deadline
            # its deadline came before its timeout would have, counted from when the tool started
            by_deadline = deadline is not None and (timeout is None or deadline <= m0 + raw.queued_s + timeout)
            if raw.exc is None and not raw.timed_out and not raw.in_time and _ran_over(timeout, deadline, elapsed, ended):
                # a value that came only after its limit, from a tool nothing could stop (an async tool
                # that blocks the event loop, an inline one): a timeout as if the wait had given up
                raw = _Raw(timed_out=True, queued_s=raw.queued_s, cut=raw.cut)
            try:
                settled, retryable = _settle(tool_id, spec, binding, raw, elapsed, timeout, by_deadline)
            except BaseException as exc:  # interrupted while its value was judged (a slow quality function)
                _record_interrupted(spec, report, breaker, probe, tool_id, cost, elapsed, exc)  # the tool ran, and cost
                raise
            try:
                result = _record(spec, report, settled, cost, elapsed)
            except BaseException:  # the caller's record failed (its store's error, a Ctrl-C): no verdict
                if breaker is not None:
                    breaker.release(probe)  # else a half-open probe's place stayed taken, the tool skipped for good
                raise
            if result is not settled:  # its numbers were refused: the tool would report them again
                retryable = False
            if result.success:
                if breaker is not None:
                    breaker.record_success()
                report.succeeded, report.tool_id = True, tool_id
                report.value = raw.value.value if isinstance(raw.value, ToolOutput) else raw.value
            elif breaker is not None:
                breaker.record_failure(probe)
            if raw.cut is not None:  # the caller's, once its tool had ended: the try is recorded as it ended
                raise raw.cut
            if result.success:
                return report
            if raw.exc is not None and not isinstance(raw.exc, (Exception, asyncio.CancelledError)):
                # the tool's GeneratorExit or a BaseException of its own: recorded as its failure,
                # now the caller's (a CancelledError the tool raised itself is only its failure)
                raise raw.exc
            if not retryable or attempt == retry.max_retries:
                break
            delay = retry.delay_s(attempt, spec.rng or _JITTER)
            if spec.deadline is not None:
                delay = min(delay, max(0.0, spec.deadline - time.monotonic()))
            if delay > 0:
                yield delay
        if places is not None and len(report.attempts) > recorded:
            places -= 1
    return _untried(report, ranked)


def _untried(report: CallReport, ranked: Iterator[str]) -> CallReport:
    """``report`` of a failed call with the tools its attempts limit left untried, each skipped
    with why: read without them, "every tool failed" told the caller (a model) of tools never tried."""
    report.skipped.extend((tool_id, "max attempts reached") for tool_id in ranked)
    return report


_JITTER = random.Random(0)


def _timeout(spec: CallSpec, tool_id: str) -> float | None:
    """Seconds this try may take once its tool starts (the call's deadline bounds it apart: ``_Try``)."""
    if spec.timeout_s is not None:
        return spec.timeout_s
    # one read: the middleware's registrations may remove the tool's timeout meanwhile
    own = spec.tool_timeouts_s.get(tool_id) if spec.tool_timeouts_s else None
    return spec.config.timeout_for(tool_id) if own is None else own


def _ran_over(timeout: float | None, deadline: float | None, elapsed_s: float, ended: float | None = None) -> bool:
    """Whether a try that took ``elapsed_s`` and ended at ``ended`` (a ``time.monotonic()``;
    default: now) went past its ``timeout`` or its call's ``deadline``."""
    if timeout is not None and elapsed_s > timeout:
        return True
    return deadline is not None and (time.monotonic() if ended is None else ended) > deadline


def _gone(tool_id: str, step: str, why: str) -> ExecutionResult:
    return ExecutionResult(tool_id=tool_id, step=step, success=False, cost=0.0, latency_s=0.0, error=why)


#: A Ctrl-C or an exit interrupts the caller wherever it is raised (in the tool's own frame when the
#: tool runs in the calling thread): no outcome of the tool, recorded as the caller's cancellation.
_CALLER_INTERRUPTS = (KeyboardInterrupt, SystemExit)

#: What ``inspect.isgenerator`` and ``inspect.isasyncgen`` test, in one ``isinstance``.
_GENERATORS = (types.GeneratorType, types.AsyncGeneratorType)


def _interrupted(exc: BaseException) -> str:
    if isinstance(exc, (asyncio.CancelledError, *_CALLER_INTERRUPTS)):
        return CANCELLED_BY_CALLER
    return describe_error(exc)


def _record_interrupted(
    spec: CallSpec, report: CallReport, breaker: CircuitBreaker | None, probe: int | None, tool_id: str, cost: float,
    latency_s: float, exc: BaseException,
) -> None:
    """Record a try its caller cut (cancelled, interrupted) before its verdict, for the caller to
    raise ``exc``: no verdict for the tool's breaker either. A record that fails (its store's
    error) is logged: raised, it would take the place of ``exc``, and a cancelled task would end as
    failed, a Ctrl-C as an error the caller may catch and go on from. One its deadline cut
    (``spec.timed_out``) is its tool's failure, counted with what the breaker let it through as:
    counted as a probe now, a try let through closed reopened a half-open circuit."""
    error = _interrupted(exc)
    if breaker is not None:
        if error == CANCELLED_BY_CALLER and spec.timed_out is not None and spec.timed_out() is not None:
            breaker.record_failure(probe)
        else:
            breaker.release(probe)
    try:
        _record(spec, report, ExecutionResult(
            tool_id=tool_id, step=spec.step, success=False, cost=cost, latency_s=latency_s, error=error,
        ))
    except Exception as failure:
        log.warning("interrupted_try_unrecorded", tool=tool_id, error=describe_error(failure))


def _record(
    spec: CallSpec, report: CallReport, result: ExecutionResult, cost: float = 0.0, latency_s: float = 0.0
) -> ExecutionResult:
    """Hand ``result`` to the caller. Numbers it rejects (say a reported cost so large that the
    utility overflows) make the attempt a failure carrying the planned ``cost`` and the measured
    ``latency_s``: the tool's report was unusable."""
    try:
        spec.record(result)
    except InvalidOutcomeError as exc:
        if not result.success and result.cost == cost and result.latency_s == latency_s:
            raise  # already the plain numbers: the caller's own limits reject them
        result = ExecutionResult(
            tool_id=result.tool_id, step=result.step, success=False, cost=cost, latency_s=latency_s,
            error=f"InvalidOutcomeError: {exc}", timestamp=result.timestamp,
        )
        spec.record(result)
    report.attempts.append(result)
    return result


def _settle(
    tool_id: str, spec: CallSpec, binding: Binding, raw: _Raw, elapsed_s: float, timeout: float | None,
    by_deadline: bool,
) -> tuple[ExecutionResult, bool]:
    """The ``ExecutionResult`` of one try, and whether a failure is worth retrying."""
    cost, latency, quality = binding.cost, elapsed_s, None
    error: str | None = None
    retryable = True
    if raw.timed_out:
        limit = "the call's deadline allowed" if by_deadline else f"{timeout:g} s"
        error = f"TimeoutError: {tool_id!r} took longer than {limit}"
    elif raw.exc is not None:
        # a CancelledError the tool raised itself is its failure: never worded as the caller's
        # cancellation (CANCELLED_BY_CALLER), which the router does not learn from
        cancelled = isinstance(raw.exc, asyncio.CancelledError)
        error = "CancelledError: the tool was cancelled" if cancelled else describe_error(raw.exc)
        if isinstance(raw.exc, ToolFailure):  # a subclass may skip ToolFailure's __init__, which sets them
            cost = _reported(getattr(raw.exc, "cost", None), cost)
            latency = _reported(getattr(raw.exc, "latency_s", None), latency)
    else:
        value = raw.value
        try:
            if isinstance(value, ToolOutput):
                _check_report(tool_id, value)
                if value.cost is not None:
                    cost = float(value.cost)
                if value.latency_s is not None:
                    latency = float(value.latency_s)
                quality = value.quality
                value = value.value
                if _awaitable(value):
                    # a bare awaitable is awaited (a sync wrapper around an async tool), one in a
                    # report is not: the step "succeeded" with a coroutine, none of its body run
                    if isinstance(value, types.CoroutineType):
                        value.close()
                    raise _Rejected(
                        f"TypeError: tool {tool_id!r} reported a ToolOutput whose value is an awaitable "
                        f"({type(value).__name__}) that nothing awaits; make the tool await it "
                        "(ToolOutput(await ...))"
                    )
            if isinstance(value, _GENERATORS):
                # a wrapper around a generator function (a decorator that registration cannot see
                # through): none of its body ran, and its "value" would reach the caller as a repr
                if isinstance(value, types.GeneratorType):
                    value.close()
                raise _Rejected(
                    f"TypeError: tool {tool_id!r} returned a generator, which runs none of its body; make the "
                    "tool return its items (a list, say)"
                )
            if binding.check is not None:
                try:
                    binding.check(value)
                except (TypeError, ValueError) as exc:
                    raise _Rejected(describe_error(exc)) from None
            if quality is None and binding.quality is not None:
                quality = _score(tool_id, binding.quality, value)
        except Exception as exc:
            if not isinstance(exc, _Rejected):  # a value whose class or fields raise as they are read
                exc = _Rejected(f"TypeError: tool {tool_id!r} returned a value that cannot be read ({describe_error(exc)})")
            error, retryable = str(exc), False
            cost, latency, quality = binding.cost, elapsed_s, None
    success = error is None
    return ExecutionResult._of_attempt(
        tool_id, spec.step, success, float(quality) if (success and quality is not None) else (None if success else 0.0),
        cost, latency, error,
    ), retryable


def _real(value: Any) -> float | None:
    """``value`` as a float if it is a real number (numpy's scalars too; not a bool), else None."""
    if type(value) is float or type(value) is int:  # the common case, before the ABC check
        return float(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except Exception:  # a number type of the tool's own that cannot say its value
        return None


def _reported(value: Any, default: float) -> float:
    """A number a failing tool reported, if it is usable."""
    number = _real(value)
    return number if number is not None and math.isfinite(number) and number >= 0 else default


def _check_report(tool_id: str, output: ToolOutput) -> None:
    for name, upper in (("quality", 1.0), ("cost", None), ("latency_s", None)):
        value = getattr(output, name)
        if value is None:
            continue
        number = _real(value)
        ok = number is not None and math.isfinite(number) and 0 <= number <= (math.inf if upper is None else upper)
        if not ok:
            bound = "a real number" if number is None else "in [0, 1]" if upper is not None else "finite and >= 0"
            raise _Rejected(f"ValueError: tool {tool_id!r} reported {name} {value!r}, not {bound}")


def _score(tool_id: str, quality: Callable[[Any], float], value: Any) -> float:
    try:
        score = quality(value)
    except Exception as exc:  # the scoring function's failure fails this attempt, not the call
        raise _Rejected(f"quality function of {tool_id!r} raised {describe_error(exc)}") from None
    number = _real(score)
    if number is None or not 0.0 <= number <= 1.0:
        raise _Rejected(f"ValueError: quality function of {tool_id!r} returned {score!r}, not in [0, 1]")
    return number


# --------------------------------------------------------------------------------------------------
# Drivers
# --------------------------------------------------------------------------------------------------
class ThreadRunner:
    """Runs sync tools in worker threads, so that a caller can stop waiting after a timeout.

    Workers are started on demand and exit after ``idle_s`` without work. At most ``max_workers``
    run tools that a caller still waits for; beyond that, calls wait for a free worker. That wait
    is the process's, not the tool's: a try's timeout counts from when a worker starts its tool,
    and only a call's deadline (or, past ``max_hung``, its timeout) bounds the wait itself; a call
    that stops waiting before its tool started never runs it, and says so (``_Raw.never_ran``). A
    worker whose caller stopped waiting (a tool hung past its timeout) no longer counts: the next
    call gets another worker, so hung tools cannot starve the others, and the hung worker rejoins
    the pool if its tool ever returns; past ``max_hung`` such workers (Python cannot stop a thread,
    so each is a thread for good if its tool never returns), the next hung ones keep their places
    and calls wait for a worker again. A call made from a worker (a tool that routes through the
    middleware itself) always gets a worker of its own, so nested calls cannot deadlock the pool.
    Workers are daemon threads: a hung tool never blocks the interpreter's exit.
    """

    def __init__(self, max_workers: int = 64, idle_s: float = 60.0, max_hung: int = 1024) -> None:
        self.max_workers = check_count("max_workers", max_workers, low=1)
        self.max_hung = check_count("max_hung", max_hung)
        # what a worker waits for work: one that is not a positive number of seconds a lock can
        # wait for stopped each worker as it started, and every call timed out
        self.idle_s = check_real("idle_s", idle_s, low=0, high=threading.TIMEOUT_MAX, low_open=True)
        self._start_afresh()
        _RUNNERS.add(self)

    def _start_afresh(self) -> None:
        """No workers and no jobs: a new runner, and each runner in a child forked from its process."""
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()  # None: an idle worker leaves
        self._lock = threading.Lock()
        self._workers = 0  # workers that count against max_workers (not those hung past their caller)
        self._available = 0  # idle workers not yet claimed by a call (negative: calls waiting)
        self._local = threading.local()  # ``in_worker`` in this runner's workers
        #: workers still running a tool whose caller stopped waiting (Python cannot stop a thread)
        self.hung = 0

    def call(
        self, fn: Callable[..., Any], args: tuple, kwargs: dict, timeout_s: float | None, deadline: float | None = None,
        tried: _Try | None = None,
    ) -> _Raw:
        """Run ``fn(*args, **kwargs)`` in a worker and wait for it: at most ``timeout_s`` seconds
        from when a worker starts it, and not past ``deadline`` (a ``time.monotonic()``), which
        bounds the wait for a free worker too (see the class). An interruption of the wait (Ctrl-C)
        raises, unless it came before a worker took the tool: then ``_Raw.exc`` holds it, with
        ``never_ran``, for the attempt loop to raise without recording the try; or once the tool
        had ended: then ``_Raw.cut`` holds it, with the tool's outcome, for the loop to record that
        and raise it. Raised, it tells ``tried`` (the try this call is) how long the tool waited for
        a worker (``_Try.queued_s``)."""
        job = _Job(fn, args, kwargs)
        submitted = time.monotonic()
        self._submit(job)
        wait = None
        try:
            # the common case first, with nothing more to keep: the tool ends within its time
            end = _until(timeout_s, deadline, submitted)
            done = job.done.acquire(timeout=-1 if end is None else max(end - time.monotonic(), 0.0))
            if not done:
                wait = self._wait(job, timeout_s, deadline, submitted)
                while not wait.expired():
                    if job.done.acquire(timeout=wait.left_s()):
                        done = True
                        break
        except BaseException as exc:  # interrupted while waiting: nobody will take the result
            if self._withdraw(job):  # before a worker took it: no outcome of the tool, the caller's exception
                return _Raw(exc=exc, never_ran="its caller was interrupted before a worker thread was free")
            if self._give_up(job):  # it had ended: its outcome is the tool's, the interruption the caller's
                return _Raw(job.value, job.exc, queued_s=max(job.started - submitted, 0.0), ran=job.ran(), cut=exc)
            if tried is not None:  # the wait for a worker is not the tool's time
                tried.queued_s += max((job.started or time.monotonic()) - submitted, 0.0)
            raise
        queued_s = 0.0 if job.started is None else max(job.started - submitted, 0.0)
        if not done:
            if wait is not None and wait.never_ran is not None:
                return _Raw(timed_out=True, never_ran=wait.never_ran)
            if not self._give_up(job):
                return _Raw(timed_out=True, queued_s=queued_s)
            job.done.acquire()  # it ended as the wait did: take its outcome
        return _Raw(job.value, job.exc, queued_s=queued_s, ran=job.ran())

    def future(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> asyncio.Future:
        """Run ``fn(*args, **kwargs)`` in a worker; a future of the running event loop (what
        ``loop.run_in_executor`` gives, with less bookkeeping on the way) whose result is the
        outcome as ``call`` returns it, an exception included. Cancelling the future (a timeout, a
        cancelled caller) stops waiting for the worker as ``call`` does."""
        return self._future(fn, args, kwargs)[0]

    def _future(self, fn: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[asyncio.Future, _Job]:
        """``future``, and the job behind it (when it started: ``_WorkerWait``)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()

        def resolve(job: _Job) -> None:  # in the worker: hand the outcome to the loop's thread
            try:
                loop.call_soon_threadsafe(_settle_future, future, job)
            except RuntimeError:  # the loop closed while the tool ran: nobody is waiting
                pass

        job = _Job(fn, args, kwargs, resolve, future.cancelled)
        self._submit(job)
        future.add_done_callback(lambda f: self._give_up(job) if f.cancelled() else None)
        return future, job

    def close(self) -> None:
        """Let the idle workers exit now instead of after ``idle_s`` (the runner stays usable)."""
        with self._lock:
            idle = max(self._available, 0)
        for _ in range(idle):
            self._jobs.put(None)

    def _submit(self, job: _Job) -> None:
        nested = getattr(self._local, "in_worker", False)
        with self._lock:
            self._available -= 1
            if self._available < 0 and (nested or self._workers < self.max_workers):
                self._start_worker()
        self._jobs.put(job)

    def _start_worker(self) -> None:
        """Start one more worker (under ``_lock``)."""
        self._workers += 1
        self._available += 1
        threading.Thread(target=self._work, name="toolrouter-tool", daemon=True).start()

    def _wait(self, job: _Job, timeout_s: float | None, deadline: float | None, submitted: float) -> _WorkerWait:
        """How long a caller waits for ``job``, submitted at ``submitted`` (see the class)."""

        def stuck() -> str | None:  # hung workers keep their places and calls have none: it may never end
            hung = self.hung
            if hung >= self.max_hung and self._available < 0:
                return f"no worker thread free ({hung} hung past their timeouts)"
            return None

        return _WorkerWait(timeout_s, deadline, submitted, lambda: job.started, lambda: self._withdraw(job), stuck)

    def _withdraw(self, job: _Job) -> bool:
        """Take back ``job`` if no worker has started it: it never runs. Returns whether it is
        taken back (now or before: cancelling its future takes it back too)."""
        # under the lock, the pop and the mark as one: a worker takes back the job of a cancelled
        # caller too, and the caller must not find it popped yet not ended (it gave it up as hung)
        with self._lock:
            try:
                job.unclaimed.pop()  # atomic: the worker that would run it pops it first, or finds it gone
            except IndexError:
                return job.ended and job.started is None
            self._available += 1
            job.ended = True  # nothing left to give up: a later _give_up is a no-op
        return True

    def _give_up(self, job: _Job) -> bool:
        """The caller of ``job`` stops waiting for it; returns whether it has ended meanwhile. A job
        not started yet never runs; a running one leaves its worker uncounted (see the class)."""
        if self._withdraw(job):
            return False
        with self._lock:
            if job.ended:
                return True
            if self.hung >= self.max_hung:
                return False  # enough threads given up already: this worker keeps its place
            job.abandoned = True
            self._workers -= 1
            self.hung += 1
            hung = self.hung
            if self._available < 0 and self._workers < self.max_workers:
                self._start_worker()  # for the calls waiting: the hung worker's place is free
        name = getattr(job.fn, "__name__", None)  # not repr(): a tool's own repr may raise
        log.warning("tool_thread_hung", tool=name if isinstance(name, str) else type(job.fn).__name__, hung_threads=hung)
        return False

    def _work(self) -> None:
        self._local.in_worker = True
        while True:
            try:
                job = self._jobs.get(timeout=self.idle_s)
            except queue.Empty:
                job = None
            if job is None:  # idle for idle_s, or asked to leave by close()
                with self._lock:
                    if self._available > 0:  # more idle workers than waiting calls: leave
                        self._available -= 1
                        self._workers -= 1
                        return
                continue
            if job.cancelled is not None and job.cancelled():
                # its caller was cancelled, and takes it back only when its loop runs the future's
                # callbacks: a worker freed meanwhile (another call of the cancelled run given up,
                # its hung tool replaced) started it, for a run that was over, blamed on the tool
                self._withdraw(job)
                continue
            try:
                job.unclaimed.pop()
            except IndexError:  # its caller stopped waiting before it started
                continue
            job.started = time.monotonic()  # its try's timeout counts from here
            job.run()
            job.finished = time.monotonic()
            with self._lock:
                abandoned = job.abandoned
                job.ended = True
                self.hung -= abandoned
                leave = abandoned and self._workers >= self.max_workers  # its place was taken meanwhile
                if not leave:
                    self._workers += abandoned
                    self._available += 1  # counted free before the caller wakes: nothing left to do after it
            if job.notify is None:
                job.done.release()
            else:
                job.notify(job)
            if leave:
                return


class _WorkerWait:
    """How long a caller waits for a try in a worker pool: ``timeout_s`` from when a worker starts
    its tool (``started()``: that ``time.monotonic()``, None before), never past ``deadline``. A try
    still waiting for a worker at its deadline, or after its timeout while ``stuck()`` gives a
    reason (the pool cannot free a worker), is taken back (``withdraw()``: whether it was, before a
    worker took it) and never runs: ``never_ran`` says why."""

    __slots__ = ("timeout_s", "deadline", "started", "withdraw", "stuck", "submitted", "end", "never_ran")

    def __init__(
        self,
        timeout_s: float | None,
        deadline: float | None,
        submitted: float,
        started: Callable[[], float | None],
        withdraw: Callable[[], bool] = lambda: False,
        stuck: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.timeout_s, self.deadline = timeout_s, deadline
        self.started, self.withdraw, self.stuck = started, withdraw, stuck
        self.submitted = submitted
        self.end = _until(timeout_s, deadline, submitted)  # the soonest it can end: started at once
        self.never_ran: str | None = None

    def left_s(self) -> float:
        """Seconds until ``end``, for ``Lock.acquire`` (-1: no limit)."""
        return -1 if self.end is None else max(self.end - time.monotonic(), 0.0)

    def expired(self) -> bool:
        """The wait reached ``end``: whether it is over (timed out, or ``never_ran``); if not,
        ``end`` has moved on (the tool started later, or has not started yet)."""
        now = time.monotonic()
        started = self.started()
        if started is None:
            if self.deadline is not None and now >= self.deadline:
                reason: str | None = "deadline passed before a worker thread was free"
            else:
                reason = self.stuck()
            if reason is None:  # waiting for a worker: the try's time has not begun
                self.end = _until(self.timeout_s, self.deadline, now)
                return False
            if self.withdraw():
                self.never_ran = reason
                return True
            started = now  # a worker took it meanwhile
        self.end = _until(self.timeout_s, self.deadline, started)
        return self.end is not None and self.end <= now

    def queued_s(self) -> float:
        """Seconds the try waited for a worker before its tool started."""
        started = self.started()
        return 0.0 if started is None else max(started - self.submitted, 0.0)


class _Job:
    __slots__ = (
        "fn", "args", "kwargs", "context", "value", "exc", "done", "notify", "cancelled", "unclaimed", "ended",
        "abandoned", "started", "finished",
    )

    def __init__(
        self, fn: Callable[..., Any], args: tuple, kwargs: dict, notify: Callable[[_Job], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.context = contextvars.copy_context()  # the caller's context vars, as asyncio.to_thread
        self.value: Any = None
        self.exc: BaseException | None = None
        self.notify = notify  # None: the caller waits on ``done``
        # whether the caller's future was cancelled (a read of its state, from a worker thread)
        self.cancelled = cancelled
        self.unclaimed = [True]  # popped by whoever settles its fate first: a worker, or a caller giving up
        self.ended = self.abandoned = False  # changed under the runner's lock
        self.started: float | None = None  # the time.monotonic() a worker started it
        self.finished: float | None = None  # and the one it ended
        self.done = threading.Lock()
        if notify is None:
            self.done.acquire()

    def run(self) -> None:
        try:
            self.value = self.context.run(self.fn, *self.args, **self.kwargs)
        except BaseException as exc:  # handed to the caller, who records it as the attempt's failure
            self.exc = exc

    def ran(self) -> tuple[float, float] | None:
        """When the worker started and ended the tool (``_Raw.ran``), once it has ended."""
        started, finished = self.started, self.finished
        return None if started is None or finished is None else (started, finished)


def _settle_future(future: asyncio.Future, job: _Job) -> None:
    if not future.done():  # not timed out or cancelled meanwhile
        # the outcome as a result, even an exception: awaiting a GeneratorExit would close the
        # awaiting coroutines instead of raising it in them
        future.set_result(_Raw(job.value, job.exc, ran=job.ran()))


_DEFAULT_RUNNER: ThreadRunner | None = None
_RUNNER_LOCK = threading.Lock()
# A child forked from this process has none of the runners' worker threads: counted as idle, the
# parent's workers would be handed jobs that no thread takes, and every sync call would wait forever
# (a pre-forking server's workers, a multiprocessing pool). Each runner starts afresh there.
_RUNNERS: weakref.WeakSet[ThreadRunner] = weakref.WeakSet()


def _start_runners_afresh() -> None:
    for runner in list(_RUNNERS):
        runner._start_afresh()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_start_runners_afresh)


def default_runner() -> ThreadRunner:
    """The process's shared ``ThreadRunner``."""
    global _DEFAULT_RUNNER
    if _DEFAULT_RUNNER is None:
        with _RUNNER_LOCK:
            if _DEFAULT_RUNNER is None:
                _DEFAULT_RUNNER = ThreadRunner()
    return _DEFAULT_RUNNER


def run_sync(loop: Generator[Any, Any, CallReport], runner: ThreadRunner | None = None) -> CallReport:
    """Drive ``attempt_loop`` from synchronous code: a sync tool runs in a worker thread of
    ``runner`` when its try has a timeout or a deadline (inline otherwise), an async tool on a new event loop in this
    thread (not from inside a running loop: use ``run_async`` there)."""
    send: Any = None
    throw: BaseException | None = None
    while True:
        try:
            action = loop.throw(throw) if throw is not None else loop.send(send)
        except StopIteration as stop:
            return stop.value
        send, throw = None, None
        try:
            if isinstance(action, _Try):
                send = _call_sync(action, runner)
            else:
                time.sleep(action)
        except BaseException as exc:  # interrupted while waiting: the loop records and re-raises
            throw = exc


def _call_sync(action: _Try, runner: ThreadRunner | None) -> _Raw:
    b = action.binding
    if b.is_async:
        return _run_coroutine(functools.partial(b.fn, *b.args, **b.kwargs), action.left_s())
    t0 = time.monotonic()
    if (action.timeout_s is None and action.deadline is None) or b.inline:
        try:
            raw = _Raw(b.fn(*b.args, **b.kwargs))
        except BaseException as exc:  # whatever the class: the loop records it (and re-raises a non-Exception)
            return _Raw(exc=exc)
    else:
        raw = (runner or default_runner()).call(b.fn, b.args, b.kwargs, action.timeout_s, action.deadline, action)
    if _awaitable(raw.value):  # a sync wrapper around an async tool
        if raw.cut is not None:
            raise raw.cut  # before its async part ran: the try is cut
        awaitable = raw.value
        raw = _then(raw, _run_coroutine(lambda: awaitable, action.left_s(t0 + raw.queued_s)))
    return raw


def _then(first: _Raw, then: _Raw) -> _Raw:
    """``then``, the outcome of awaiting ``first``'s value (a sync wrapper around an async tool),
    as one try: its wait for its turn before ``first``, its time from ``first``'s start."""
    then.queued_s += first.queued_s
    then.ran = None if first.ran is None or then.ran is None else (first.ran[0], then.ran[1])
    return then


#: Classes whose instances are never awaitable (none has ``__await__``), by exact class: a subclass may add one.
_NEVER_AWAITABLE = frozenset((type(None), str, bytes, bool, int, float, dict, list, tuple))


def _awaitable(value: Any) -> bool:
    """Whether a tool's value is to be awaited (a sync wrapper around an async tool returns one).
    A value that cannot even say its class is not: ``_settle`` makes it the tool's failure."""
    if type(value) in _NEVER_AWAITABLE:  # most values: no look-up of the Awaitable ABC
        return False
    try:
        return inspect.isawaitable(value)
    except Exception:
        return False


def _run_coroutine(make: Callable[[], Any], timeout_s: float | None) -> _Raw:
    async def bounded() -> _Raw:
        return await _await_bounded(make, timeout_s)

    return run_in_new_loop(bounded())


#: Seconds the tasks left on a loop of ours (async tools timed out or cancelled) get to end after
#: their cancellation, before the caller stops waiting and they end in a thread of their own.
CANCEL_GRACE_S = 1.0


def run_in_new_loop(main: Coroutine[Any, Any, Any]) -> Any:
    """``asyncio.run(main)`` for our synchronous drivers, except that a task left behind (an async
    tool that timed out) which swallows its cancellation cannot hold the caller: see ``close_loop``."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(main)
    finally:
        close_loop(loop)


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel the tasks left on ``loop`` (not running), shut down its async generators and default
    executor, and close it, as ``asyncio.run`` does at its end; but what has not ended
    ``CANCEL_GRACE_S`` after the cancellation (a tool that swallows it, a cleanup that hangs) goes
    on in a daemon thread, which closes the loop when it ends, instead of holding the caller."""
    left = [task for task in asyncio.all_tasks(loop) if not task.done()]
    wind_down = loop.create_task(_wind_down(left))
    loop.run_until_complete(asyncio.wait([wind_down], timeout=CANCEL_GRACE_S))
    if wind_down.done():
        loop.close()
        return
    log.warning("cancelled_tools_still_running", tasks=len(left))

    def finish() -> None:
        loop.run_until_complete(wind_down)
        loop.close()

    threading.Thread(target=finish, name="toolrouter-cancelled", daemon=True).start()


async def _wind_down(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    loop = asyncio.get_running_loop()
    await loop.shutdown_asyncgens()
    await loop.shutdown_default_executor()


async def _await_bounded(make: Callable[[], Any], timeout_s: float | None, deadline: float | None = None) -> _Raw:
    """Await ``make()`` for at most ``timeout_s`` from when it starts, never past ``deadline`` (a
    ``time.monotonic()``); a timeout cancels it without waiting for it.

    An executor's future (a sync tool in a thread) is waited on directly; a coroutine runs as a task
    of its own, so that a timeout never depends on the coroutine giving in to its cancellation. A
    result that is itself awaitable (a sync wrapper around an async tool) is awaited within the
    time that is left.

    A coroutine's time counts from its task's first step: one that the event loop started late
    (another task held it) waited for its turn (``_Raw.queued_s``), as a sync tool waits for a
    worker thread. It is judged by the time from its start to its end, both noted in its task
    (``_Raw.ran``), whenever its caller hears of it: one that ended past its limit before its
    timer fired held the loop itself, a timeout. One that was waiting (suspended on an await) when
    its timer fired, and ended in the turn of the event loop that followed, before its caller took
    the timeout up, is in time (``_Raw.in_time``): what it awaited came before the timer's turn,
    the loop having been held by another task (one that blocks it with a sync sleep), so the value
    is kept, with the time measured around it as its latency. What cannot be told apart: a reply (I/O, a thread's result) that
    came while another task held the loop came in time, whether it came before the limit or after
    it; and a tool that itself blocked the loop past its limit, then awaited such a reply, counts
    as waiting, as does any tool that ends in that same turn."""
    called = time.monotonic()
    end = None if timeout_s is None else called + timeout_s
    queued_s: float | None = None
    started = called
    try:
        target = make()
    except BaseException as exc:  # an async tool that fails before its first await
        return _Raw(exc=exc)
    while True:
        left = None if end is None else max(end - time.monotonic(), 0.0)
        if asyncio.isfuture(target):  # running already: await it, a timer cancels it on time
            now = time.monotonic()
            return await _await_future(target, _WorkerWait(left, None, now, lambda: now))
        began: list[float] = []  # when the tool's first step started, and when it ended
        future = asyncio.ensure_future(_timed(target, began))
        waiting, cut = False, None
        try:
            waiting = await _done_or_timeout(future, left)
            while not future.done() and left is not None and began:
                # the timer counted from before the tool's first step: give it its time from there
                more = _until(left, deadline, began[0]) - time.monotonic()  # type: ignore[operator]
                if more <= 0:
                    break
                waiting = await _done_or_timeout(future, more)
        except BaseException as exc:  # the caller's cancellation (a tool's interrupt comes as its value)
            if not future.done() or future.cancelled():
                _abandon(future)
                raise
            cut = exc  # it came once the tool had ended, before the caller's turn: the outcome is the tool's
        if queued_s is None:  # the first round: the wait for the tool's first step
            started = began[0] if began else called
            queued_s = max(started - called, 0.0)
        if not future.done():
            _abandon(future)
            return _Raw(timed_out=True, queued_s=queued_s)
        if future.cancelled():
            return _Raw(exc=asyncio.CancelledError("the tool was cancelled"), queued_s=queued_s)
        exc = future.exception()
        if exc is not None:
            return _Raw(exc=exc, queued_s=queued_s, cut=cut)
        value = future.result()
        if type(value) is _Interrupt:  # not isinstance: a tool's value may fail any attribute read, __class__ too
            return _Raw(exc=value.exc, queued_s=queued_s)
        if not _awaitable(value):
            return _Raw(value, queued_s=queued_s, ran=(started, began[-1]), in_time=waiting, cut=cut)
        if cut is not None:
            raise cut  # before the awaitable it returned ran: the try is cut
        target = value


class _Interrupt:
    """A ``KeyboardInterrupt`` or ``SystemExit`` that a tool raised in its own task (``_timed``)."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


def _abandon(future: asyncio.Future) -> None:
    """Cancel a tool's task that nobody will await. One that ignores its cancellation, then
    raises a ``KeyboardInterrupt`` or ``SystemExit`` (handed over as an ``_Interrupt``), still
    interrupts: out of the event loop, as asyncio raises one from a task."""
    future.cancel()
    future.add_done_callback(_raise_interrupt)


def _raise_interrupt(future: asyncio.Future) -> None:
    if not future.cancelled() and future.exception() is None and type(future.result()) is _Interrupt:
        raise future.result().exc


async def _timed(awaitable: Any, times: list[float]) -> Any:
    """Await ``awaitable``, noting in ``times`` when it starts and ends: in its own task, whenever
    that task's caller hears of it. A ``KeyboardInterrupt`` or ``SystemExit`` it raises comes back
    as an ``_Interrupt``: raised from this task, asyncio would re-raise it out of the event loop at
    once, so that the call awaiting the tool never saw it as its own and could not handle it
    (its other calls were cancelled); the awaiting caller raises it instead."""
    times.append(time.monotonic())
    try:
        return await awaitable
    except _CALLER_INTERRUPTS as exc:
        return _Interrupt(exc)
    finally:
        times.append(time.monotonic())


async def _done_or_timeout(future: asyncio.Future, timeout_s: float | None) -> bool:
    """Wait until ``future`` is done or ``timeout_s`` has passed, whichever comes first: what
    ``asyncio.wait`` does for one future, at about 5 us less per call. (``asyncio.timeout`` would
    cost less still, but it waits in the caller's task, where a tool that swallows its
    cancellation would hold the caller past the timeout.) Returns whether the timer fired while
    ``future`` was not done."""
    if future.done():
        return False
    loop = asyncio.get_running_loop()
    waiter = loop.create_future()
    fired = False

    def wake(_: Any = None) -> None:
        if not waiter.done():
            waiter.set_result(None)

    def expire() -> None:
        nonlocal fired
        fired = not future.done()
        wake()

    future.add_done_callback(wake)
    timer = loop.call_later(timeout_s, expire) if timeout_s is not None else None
    try:
        await waiter
        return fired
    finally:
        future.remove_done_callback(wake)
        if timer is not None:
            timer.cancel()


async def _await_future(future: asyncio.Future, wait: _WorkerWait) -> _Raw:
    """Await a future (a sync tool's, from a worker pool) until ``wait`` is over: cheaper than
    ``asyncio.wait``, which a call of a sync tool through the async driver would pay every time. A
    caller cancelled before a worker started the tool takes it back: it never runs."""
    loop = asyncio.get_running_loop()
    timer: asyncio.TimerHandle | None = None
    over = False

    def arm() -> None:
        nonlocal timer
        timer = None if wait.end is None else loop.call_later(max(wait.end - time.monotonic(), 0.0), expire)

    def expire() -> None:
        nonlocal over
        if wait.expired():
            over = True
            future.cancel()
        else:
            arm()

    arm()
    cut = None
    try:
        outcome = await future
    except asyncio.CancelledError as exc:
        if over:  # our timer, not a cancellation of the caller
            return _Raw(timed_out=True, queued_s=wait.queued_s(), never_ran=wait.never_ran)
        if wait.started() is None and wait.withdraw():
            return _Raw(exc=exc, never_ran="cancelled by its caller before a worker thread was free")
        if not future.done() or future.cancelled():
            raise
        cut = exc  # it came once the tool had ended, before the caller's turn: the outcome is the tool's
        own = future.exception()  # an Executor's future holds the tool's exception
        outcome = _Raw(exc=own) if own is not None else future.result()
    except BaseException as exc:
        return _Raw(exc=exc, queued_s=wait.queued_s())
    finally:
        if timer is not None:
            timer.cancel()
    raw = outcome if isinstance(outcome, _Raw) else _Raw(outcome)  # a ThreadRunner's future holds a _Raw
    raw.queued_s = wait.queued_s()
    raw.cut = cut
    value = raw.value
    if _awaitable(value):  # a sync wrapper around an async tool
        if cut is not None:
            raise cut  # before its async part ran: the try is cut
        return _then(raw, await _await_bounded(lambda: value, _until_s(wait), wait.deadline))
    return raw


def _until_s(wait: _WorkerWait) -> float | None:
    """Seconds left to a try whose tool has started (``wait``'s end, counted from its start)."""
    end = _until(wait.timeout_s, wait.deadline, wait.started() or wait.submitted)
    return None if end is None else max(end - time.monotonic(), 0.0)


_HAS_TIMEOUT = hasattr(asyncio, "timeout")  # Python >= 3.11; before, an inline async tool gets a task too


async def _await_inline(b: Binding, timeout_s: float | None) -> _Raw:
    """Await an ``inline`` async tool in this task for at most ``timeout_s`` (see ``Binding``).

    The caller's cancellation reaches the tool itself: one that swallows it and ends (a value, an
    error of its own) is cut once it has ended, as a tool in a task of its own that ended before
    its caller's turn (``_Raw.cut``): its outcome recorded, then the cancellation raised."""
    started = time.monotonic()
    task = asyncio.current_task()
    cancelling = task.cancelling()  # the caller's cancellations pending before the tool ran
    try:
        if timeout_s is None:
            value = await b.fn(*b.args, **b.kwargs)
        else:
            scope = asyncio.timeout(timeout_s)  # type: ignore[attr-defined]
            try:
                async with scope:
                    value = await b.fn(*b.args, **b.kwargs)
            except TimeoutError:
                if scope.expired():
                    return _Raw(timed_out=True)
                raise  # the tool's own TimeoutError: its failure
    except asyncio.CancelledError:
        if task.cancelling() > cancelling:
            raise  # the caller is cancelled
        # the tool raised it itself: its failure, as for a tool in a task of its own
        return _Raw(exc=asyncio.CancelledError("the tool was cancelled"))
    except BaseException as exc:
        return _Raw(exc=exc, cut=_cancelled_since(task, cancelling))
    cut = _cancelled_since(task, cancelling)
    if _awaitable(value):
        if cut is not None:
            raise cut  # before the awaitable it returned ran: the try is cut
        left = None if timeout_s is None else max(timeout_s - (time.monotonic() - started), 0.0)
        return _then(_Raw(), await _await_bounded(lambda: value, left))  # timed around the whole try
    return _Raw(value, cut=cut)


def _cancelled_since(task: asyncio.Task, cancelling: int) -> asyncio.CancelledError | None:
    """The cancellation of ``task`` requested since it had ``cancelling`` pending, which a tool
    it awaited swallowed (None: none)."""
    return asyncio.CancelledError() if task.cancelling() > cancelling else None


async def run_async(
    loop: Generator[Any, Any, CallReport],
    pool: Any = None,
    semaphore: asyncio.Semaphore | None = None,
) -> CallReport:
    """Drive ``attempt_loop`` from asyncio: async tools are awaited, sync ones run in ``pool`` (a
    ``ThreadRunner`` or a ``concurrent.futures.Executor``; default: the process's ``ThreadRunner``),
    within ``semaphore`` if given."""
    send: Any = None
    throw: BaseException | None = None
    while True:
        try:
            action = loop.throw(throw) if throw is not None else loop.send(send)
        except StopIteration as stop:
            return stop.value
        send, throw = None, None
        try:
            if isinstance(action, _Try):
                if semaphore is not None:
                    send = await _call_in_turn(action, pool, semaphore)
                else:
                    send = await _call_async(action, pool)
            else:
                await asyncio.sleep(action)
        except BaseException as exc:  # cancelled while waiting: the loop records and re-raises
            throw = exc


async def _call_in_turn(action: _Try, pool: Any, semaphore: asyncio.Semaphore) -> _Raw:
    """``_call_async`` once ``semaphore`` lets the call in. The wait is the caller's queue, not the
    tool's latency (the loop subtracts it), and a call cut while it waits never reached its tool."""
    queued = time.perf_counter()
    try:
        await semaphore.acquire()
    except BaseException as exc:  # no try of the tool: the loop re-raises it without recording one
        return _Raw(exc=exc, never_ran="cancelled by its caller before its turn")
    waited = time.perf_counter() - queued
    try:
        raw = await _call_async(action, pool)
    except BaseException:  # cut while its tool ran: the wait for its turn is not the tool's time
        action.queued_s += waited
        raise
    finally:
        semaphore.release()
    raw.queued_s += waited
    return raw


async def _call_async(action: _Try, pool: Any) -> _Raw:
    b = action.binding
    if b.is_async and b.inline and _HAS_TIMEOUT:
        return await _await_inline(b, action.left_s())
    if b.is_async:
        return await _await_bounded(functools.partial(b.fn, *b.args, **b.kwargs), action.left_s(), action.deadline)
    if b.inline:
        try:
            value = b.fn(*b.args, **b.kwargs)
        except BaseException as exc:
            return _Raw(exc=exc)
        if not _awaitable(value):
            return _Raw(value)
        # measured around the whole try, the sync part (in this thread) with the awaited one
        return _then(_Raw(), await _await_bounded(lambda: value, action.left_s(), action.deadline))
    elif pool is None or isinstance(pool, ThreadRunner):  # with less bookkeeping than an executor
        runner = pool or default_runner()
        submitted = time.monotonic()
        future, job = runner._future(b.fn, b.args, b.kwargs)
        wait = runner._wait(job, action.timeout_s, action.deadline, submitted)
    else:  # an Executor: when its worker starts the tool is known from inside the call
        context = contextvars.copy_context()
        started: list[float] = []

        def call() -> _Raw:
            start = time.monotonic()
            started.append(start)
            value = context.run(b.fn, *b.args, **b.kwargs)
            return _Raw(value, ran=(start, time.monotonic()))

        wait = _WorkerWait(action.timeout_s, action.deadline, time.monotonic(), lambda: started[0] if started else None)
        job = pool.submit(call)
        wait.withdraw = job.cancel  # taken back only if it has not started
        future = asyncio.wrap_future(job)
    try:
        return await _await_future(future, wait)
    except BaseException:  # cut while its tool ran: the wait for a worker thread is not the tool's time
        action.queued_s += wait.queued_s()
        raise
