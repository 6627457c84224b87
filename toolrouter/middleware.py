"""Turn an agent's plain functions into routed tools.

Register functions (sync or async) as tools serving a capability; then call the capability, not a
tool: the router ranks the tools, and the one attempt loop of ``toolrouter.attempts`` (the plan
executor's too) calls them in that order: each try bounded by a timeout (30 s by default; a tool
that hangs cannot hold the call), a failure falling back to the next tool, and, when configured,
retries with backoff and circuit breakers. Every attempt is recorded with the router (and its store), whatever the tool
did; the call returns the first successful result, or raises ``AllToolsFailedError`` holding every
attempt. A call its caller cancels (its asyncio task) or interrupts (Ctrl-C, ``SystemExit``) records
the try in flight with the error ``CANCELLED_BY_CALLER`` and re-raises; the router does not learn
from that try, the caller's choice and no outcome of the tool.

A tool may report more than success: return ``ToolOutput(value, quality=..., cost=...,
latency_s=...)`` to override the measured or profiled numbers, or raise ``ToolFailure(..., cost=...,
latency_s=...)`` to fail with them. Otherwise quality is 1.0 on success (or ``quality(result)`` if
registered with a quality function), cost is the profile's ``cost_per_use`` and latency is measured.
Numbers a tool reports that are not finite, negative, or a quality outside [0, 1], and a quality
function that raises or returns such a number, make the attempt a failure of that tool. Arguments
that fit the signature of no function serving the capability are the caller's mistake, not a failure
of each tool: the call raises ``TypeError`` naming them before the router ranks it, and records nothing.

Options, from the widest to the narrowest (each overrides the one before):
``ToolMiddleware(config=...)`` (timeouts, retries, circuit breakers; by default no retries, since the
next tool is the retry, and no breakers: see ``MIDDLEWARE_CONFIG``, which a mapping updates and an
``ExecutorConfig`` replaces), ``register(..., timeout_s=...)`` per tool, and
``route(capability, timeout_s=..., deadline_s=..., retry=...)`` per call (``deadline_s`` bounds the
whole call, fallbacks included).

Example:
    >>> from toolrouter import ToolMiddleware
    >>> tools = ToolMiddleware(seed=0)
    >>> @tools.tool("search", cost_per_use=0.01)
    ... def web_search(query: str) -> str:
    ...     return f"results for {query}"
    >>> def broken_search(query: str) -> str:
    ...     raise ConnectionError("down")
    >>> profile = tools.register(broken_search, "search", reliability=0.5)
    >>> tools.call("search", "bandits")
    'results for bandits'
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from toolrouter._checks import check_count, check_options, check_real
from toolrouter.attempt_group import GroupMember
from toolrouter.attempts import (
    Binding,
    CallReport,
    CallSpec,
    CircuitBreaker,
    CircuitBreakers,
    ExecutorConfig,
    RetryPolicy,
    ThreadRunner,
    ToolFailure,
    ToolOutput,
    attempt_loop,
    check_callback,
    checked_config,
    is_async_callable,
    is_generator_callable,
    run_async,
    run_sync,
)
from toolrouter.errors import AllToolsFailedError, DuplicateToolError, NoToolForCapabilityError, UnknownToolError
from toolrouter.in_flight import Entered
from toolrouter.learner import ToolMetaLearner
from toolrouter.logging import EventLog
from toolrouter.models import ANY_CAPABILITY, ExecutionResult, ToolProfile, ToolType, UtilityWeights, _identifier, check_conversation_id, checked_weights
from toolrouter.serialization import short_repr
from toolrouter.structure import DEFAULT_STEP, check_trace_id

__all__ = ["ToolOutput", "ToolFailure", "CallOutcome", "ClosesWhatItBuilt", "RoutedCall", "ToolMiddleware", "MIDDLEWARE_CONFIG"]

log = EventLog(__name__)

_TYPE_OF_CAPABILITY = {t.value: t for t in ToolType}

#: The middleware's default: the executor's timeouts; no retries of a tool (falling back to the
#: next-ranked tool is the retry) and no circuit breakers. The router already moves traffic away
#: from a tool that fails (a timed-out try scores its whole latency), while a breaker counting
#: failures in a row takes a flaky but useful tool out entirely, and with it what the router would
#: learn; give ``circuit_breaker=CircuitBreakerConfig(...)`` for tools that go down hard.
MIDDLEWARE_CONFIG = ExecutorConfig(retry=RetryPolicy(max_retries=0), circuit_breaker=None)


@dataclass(frozen=True)
class CallOutcome:
    """A routed call that succeeded: the value, the tool that produced it, and every attempt."""

    value: Any
    tool_id: str
    attempts: tuple[ExecutionResult, ...]


@dataclass(frozen=True)
class _Registered:
    profile: ToolProfile
    fn: Callable[..., Any]
    is_async: bool
    quality: Callable[[Any], float] | None
    timeout_s: float | None = None
    inline: bool = False
    #: whether ``fn`` takes a call's arguments, by their shape (``_shape``): read from its signature once
    fits: dict[tuple[int, tuple[str, ...]], bool] = field(default_factory=dict, compare=False, repr=False)

    def takes(self, shape: tuple[int, tuple[str, ...]]) -> bool:
        """Whether ``fn``'s signature takes arguments of this shape (True when it has none to read)."""
        fits = self.fits.get(shape)
        if fits is None:
            if len(self.fits) >= 64:  # keyword names are the caller's: keep the cache bounded
                self.fits.clear()
            fits = self.fits[shape] = _takes(self.fn, shape)
        return fits


