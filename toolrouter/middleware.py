"""Turn an agent's plain functions into routed tools.

Register functions (sync or async) as tools serving a capability; then call the capability, not a
tool: the router picks a tool, the middleware calls it, measures its latency, treats an exception as
a failure and falls back to the next-ranked tool, records every attempt with the router (and its
store), and returns the first successful result, or raises ``AllToolsFailedError`` holding every
attempt.

A tool may report more than success: return ``ToolOutput(value, quality=..., cost=...,
latency_s=...)`` to override the measured or profiled numbers, or raise ``ToolFailure(..., cost=...,
latency_s=...)`` to fail with them. Otherwise quality is 1.0 on success (or ``quality(result)`` if
registered with a quality function), cost is the profile's ``cost_per_use`` and latency is measured.

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
import inspect
import itertools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from toolrouter.errors import AllToolsFailedError, InvalidOutcomeError, NoToolForCapabilityError, UnknownToolError
from toolrouter.learner import ToolMetaLearner
from toolrouter.logging import EventLog
from toolrouter.models import ExecutionResult, ToolProfile, ToolType, UtilityWeights

__all__ = ["ToolOutput", "ToolFailure", "CallOutcome", "RoutedCall", "ToolMiddleware"]

log = EventLog(__name__)

_TYPE_OF_CAPABILITY = {t.value: t for t in ToolType}


@dataclass(frozen=True)
class ToolOutput:
    """What a tool function may return to report its own ``quality`` in [0, 1], ``cost`` or
    ``latency_s`` (``None``: use the default). The caller receives ``value``."""

    value: Any
    quality: float | None = None
    cost: float | None = None
    latency_s: float | None = None


class ToolFailure(Exception):
    """Raise from a tool to fail with a known ``cost`` or ``latency_s`` (any exception is a
    failure; this one carries numbers)."""

    def __init__(self, message: str, *, cost: float | None = None, latency_s: float | None = None) -> None:
        super().__init__(message)
        self.cost = cost
        self.latency_s = latency_s


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


@dataclass
class RoutedCall:
    """A capability bound to routing options; call it like the tool (``routed(*args)``) or await
    ``routed.acall(*args)``. Made by ``ToolMiddleware.route``."""

    middleware: "ToolMiddleware"
    capability: str
    task_type: str = "default"
    context: str | None = None
    features: Sequence[float] | None = None
    max_attempts: int | None = None
    weights: UtilityWeights | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.run(*args, **kwargs).value

    async def acall(self, *args: Any, **kwargs: Any) -> Any:
        """Await the routed call and return the tool's value."""
        return (await self.arun(*args, **kwargs)).value

    def run(self, *args: Any, **kwargs: Any) -> CallOutcome:
        """Call synchronously; async tools are run to completion (not from inside a running loop:
        use ``arun`` there)."""
        mw = self.middleware
        task_id, candidates = mw._candidates(self)
        attempts: list[ExecutionResult] = []
        for reg in candidates:
            if reg.is_async:
                _check_no_running_loop(reg.profile.tool_id)  # a misuse, not a failure of the tool
            t0 = time.perf_counter()
            try:
                if reg.is_async:
                    value = _run_coroutine(reg.fn(*args, **kwargs), reg.profile.tool_id)
                else:
                    value = reg.fn(*args, **kwargs)
                    if inspect.isawaitable(value):
                        value = _run_coroutine(value, reg.profile.tool_id)
            except Exception as exc:  # a tool's exception is a failed attempt, by design
                mw._record(self, task_id, reg, attempts, time.perf_counter() - t0, error=exc)
                continue
            except BaseException as exc:  # interrupted: record the attempt, then let it through
                mw._record(self, task_id, reg, attempts, time.perf_counter() - t0, error=exc)
                raise
            return mw._succeed(self, task_id, reg, attempts, time.perf_counter() - t0, value)
        raise mw._all_failed(self, attempts)

    async def arun(self, *args: Any, **kwargs: Any) -> CallOutcome:
        """Call from asyncio: async tools are awaited, sync ones run in a worker thread."""
        mw = self.middleware
        task_id, candidates = mw._candidates(self)
        attempts: list[ExecutionResult] = []
        for reg in candidates:
            t0 = time.perf_counter()
            try:
                if reg.is_async:
                    value = await reg.fn(*args, **kwargs)
                else:
                    value = await asyncio.to_thread(reg.fn, *args, **kwargs)
                    if inspect.isawaitable(value):
                        value = await value
            except Exception as exc:  # a tool's exception is a failed attempt, by design
                mw._record(self, task_id, reg, attempts, time.perf_counter() - t0, error=exc)
                continue
            except BaseException as exc:  # cancelled or interrupted: record, then propagate
                mw._record(self, task_id, reg, attempts, time.perf_counter() - t0, error=exc)
                raise
            return mw._succeed(self, task_id, reg, attempts, time.perf_counter() - t0, value)
        raise mw._all_failed(self, attempts)


def _check_no_running_loop(tool_id: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"tool_id: {tool_id!r} is async and an event loop is running in this thread; "
        "use acall / arun instead of call"
    )


def _run_coroutine(awaitable: Any, tool_id: str) -> Any:
    try:
        _check_no_running_loop(tool_id)
    except RuntimeError:
        if inspect.iscoroutine(awaitable):
            awaitable.close()  # never awaited: avoid the "was never awaited" warning
        raise

    async def _await() -> Any:
        return await awaitable

    return asyncio.run(_await())


class ToolMiddleware:
    """Registry of an agent's tool functions, routed by a ``ToolMetaLearner``.

    Arguments:
        learner: the router (default: a new ``ToolMetaLearner`` built with ``learner_options``).
        task_type: the task type of calls that do not give one.
        max_attempts: at most this many tools per call (default: every candidate).
        learner_options: passed to ``ToolMetaLearner`` when ``learner`` is ``None``
            (``seed=``, ``policy=``, ``store=``...).

    Thread-safe, like the learner: threads may call through one middleware at once.

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
        **learner_options: Any,
    ) -> None:
        if learner is not None and learner_options:
            raise TypeError(f"learner_options: give a learner or options for a new one, not both; got {sorted(learner_options)}")
        self.learner = learner if learner is not None else ToolMetaLearner(**learner_options)
        self.task_type = task_type
        self.max_attempts = _check_max_attempts(max_attempts)
        self._tools: dict[str, _Registered] = {}
        self._ids = itertools.count(1)

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
        metadata: dict[str, Any] | None = None,
    ) -> ToolProfile:
        """Register ``fn`` as a tool serving ``capability`` (one or several) and return its
        profile. ``tool_id`` defaults to the function's name; ``quality(result)`` scores a
        successful result in [0, 1]. A duplicate id raises ``DuplicateToolError``."""
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {fn!r}")
        capabilities = (capability,) if isinstance(capability, str) else tuple(capability)
        if tool_type is None:
            tool_type = _TYPE_OF_CAPABILITY.get(capabilities[0], ToolType.OTHER) if capabilities else ToolType.OTHER
        profile = ToolProfile(
            tool_id=tool_id or getattr(fn, "__name__", ""),
            tool_type=tool_type,
            capabilities=capabilities,
            cost_per_use=cost_per_use,
            reliability=reliability,
            expected_latency_s=expected_latency_s,
            description=description if description is not None else (inspect.getdoc(fn) or ""),
            metadata=metadata or {},
        )
        if not capabilities:
            raise ValueError(f"capability: give at least one capability for tool {profile.tool_id!r}")
        if quality is not None and not callable(quality):
            raise TypeError(f"quality: expected a callable result -> float, got {quality!r}")
        reg = _Registered(profile, fn, inspect.iscoroutinefunction(fn), quality)
        self.learner.add_tool(profile)  # raises on a duplicate before anything is registered here
        self._tools[profile.tool_id] = reg
        return profile

    def attach(
        self, fn: Callable[..., Any], tool_id: str, *, quality: Callable[[Any], float] | None = None
    ) -> ToolProfile:
        """Bind ``fn`` to a tool the router already knows (for example one resumed from a store),
        keeping what was learned about it. Returns the tool's profile."""
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, got {fn!r}")
        if quality is not None and not callable(quality):
            raise TypeError(f"quality: expected a callable result -> float, got {quality!r}")
        try:
            profile = self.learner.tools[tool_id]
        except KeyError:
            raise UnknownToolError(tool_id) from None
        self._tools[tool_id] = _Registered(profile, fn, inspect.iscoroutinefunction(fn), quality)
        return profile

    def tool(self, capability: str | Sequence[str], **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator form of ``register``; the function is returned unchanged."""

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            self.register(fn, capability, **options)
            return fn

        return decorate

    def unregister(self, tool_id: str) -> None:
        """Remove a tool from the middleware and the router."""
        if tool_id not in self._tools:
            raise UnknownToolError(tool_id)
        self.learner.remove_tool(tool_id)
        del self._tools[tool_id]

    @property
    def tool_ids(self) -> list[str]:
        """Ids of the tools with a registered function."""
        return list(self._tools)

    # --- calls --------------------------------------------------------------------------------
    def route(
        self,
        capability: str,
        *,
        task_type: str | None = None,
        context: str | None = None,
        features: Sequence[float] | None = None,
        max_attempts: int | None = None,
        weights: UtilityWeights | None = None,
    ) -> RoutedCall:
        """``capability`` with routing options (context for contextual policies, task type,
        utility weights), as a callable."""
        return RoutedCall(
            self,
            capability,
            task_type=task_type or self.task_type,
            context=context,
            features=features,
            max_attempts=_check_max_attempts(max_attempts) or self.max_attempts,
            weights=weights,
        )

    def call(self, capability: str, /, *args: Any, **kwargs: Any) -> Any:
        """Call the best tool for ``capability`` with these arguments, falling back on failure."""
        return self.route(capability)(*args, **kwargs)

    async def acall(self, capability: str, /, *args: Any, **kwargs: Any) -> Any:
        """Async form of ``call``."""
        return await self.route(capability).acall(*args, **kwargs)

    # --- internals ----------------------------------------------------------------------------
    def _candidates(self, call: RoutedCall) -> tuple[str, list[_Registered]]:
        task_id = f"call-{next(self._ids)}"
        ranked = self.learner.rank_tool_ids(
            call.capability, task_type=call.task_type, context=call.context, features=call.features, task_id=task_id
        )
        # a tool the router knows but this middleware has no function for is not callable here
        tools = self._tools
        candidates = [tools[t] for t in ranked if t in tools]
        if not candidates:
            raise NoToolForCapabilityError(f"capability: no registered function serves {call.capability!r}")
        if call.max_attempts is not None:
            candidates = candidates[: call.max_attempts]
        return task_id, candidates

    def _record(
        self,
        call: RoutedCall,
        task_id: str,
        reg: _Registered,
        attempts: list[ExecutionResult],
        elapsed_s: float,
        *,
        error: BaseException | None = None,
        output: ToolOutput | None = None,
        quality: float | None = None,
    ) -> ExecutionResult:
        cost, latency = reg.profile.cost_per_use, elapsed_s
        reported = output if output is not None else error
        if reported is not None:
            cost = cost if getattr(reported, "cost", None) is None else reported.cost  # type: ignore[union-attr]
            latency = latency if getattr(reported, "latency_s", None) is None else reported.latency_s  # type: ignore[union-attr]
        try:
            result = ExecutionResult(
                tool_id=reg.profile.tool_id,
                step=call.capability,
                success=error is None,
                quality=quality if error is None else 0.0,
                cost=cost,
                latency_s=latency,
                error=None if error is None else f"{type(error).__name__}: {error}",
            )
        except ValidationError as exc:
            raise InvalidOutcomeError(f"tool_id {reg.profile.tool_id!r} reported an invalid outcome: {exc}") from None
        attempts.append(result)
        self.learner.record_attempt(
            result,
            capability=call.capability,
            task_type=call.task_type,
            step=call.capability,
            task_id=task_id,
            context=call.context,
            features=call.features,
            weights=call.weights,
        )
        return result

    def _succeed(
        self, call: RoutedCall, task_id: str, reg: _Registered, attempts: list[ExecutionResult], elapsed_s: float, value: Any
    ) -> CallOutcome:
        output = value if isinstance(value, ToolOutput) else None
        if output is not None:
            value = output.value
        if output is not None and output.quality is not None:
            quality = output.quality
        elif reg.quality is not None:
            quality = reg.quality(value)
        else:
            quality = 1.0
        self._record(call, task_id, reg, attempts, elapsed_s, output=output, quality=quality)
        return CallOutcome(value=value, tool_id=reg.profile.tool_id, attempts=tuple(attempts))

    def _all_failed(self, call: RoutedCall, attempts: list[ExecutionResult]) -> AllToolsFailedError:
        tried = ", ".join(f"{a.tool_id} ({a.error})" for a in attempts)
        log.info("all_tools_failed", capability=call.capability, attempts=len(attempts))
        return AllToolsFailedError(
            f"capability {call.capability!r}: all {len(attempts)} tools failed: {tried}", attempts
        )


def _check_max_attempts(value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ValueError(f"max_attempts: expected a positive int or None, got {value!r}")
    return value