@dataclass(frozen=True)
class RoutedCall:
    """A capability bound to routing options; call it like the tool (``routed(*args)``) or await
    ``routed.acall(*args)``. Made by ``ToolMiddleware.route``, which validates the options; frozen,
    so that no option is set afterwards past those checks (route again for other options)."""

    middleware: "ToolMiddleware"
    capability: str
    task_type: str = "default"
    context: str | None = None
    features: Sequence[float] | None = None
    max_attempts: int | None = None
    weights: UtilityWeights | None = None
    timeout_s: float | None = None
    deadline_s: float | None = None
    config: ExecutorConfig | None = None  # None: the middleware's
    trace_id: str | None = None
    step: str | None = None  # in a trace: the step's name (None: the capability)
    depends_on: tuple[str, ...] | None = None
    group: GroupMember | None = None  # its attempts are recorded when the group commits
    conversation_id: str | None = None  # in a trace: the conversation its task is a turn of

    @classmethod
    def _of_checked(cls, **fields: Any) -> "RoutedCall":
        """One of the fields ``route`` checked, set at once: a frozen dataclass's ``__init__`` sets
        each through ``object.__setattr__``, which doubled the cost of ``route``."""
        call = object.__new__(cls)
        vars(call).update(fields)
        return call

    @property
    def _step(self) -> str:
        # a "*" call (any tool) is the router's any-tool step, traced or not, as the router names it
        return self.step or (DEFAULT_STEP if self.capability == ANY_CAPABILITY else self.capability)

    # ``self`` positional-only in these four: a tool may have a parameter named ``self`` too
    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        # run() without building its CallOutcome: only the value is wanted
        report = self._run_sync(args, kwargs)
        if report.succeeded:
            return report.value
        raise self.middleware._failure(self, report)

    async def acall(self, /, *args: Any, **kwargs: Any) -> Any:
        """Await the routed call and return the tool's value."""
        return (await self.arun(*args, **kwargs)).value

    def run(self, /, *args: Any, **kwargs: Any) -> CallOutcome:
        """Call synchronously: sync tools run in a worker thread (inline when the timeout is
        ``None`` and the call has no ``deadline_s``, or the tool was registered ``inline=True``),
        async ones on a new event loop (not from inside a running loop: use ``arun``)."""
        return self.middleware._outcome(self, self._run_sync(args, kwargs))

    async def arun(self, /, *args: Any, **kwargs: Any) -> CallOutcome:
        """Call from asyncio: async tools are awaited, sync ones run in a worker thread (unless
        registered ``inline=True``), whatever the timeout."""
        middleware = self.middleware
        entered = middleware._enter()
        try:
            report = await run_async(attempt_loop(middleware._spec(self, args, kwargs, sync=False)), middleware._runner)
        finally:
            middleware._exit(entered)
        return middleware._outcome(self, report)

    def _run_sync(self, args: tuple, kwargs: dict) -> CallReport:
        """The attempt loop of one synchronous call, counted in flight while it runs."""
        middleware = self.middleware
        entered = middleware._enter()
        try:
            return run_sync(attempt_loop(middleware._spec(self, args, kwargs, sync=True)), middleware._runner)
        finally:
            middleware._exit(entered)


_Self = TypeVar("_Self", bound="ClosesWhatItBuilt")


class ClosesWhatItBuilt:
    """``close()`` closes the object this one built for itself (``_built``), never one passed in,
    which is its owner's to close; ``with`` closes it on the way out."""

    _built: Any = None  # set by the subclass: what it built, or None when it was given one

    def close(self) -> None:
        """Close what this object built (see the class's docstring); also ``with ... as x:``."""
        if self._built is not None:
            self._built.close()

    def __enter__(self: _Self) -> _Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class ToolMiddleware(ClosesWhatItBuilt):
    """Registry of an agent's tool functions, routed by a ``ToolMetaLearner``.

    Arguments:
        learner: the router (default: a new ``ToolMetaLearner`` built with ``learner_options``).
        task_type: the task type of calls that do not give one.
        max_attempts: at most this many tools per call (default: every candidate).
        config: ``ExecutorConfig``: timeouts, retries and circuit breakers of every call (default
            ``MIDDLEWARE_CONFIG``: 30 s a try, no retries, no circuit breakers). A mapping updates
            the fields of those defaults it names (``{"timeout_s": 5}`` keeps no retries and no
            breakers; a field it names is replaced whole: ``{"retry": {"base_delay_s": 1}}`` is a
            ``RetryPolicy`` of its own, one retry); an ``ExecutorConfig`` replaces them whole (its
            own defaults: one retry, circuit breakers).
            Either is checked as ``ExecutorConfig``'s constructor checks it, one made with
            ``model_copy(update=...)`` too (pydantic's ``ValidationError`` names a bad field).
        max_workers: threads for sync tools at once, in a pool of this middleware's own (default
            ``None``: the process's shared pool of 64). A try's timeout counts from when a worker
            starts its tool: the wait for a free worker is bounded by the call's ``deadline_s``,
            and a try that never got a worker is not the tool's failure (nothing recorded).
        learner_options: passed to ``ToolMetaLearner`` when ``learner`` is ``None``
            (``seed=``, ``policy=``, ``store=``...).

    ``close()`` (or ``with ToolMiddleware(...) as tools:``) closes the router it built (the store it
    opened from a URL, its connections and threads; the executor it keeps); a router passed in as
    ``learner``, or a ``Store`` passed as ``store=``, is its owner's to close. Calls and
    registrations after closing fail, before any tool runs. Calls in flight end as they would
    have, their attempts recorded: ``close()`` waits for them (each bounded by its timeout), or,
    called where it would wait for ever (from a tool of one of these calls, or on a thread running
    an event loop), returns at once and the last of them closes the router. A router passed in
    does the same when its owner closes it (``ToolMetaLearner.close``), and registrations
    through this middleware are refused from then on, as after its own ``close()``.

    Thread-safe, like the learner: threads may call, register and unregister through one
    middleware at once. An attempt that started is recorded, and its result returned, even if its
    tool is unregistered meanwhile.

    On a store, the README's pattern resumes: a new process that opens the same store and
    registers the same functions (by the same ids) continues from what earlier processes learned,
    whether or not they saved a snapshot; registering a tool the store already knows binds the
    function to it and takes the new profile.

    Example:
        >>> import asyncio
        >>> tools = ToolMiddleware(seed=0)
        >>> @tools.tool("math")
        ... async def add(a: int, b: int) -> int:
        ...     return a + b
        >>> asyncio.run(tools.acall("math", 2, 3))
        5
    """

    def __init__(
        self,
        learner: ToolMetaLearner | None = None,
        *,
        task_type: str = "default",
        max_attempts: int | None = None,
        config: ExecutorConfig | None = None,
        max_workers: int | None = None,
        **learner_options: Any,
    ) -> None:
        if learner is not None and learner_options:
            raise TypeError(f"learner_options: give a learner or options for a new one, not both; got {sorted(learner_options)}")
        if learner is not None and not isinstance(learner, ToolMetaLearner):
            # a store URL given in its place is the likely mistake: every later call would fail on it
            raise TypeError(
                f"learner: expected a ToolMetaLearner or None, got {short_repr(learner)}; "
                "a new router's options go by name (store=..., seed=...)"
            )
        if learner is not None and learner.closed:  # every call and registration would be refused
            raise ValueError(f"learner: {learner!r} was closed (ToolMetaLearner.close()); give an open router")
        self._config = checked_config(config, MIDDLEWARE_CONFIG)
        self.task_type = _check_name("task_type", task_type)
        self.max_attempts = _check_max_attempts(max_attempts)
        self._runner = None if max_workers is None else ThreadRunner(max_workers=max_workers)  # None: the shared one
        self.learner = learner if learner is not None else ToolMetaLearner(**learner_options)
        self._built = None if learner is not None else self.learner  # close() closes only a router it built
        self._breakers = CircuitBreakers(self._config.circuit_breaker)
        self._jitter = random.Random(self._config.seed)  # the backoff jitter's, as a PlanExecutor's
        self._tools: dict[str, _Registered] = {}
        self._async_tools: set[str] = set()  # ids of the async ones: a sync call checks for them
        self._timeouts: dict[str, float] = {}  # per-tool timeouts given at registration
        self._lock = threading.Lock()  # registrations; calls read the registry without it
        self._ids = itertools.count(1)
        self._closing = False  # close() was called: calls are refused

    @property
    def config(self) -> ExecutorConfig:
        """Timeouts, retries and circuit breakers of every call, fixed when the middleware is made
        (its breakers and backoff jitter are built from it: a config set later would apply in part);
        per call, ``route(..., timeout_s=..., retry=...)``."""
        return self._config

    # --- registration -------------------------------------------------------------------------
    def register(
        self,
        fn: Callable[..., Any],
        capability: str | Sequence[str],
        *,
        tool_id: str | None = None,
        cost_per_use: float = 0.0,
        reliability: float = 0.9,
        expected_latency_s: float = 1.0,
        tool_type: ToolType | str | None = None,
        description: str | None = None,
        quality: Callable[[Any], float] | None = None,
        timeout_s: float | None = None,
        inline: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> ToolProfile:
        """Register ``fn`` as a tool serving ``capability`` (one or several) and return its
        profile. ``tool_id`` defaults to the function's name; ``quality(result)`` scores a
        successful result in [0, 1]; ``timeout_s`` overrides the configured timeout for this tool;
        ``inline=True`` runs a sync tool in the calling thread, never in a worker (for a tool bound
        to its thread, such as one holding an SQLite connection), so no timeout can stop it (a value
        it returns past its timeout is a timeout failure all the same); an
        async tool is awaited in the calling task, not in a task of its own (cheaper, for a tool
        that gives in to its cancellation: one that swallows it holds the caller past its timeout).

        A generator function (sync or async) raises ``TypeError``: its call runs none of its body,
        so a tool returns its items instead (a function that returns a generator, a decorator's
        wrapper around one, fails each attempt with ``TypeError``). A tool id this middleware already has a function for
        raises ``DuplicateToolError``. A tool the router knows without a function here (resumed
        from a store, or added to the router directly) gets this function and this profile,
        keeping what was learned about it.
        """
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {fn!r}")
        if isinstance(capability, str) or not isinstance(capability, Sequence):
            capabilities: Any = capability  # one name, or something the profile's validation names
        else:
            capabilities = tuple(capability)
        if tool_type is None:
            first = capabilities[0] if isinstance(capabilities, tuple) and capabilities else capabilities
            tool_type = _TYPE_OF_CAPABILITY.get(first, ToolType.OTHER) if isinstance(first, str) else ToolType.OTHER
        if tool_id is None and not isinstance(getattr(fn, "__name__", None), str):
            raise ValueError(f"tool_id: {fn!r} has no __name__ to take the id from (a functools.partial?); pass tool_id=")
        profile = ToolProfile(
            tool_id=tool_id if tool_id is not None else fn.__name__,
            tool_type=tool_type,
            capabilities=capabilities,
            cost_per_use=cost_per_use,
            reliability=reliability,
            expected_latency_s=expected_latency_s,
            description=description if description is not None else docstring_of(fn),
            metadata=metadata or {},
        )
        if capabilities == ():  # the profile would serve its tool type's capability instead
            raise ValueError(f"capability: give at least one capability for tool {profile.tool_id!r}, got []")
        reg = _registered(profile, fn, quality, timeout_s, inline)
        with self._lock:
            self._check_open()
            if profile.tool_id in self._tools:
                raise DuplicateToolError(f"tool_id: {profile.tool_id!r} is already registered")
            if profile.tool_id in self.learner.tools:
                self.learner.update_tool(profile)  # resumed: keep what was learned, take the new profile
            else:
                self.learner.add_tool(profile)
            self._add(reg)
        return profile

    def attach(
        self,
        fn: Callable[..., Any],
        tool_id: str,
        *,
        quality: Callable[[Any], float] | None = None,
        timeout_s: float | None = None,
        inline: bool = False,
        replace: bool = False,
    ) -> ToolProfile:
        """Bind ``fn`` to a tool the router already knows (for example one resumed from a store),
        keeping what was learned about it and its profile. Returns the tool's profile.

        A tool this middleware already has a function for raises ``DuplicateToolError``, as in
        ``register``; ``replace=True`` binds ``fn`` in its place (a new version of the function),
        still keeping what was learned. Calls already running the old function finish with it."""
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {fn!r}")
        if not isinstance(replace, bool):
            raise TypeError(f"replace: expected True or False, got {replace!r}")
        _check_tool_id(tool_id)
        with self._lock:
            self._check_open()
            try:
                profile = self.learner.tools[tool_id]
            except KeyError:
                raise UnknownToolError(tool_id) from None
            if tool_id in self._tools and not replace:
                raise DuplicateToolError(
                    f"tool_id: {tool_id!r} already has a function; pass replace=True to bind this one in its place"
                )
            self._add(_registered(profile, fn, quality, timeout_s, inline))
        return profile

    def tool(self, capability: str | Sequence[str], **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of ``register``; the function is returned unchanged.

        The capability is required (``@tools.tool("search")``): a bare ``@tools.tool`` raises
        ``TypeError`` here, instead of replacing the function by this decorator and registering
        nothing."""
        if callable(capability):
            raise TypeError(
                f"capability: expected a capability name or a list of them, got the function {short_repr(capability)}; "
                'give it: @tools.tool("search")'
            )

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register(fn, capability, **options)
            return fn

        return decorate

    def unregister(self, tool_id: str) -> None:
        """Remove a tool from the middleware and the router (one removed from the router already,
        by ``ToolMetaLearner.remove_tool``, loses its function here). Calls already running it
        finish, and their attempts are recorded."""
        _check_tool_id(tool_id)
        with self._lock:
            self._check_open()  # a closed router would forget the tool, its store not
            if tool_id not in self._tools:
                raise UnknownToolError(tool_id)
            if tool_id in self.learner.tools:  # else removed from the router directly: only its function is left
                self.learner.remove_tool(tool_id)
            self._drop(tool_id)

    def detach(self, tool_id: str) -> None:
        """Unbind the function of a tool (what ``register`` or ``attach`` bound), the router
        keeping the tool and what was learned about it, as it keeps a tool resumed from a store
        until ``attach``. Calls already running the function finish with it."""
        _check_tool_id(tool_id)
        with self._lock:
            if tool_id not in self._tools:
                raise UnknownToolError(tool_id)
            self._drop(tool_id)

    def _drop(self, tool_id: str) -> None:
        del self._tools[tool_id]
        self._async_tools.discard(tool_id)
        self._timeouts.pop(tool_id, None)

    def _add(self, reg: _Registered) -> None:
        tool_id = reg.profile.tool_id
        self._tools[tool_id] = reg
        if reg.is_async:
            self._async_tools.add(tool_id)
        else:
            self._async_tools.discard(tool_id)
        if reg.timeout_s is None:
            self._timeouts.pop(tool_id, None)
        else:
            self._timeouts[tool_id] = reg.timeout_s

    @property
    def tool_ids(self) -> list[str]:
        """Ids of the tools with a registered function."""
        return list(self._tools)

    def function(self, tool_id: str) -> Callable[..., Any]:
        """The function bound to ``tool_id`` (by ``register`` or ``attach``); ``UnknownToolError``
        when it has none here."""
        _check_tool_id(tool_id)
        reg = self._tools.get(tool_id)
        if reg is None:
            raise UnknownToolError(tool_id)
        return reg.fn

    @property
    def breakers(self) -> dict[str, CircuitBreaker]:
        """The circuit breakers of the tools called so far, by tool id."""
        return self._breakers.snapshot()

    # --- calls --------------------------------------------------------------------------------
    def route(
        self,
        capability: str,
        *,
        task_type: str | None = None,
        context: str | None = None,
        features: Sequence[float] | None = None,
        max_attempts: int | None = None,
        weights: UtilityWeights | Mapping[str, float] | None = None,
        timeout_s: float | None = None,
        deadline_s: float | None = None,
        retry: RetryPolicy | Mapping[str, Any] | None = None,
        trace_id: str | None = None,
        step: str | None = None,
        depends_on: Sequence[str] | None = None,
        group: GroupMember | None = None,
        conversation_id: str | None = None,
    ) -> RoutedCall:
        """``capability`` with routing options, as a callable: ``context`` (text, for contextual
        policies; with drift detection, a router without a context knows each request by it) or
        ``features``, ``task_type``, utility ``weights``, at most ``max_attempts``
        tools, ``timeout_s`` per try (over the configured and per-tool ones), ``deadline_s`` for
        the whole call, ``retry`` (a ``RetryPolicy``) per tool. Every option is checked here, before
        any tool runs.

        Calls that serve one request are a *trace* when they share a ``trace_id``: the router
        learns the task type's structure from it (``ToolMetaLearner.learn_from_execution``) and
        plans later tasks of that type without declared steps. Each call is the step ``step``
        (default: its capability; ``"main"`` for ``"*"``, which any tool may serve), consuming the outputs of the earlier steps ``depends_on``
        (default: the step before it in the trace); ``context`` is the request's text, and
        ``conversation_id`` the conversation the request is a turn of (``TaskProfile.conversation_id``:
        the router learns what conversations run again, and plans their later tasks knowing it).

        With ``group`` (a member of a ``toolrouter.attempt_group.AttemptGroup``) each attempt is
        checked as it ends and recorded when the group commits, in one store transaction with the
        other calls' attempts: the caller commits the group before it uses the call's result.
        A trace's steps are recorded one by one (each is checked against the steps before it), so
        a traced call takes no group.
        """
        if group is not None:
            if not isinstance(group, GroupMember):
                raise TypeError(f"group: expected a GroupMember (AttemptGroup.join()), got {group!r}")
            if group.group.learner is not self.learner:
                raise ValueError(f"group: {group.group!r} records with another router than this middleware's")
            if trace_id is not None:
                raise ValueError(f"group: a traced call (trace_id={trace_id!r}) records each step at once; route it without a group")
        config = self._config
        if retry is not None:
            config = config.model_copy(update={"retry": check_options("retry", RetryPolicy, retry)})
        if weights is not None:
            weights = checked_weights(weights)
        if features is not None:
            self.learner._context(features, None)  # checked as each call will check them, but now
        return RoutedCall._of_checked(
            middleware=self,
            capability=_check_name("capability", capability),
            task_type=self.task_type if task_type is None else _check_name("task_type", task_type),
            context=_check_context(context),
            features=features,
            max_attempts=_check_max_attempts(max_attempts) or self.max_attempts,
            weights=weights,
            timeout_s=_check_seconds("timeout_s", timeout_s),
            deadline_s=_check_seconds("deadline_s", deadline_s),
            config=config,
            trace_id=_check_trace(trace_id, step, depends_on),
            step=None if step is None else _check_name("step", step),
            depends_on=None if depends_on is None else _check_depends_on(depends_on),
            group=group,
            conversation_id=None if conversation_id is None else _check_conversation(trace_id, conversation_id),
        )

    def call(self, capability: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call the best tool for ``capability`` with these arguments, falling back on failure."""
        return self.route(capability)(*args, **kwargs)

    async def acall(self, capability: str, /, *args: Any, **kwargs: Any) -> Any:
        """Async form of ``call``."""
        return await self.route(capability).acall(*args, **kwargs)

    def close(self) -> None:
        """Close the router this middleware built (see the class's docstring): refuse new calls,
        let the calls in flight end and record their attempts, then close it."""
        try:
            if self._built is not None:  # a router passed in is its owner's to close, and calls go on
                self._closing = True
                super().close()  # the router lets the calls in flight end first (ToolMetaLearner.close)
        finally:
            if self._runner is not None:  # last: the workers of the calls it waited for are idle now
                self._runner.close()  # its idle workers leave now (it stays usable)

    # --- internals ----------------------------------------------------------------------------
    def _enter(self) -> Entered:
        """Count a call in flight with the router (refused once ``close`` was called on either)."""
        if self._closing:
            self._check_open()
        learner = self.learner
        return learner._calls.enter(learner._refused)

    def _check_open(self) -> None:
        """Refuse to call or change tools once ``close`` was called, on this middleware or on a
        router passed in by its owner: nothing could record them."""
        if self._closing:
            store = self.learner.store
            where = "ToolMiddleware" if store is None else f"store {store.url!r}"
            raise ValueError(f"{where}: closed by ToolMiddleware.close(); make a new middleware")
        if self.learner.closed:
            raise self.learner._refused()

    def _exit(self, entered: Entered) -> None:
        """A call counted by ``_enter`` ended (the last one after a close may close the router)."""
        self.learner._calls.exit(entered)

    def _spec(self, call: RoutedCall, args: tuple, kwargs: dict, *, sync: bool) -> CallSpec:
        """The attempt loop's view of one call: the ranking, how to call each tool, how to record."""
        task_id = f"call-{next(self._ids)}"
        learner = self.learner
        step = call._step
        if call.trace_id is not None:  # a step the trace refuses fails now, before it is ranked (making its route)
            learner.check_trace_step(
                call.trace_id, step, call.capability, call.depends_on, "route", task_type=call.task_type,
                conversation_id=call.conversation_id,
            )
        tools = self._tools
        shape = _shape(args, kwargs)
        async_refused = sync and self._async_tools and asyncio._get_running_loop() is not None

        def check(tool_ids: Sequence[str]) -> None:
            # misuses, not failures of a tool: refused before anything runs, or is even ranked
            if async_refused:
                async_ids = [t for t in tool_ids if t in self._async_tools]
                if async_ids:
                    raise RuntimeError(
                        f"tool_id: {async_ids[0]!r} is async and an event loop is running in this thread; "
                        "use acall / arun instead of call"
                    )
            first = tools.get(tool_ids[0])
            if first is not None and first.takes(shape):  # the common case
                return
            regs = [reg for reg in map(tools.get, tool_ids) if reg is not None]
            if not regs:
                raise NoToolForCapabilityError(f"capability: no registered function serves {call.capability!r}")
            if not any(reg.takes(shape) for reg in regs):
                # the caller's mistake, not a failure of each tool in turn; refused before the
                # ranking, which could claim a due recheck whose outcome would never come
                raise TypeError(
                    f"arguments: {short_repr(args)} and {short_repr(kwargs)} fit no tool serving "
                    f"{call.capability!r} (none of {short_repr([reg.profile.tool_id for reg in regs])} takes them)"
                )

        if call.trace_id is None and call.group is None:
            # the router records this call's attempts with the names and request it ranked by
            ranked, record = learner._rank_call(
                call.capability, call.task_type, call.context, call.features, call.weights, task_id, check, tools
            )
        else:  # ranked by the route of the step it records at (a trace's step may have a name of its own)
            ranked = learner._rank_ids(
                call.capability, call.task_type, step, call.context, call.features, task_id, check, tools
            )
            record = self._recorder(call, task_id)
        # a tool the router knows but this middleware has no function for is not callable here
        candidates = (t for t in ranked if t in tools)
        config = call.config or self._config

        def bind(tool_id: str, attempt: int) -> Binding | None:
            reg = tools.get(tool_id)
            if reg is None:
                return None
            # the router's profile now: a cost corrected since registration (update_tool) is charged
            profile = learner._tools.get(tool_id) or reg.profile
            # by position, as CallSpec below (check: None)
            return Binding(reg.fn, args, kwargs, reg.is_async, profile.cost_per_use, None, reg.quality, reg.inline)

        return CallSpec(  # the required fields by position (the names match): each keyword costs a lookup
            step,
            candidates,
            bind,
            record,
            config,
            breakers=self._breakers if config.circuit_breaker is not None else None,
            rng=self._jitter,
            timeout_s=call.timeout_s,
            tool_timeouts_s=self._timeouts,
            deadline=None if call.deadline_s is None else time.monotonic() + call.deadline_s,
            max_tools=call.max_attempts,
        )

    def _recorder(self, call: RoutedCall, task_id: str) -> Callable[[ExecutionResult], None]:
        """How a call in a trace or a group records each attempt (checked against the trace's
        steps, or held for the group's commit)."""
        learner = self.learner
        save = learner.record_attempt if call.group is None else _grouped(learner, call.group)
        step = call._step

        def record(result: ExecutionResult) -> None:
            if call.depends_on is not None:
                result = result.model_copy(update={"depends_on": call.depends_on})
            save(
                result,
                capability=call.capability,
                task_type=call.task_type,
                step=step,
                task_id=task_id,
                context=call.context,
                features=call.features,
                weights=call.weights,
                trace_id=call.trace_id,
                conversation_id=call.conversation_id,
            )

        return record

    def _outcome(self, call: RoutedCall, report: CallReport) -> CallOutcome:
        if report.succeeded:
            return CallOutcome(value=report.value, tool_id=report.tool_id or "", attempts=tuple(report.attempts))
        raise self._failure(call, report)

    @staticmethod
    def _failure(call: RoutedCall, report: CallReport) -> AllToolsFailedError:
        log.info("all_tools_failed", capability=call.capability, attempts=len(report.attempts))
        # tools, not attempts: a tool's retries are attempts of one tool, and none may have run
        tools = len({a.tool_id for a in report.attempts})
        retried = f" ({len(report.attempts)} attempts)" if len(report.attempts) > tools else ""
        failed = f"{f'all {tools} tools' if tools > 1 else '1 tool'} failed{retried}: " if tools else ""
        return AllToolsFailedError(
            f"capability {call.capability!r}: {failed}{report.failure_summary()}", report.attempts, report.skipped
        )


def _grouped(learner: ToolMetaLearner, group: GroupMember) -> Callable[..., Any]:
    """``record_attempt`` for a call in ``group``: checked now, recorded when the group commits."""

    def record(result: ExecutionResult, **options: Any) -> None:
        group.add(learner.check_attempt(result, **options))

    return record


def _registered(
    profile: ToolProfile,
    fn: Callable[..., Any],
    quality: Callable[[Any], float] | None,
    timeout_s: float | None,
    inline: bool,
) -> _Registered:
    if quality is not None and not callable(quality):
        raise TypeError(f"quality: expected a callable result -> float, got {quality!r}")
    check_callback("quality", quality)  # an async one's score is a coroutine: every success a failure
    if not isinstance(inline, bool):
        raise TypeError(f"inline: expected True or False, got {inline!r}")
    if is_generator_callable(fn):
        # calling one runs none of its body: the call would "succeed" with the generator object
        raise TypeError(
            f"fn: tool {profile.tool_id!r} is a generator function ({fn!r}), whose call returns a generator "
            "without running it; make the tool return its items (a list, say)"
        )
    is_async = is_async_callable(fn)
    return _Registered(profile, fn, is_async, quality, _check_seconds("timeout_s", timeout_s), inline)


def docstring_of(fn: Callable[..., Any]) -> str:
    """A tool's docstring ("" for none): of a ``functools.partial``, its function's
    (``inspect.getdoc`` gives ``partial``'s own, which would describe every such tool alike); of a
    callable object without one, its ``__call__``'s. The same places a signature is read from."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    doc = inspect.getdoc(fn)
    if doc is None and not (inspect.isroutine(fn) or isinstance(fn, type)):
        doc = inspect.getdoc(type(fn).__call__)
    return doc or ""


def _shape(args: tuple, kwargs: dict) -> tuple[int, tuple[str, ...]]:
    """What a signature's binding of these arguments depends on: how many are positional, and the
    keywords' names."""
    return len(args), tuple(kwargs)


def _takes(fn: Callable[..., Any], shape: tuple[int, tuple[str, ...]]) -> bool:
    """Whether ``fn``'s signature takes arguments of this shape (True when it has none to read)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return True
    n, names = shape
    try:
        signature.bind(*(None,) * n, **dict.fromkeys(names))
    except TypeError:
        return False
    return True


def _check_tool_id(value: Any) -> None:
    # a tool id is a dictionary key: a list failed as "unhashable type", naming nothing
    if not isinstance(value, str):
        raise TypeError(f"tool_id: expected a string, got {short_repr(value)}")


def _check_max_attempts(value: int | None) -> int | None:
    return None if value is None else check_count("max_attempts", value, low=1)


def _check_seconds(name: str, value: float | None) -> float | None:
    return None if value is None else check_real(name, value, low=0, high=10**6, low_open=True)


def _check_name(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name}: expected a non-empty string, got {value!r}")
    if not value.isascii() or "\x00" in value:
        _identifier(name, value)  # a name no store can keep: refused here, not at each call
    return value


def _check_conversation(trace_id: Any, conversation_id: Any) -> str:
    if trace_id is None:  # its traces are what the router learns of a conversation
        raise ValueError(f"trace_id: conversation_id={conversation_id!r} names the conversation of a trace; give its trace_id too")
    return check_conversation_id(conversation_id)


def _check_trace(trace_id: Any, step: Any, depends_on: Any) -> str | None:
    if trace_id is None:
        if step is not None or depends_on is not None:
            raise ValueError(
                f"trace_id: step={step!r} and depends_on={depends_on!r} name steps of a trace; give its trace_id too"
            )
        return None
    return check_trace_id(trace_id)


def _check_depends_on(value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError(f"depends_on: expected a list of step names, got {value!r}")
    names = tuple(value)
    for name in names:
        _check_name("depends_on", name)
    if len(set(names)) != len(names):
        raise ValueError(f"depends_on: step names must be unique, got {list(names)!r}")
    return names


def _check_context(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"context: expected request text or None, got {value!r}")
    return value
