"""Runs a plan: asyncio, timeouts, retries with backoff, fallbacks and per-tool circuit breakers.

``PlanExecutor(tools).run(plan, inputs)`` runs every step of a plan (an ``ExecutionPlan`` from the
router, or an ``Assignment`` from ``toolrouter.planner``) as soon as the steps it depends on have
succeeded, so independent branches run concurrently. Each step tries its chosen tool, then its
fallbacks in order, through the one attempt loop of ``toolrouter.attempts`` (which
``ToolMiddleware`` uses too). Each call:

- is awaited directly when the tool is an ``async def`` function, or run in a thread pool when it is
  a plain function (a sync tool that hangs cannot be interrupted: its thread is left to finish in
  the background while the run moves on);
- gets ``timeout_s`` seconds; a timeout, an exception, an output of the wrong type and a report of
  invalid numbers (``ToolOutput`` with a NaN, infinite or negative cost, say) are failures;
- is retried up to ``retry.max_retries`` times with exponential backoff and seeded jitter (an output
  of the wrong type, an invalid report and a tool without a function to call are not retried: they
  would fail again);
- is skipped when the tool's circuit breaker is open (it opens after ``failure_threshold`` failures
  in a row, lets one probe through after ``reset_timeout_s``, and closes when a probe succeeds);
- with ``enforce_budget``, is skipped when its planned cost, added to what the run spent and the calls
  in flight, would take the run over its ``max_cost`` (a retry too); the step's next fallback is
  still tried. A tool skipped with no attempt takes none of the places ``max_fallbacks`` leaves,
  nor the one place ``use_fallbacks=False`` leaves: the step's next tool runs in its stead.

A tool is called with one argument, a ``StepRequest`` (the run's ``inputs`` and the outputs of the
steps it depends on, by step id). It may return a ``ToolOutput`` to report the quality and cost of
its answer (``toolrouter.attempts.ToolOutput``), or raise ``ToolFailure`` to fail with a known
cost. Every attempt becomes an ``ExecutionResult`` (step, tool, success, quality, cost,
latency, error), is passed to ``on_attempt`` the moment it ends and is kept in the ``PlanRun``:
failures, timeouts and cancellations included. A step whose tools all fail is ``failed``; the steps
that need it are ``skipped``; every other branch still runs, and the run comes back ``partial`` with a
status per step. Setting ``cancel_event`` (or passing ``deadline_s``) cancels what is running and
returns the run ``cancelled`` (an event already set when the run begins starts no step; one that
comes once every step has ended cuts nothing, and the run ends as its steps did): an
``asyncio.Event`` set on the run's loop, or a ``threading.Event`` set from any thread (for ``run``
and ``execute``, which hold their thread; it is looked at every 10 ms); cancelling the ``arun`` task itself records the cancelled attempts in
the ``run`` object passed in, then re-raises ``CancelledError``. A ``KeyboardInterrupt``
or ``SystemExit`` while a tool runs cancels the rest of the run the same way, then is raised. An attempt cut by the
cancellation (error ``CANCELLED_BY_CALLER``) is the caller's choice: the router does not learn from
it. One cut by ``deadline_s`` took longer than the run allowed: a ``TimeoutError``, learned as a failure
and counted by the tool's circuit breaker. A tool that had ended when the cancellation reached its
step is recorded as it ended (one that ended past ``deadline_s`` as a ``TimeoutError``): a success
ends its step succeeded, with its output (the run is cancelled all the same when another step was
cut), a failure ends it cancelled.

Example:
    >>> from toolrouter.models import TaskStep
    >>> from toolrouter.planner import Candidate, assign_tools, build_task_graph
    >>> graph = build_task_graph([TaskStep(step_id="search", capability="search"),
    ...                           TaskStep(step_id="answer", capability="llm", depends_on=["search"])])
    >>> plan = assign_tools(graph, {"search": [Candidate("web", 0.9, cost=0.1)],
    ...                             "answer": [Candidate("llm", 0.9, cost=0.5)]})
    >>> tools = {"web": lambda req: ["a page about " + req.inputs],
    ...          "llm": lambda req: f"summary of {req.upstream['search'][0]}"}
    >>> with PlanExecutor(tools) as executor:
    ...     run = executor.run(plan, inputs="bees")
    >>> run.status.value, run.outputs["answer"]
    ('succeeded', 'summary of a page about bees')
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import networkx as nx

from toolrouter._checks import check_real
from toolrouter.attempts import (
    Binding,
    CallReport,
    CallSpec,
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitBreakers,
    CircuitState,
    ExecutorConfig,
    RetryPolicy,
    ThreadRunner,
    ToolFailure,
    ToolOutput,
    attempt_loop,
    check_callback,
    checked_config,
    close_loop,
    describe_error,
    is_async_callable,
    is_generator_callable,
    run_async,
    run_in_new_loop,
)
from toolrouter.errors import InvalidOutcomeError, TaskGraphError
from toolrouter.logging import EventLog
from toolrouter.models import CANCELLED_BY_CALLER, ExecutionResult, TaskProfile, TaskStep, cancelled_by_caller
from toolrouter.plan import ExecutionPlan, fits_budget
from toolrouter.planner import ANY_CAPABILITY, Assignment, CyclicTaskGraphError, DanglingDependencyError

__all__ = [
    "CircuitBreaker",
    "CircuitBreakerConfig",
    "CircuitState",
    "ExecutorConfig",
    "PlanExecutor",
    "PlanRun",
    "RetryPolicy",
    "RunStatus",
    "StepOutcome",
    "StepRequest",
    "StepStatus",
    "TaskExecution",
    "ToolFailure",
    "ToolOutput",
    "aexecute_task",
    "execute_task",
    "learner_executor",
]

log = EventLog(__name__)


# --------------------------------------------------------------------------------------------------
# What goes in and what comes out
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StepRequest:
    """What a tool is called with: the run's ``inputs`` and ``upstream``, the outputs of the steps
    this one depends on, by step id."""

    step_id: str
    capability: str | None
    tool_id: str
    inputs: Any
    upstream: Mapping[str, Any]
    attempt: int = 0


class StepStatus(str, Enum):
    """How a step ended."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"  # every tool it tried failed, or none could be tried
    SKIPPED = "skipped"  # a step it depends on did not succeed
    CANCELLED = "cancelled"  # the run was cancelled before the step finished


class RunStatus(str, Enum):
    """How the run ended: every step succeeded, some did, none did, or it was cancelled."""

    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class StepOutcome:
    """One step's result: its status, the tool that succeeded and its output, every attempt, and
    the tools skipped (with why: ``circuit open``, ``over budget``)."""

    step_id: str
    status: StepStatus
    tool_id: str | None = None
    output: Any = None
    attempts: list[ExecutionResult] = field(default_factory=list)
    skipped_tools: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (the output is left out: it may not be JSON-able)."""
        return {
            "step_id": self.step_id,
            "status": self.status.value,
            "tool_id": self.tool_id,
            "attempts": [a.model_dump(mode="json") for a in self.attempts],
            "skipped_tools": [list(t) for t in self.skipped_tools],
            "error": self.error,
        }


@dataclass
class PlanRun:
    """The result of running a plan; filled in as the run goes, so a run object passed to
    ``arun`` holds every attempt even if the run is cancelled from outside."""

    status: RunStatus = RunStatus.FAILED
    steps: dict[str, StepOutcome] = field(default_factory=dict)
    attempts: list[ExecutionResult] = field(default_factory=list)
    latency_s: float = 0.0
    callback_errors: list[str] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """Whether every step succeeded."""
        return self.status is RunStatus.SUCCEEDED

    @property
    def outputs(self) -> dict[str, Any]:
        """Output of every step that succeeded."""
        return {s: o.output for s, o in self.steps.items() if o.status is StepStatus.SUCCEEDED}

    @property
    def total_cost(self) -> float:
        """What every attempt cost, failed ones included."""
        return float(sum(a.cost for a in self.attempts))

    def statuses(self) -> dict[str, StepStatus]:
        """The status of every step."""
        return {s: o.status for s, o in self.steps.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able summary (outputs are left out: they may not be JSON-able)."""
        return {
            "status": self.status.value,
            "latency_s": self.latency_s,
            "total_cost": self.total_cost,
            "steps": {s: o.to_dict() for s, o in self.steps.items()},
            "callback_errors": list(self.callback_errors),  # what the router refused to learn, and why
        }


# --------------------------------------------------------------------------------------------------
# Reading a plan
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _ExecStep:
    step_id: str
    capability: str | None
    depends_on: tuple[str, ...]
    tool_ids: tuple[str, ...]
    costs: Mapping[str, float]


def _plan_steps(plan: Any) -> list[_ExecStep]:
    """The steps of an ``ExecutionPlan`` or a planner ``Assignment``, in topological order."""
    steps: list[_ExecStep] = []
    if isinstance(plan, ExecutionPlan):
        # Read the nodes, not .steps: that sorts them, and a cycle breaks it; a node without a
        # step is a dependency on a step that does not exist (reported below).
        for s in (d["plan_step"] for _, d in plan.graph.nodes(data=True) if "plan_step" in d):
            steps.append(
                _ExecStep(
                    s.step,
                    s.capability,
                    tuple(s.depends_on),
                    tuple(c.tool_id for c in s.candidates),
                    {c.tool_id: c.predicted_cost for c in s.candidates},
                )
            )
    elif isinstance(plan, Assignment):
        for choice in plan.steps.values():
            cands = (choice.tool, *choice.fallbacks)
            steps.append(
                _ExecStep(
                    choice.step_id,
                    choice.capability,
                    tuple(choice.depends_on),
                    tuple(c.tool_id for c in cands),
                    {c.tool_id: c.cost for c in cands},
                )
            )
    else:
        raise TypeError(
            f"plan: expected an ExecutionPlan or a planner Assignment, got {type(plan).__name__}"
        )
    if not steps:  # a run of no steps "succeeded" without doing anything
        raise TaskGraphError("plan: a plan needs at least one step, got none")
    graph = nx.DiGraph()
    ids = {s.step_id for s in steps}
    for s in steps:
        graph.add_node(s.step_id)
        for dep in s.depends_on:
            if dep not in ids:
                raise DanglingDependencyError(s.step_id, dep)
            graph.add_edge(dep, s.step_id)
    try:
        cycle = nx.find_cycle(graph)
        raise CyclicTaskGraphError([u for u, _ in cycle])
    except nx.NetworkXNoCycle:
        pass
    by_id = {s.step_id: s for s in steps}
    return [by_id[n] for n in nx.topological_sort(graph)]


# --------------------------------------------------------------------------------------------------
# The executor
# --------------------------------------------------------------------------------------------------
class _Run:
    """State of one run shared by its step tasks."""

    def __init__(self, record: PlanRun, inputs: Any, max_cost: float | None) -> None:
        self.record = record
        self.inputs = inputs
        self.max_cost = max_cost
        self.spent = 0.0
        self.reserved = 0.0  # cost admitted for the tries in flight, not yet recorded in spent
        self.cancelled = False
        self.deadline_passed = False  # cancelled by deadline_s: what was cut there timed out
        self.deadline: float | None = None  # the time.monotonic() deadline_s ends the run at
        self.interrupt: BaseException | None = None  # a tool's KeyboardInterrupt, SystemExit...
        self.tasks: dict[str, asyncio.Task] = {}
        self.on_attempt: Callable[[ExecutionResult], None] | None = None  # the run's own, first
        self.hooks: list[Callable[[ExecutionResult], None]] = []  # the executor's

    def cancel(self) -> None:
        """Cancel every step still running (but the one calling, which is ending)."""
        self.cancelled = True
        current = asyncio.current_task()
        for task in self.tasks.values():
            if task is not current:
                task.cancel()


def _closing(task: asyncio.Task | None) -> bool:
    """Whether a GeneratorExit caught in ``task``'s coroutine is its closing (the coroutine closed
    outside its task's step, as a dropped loop's are), not an exception raised as it runs."""
    try:
        return asyncio.current_task() is not task
    except RuntimeError:  # no loop running here
        return True


class PlanExecutor:
    """Runs plans against a set of tools; see the module docstring.

    Arguments:
        tools: tool id -> callable, looked up at every attempt (a tool removed from the mapping
            while a plan runs fails its next attempt with a clear error, and the step falls back;
            a tool a step lists but the mapping lacks is never called, so it takes none of the
            places ``use_fallbacks`` and ``max_fallbacks`` leave the step).
        config: ``ExecutorConfig``, or its fields as a mapping: checked as its constructor checks
            them, one made with ``model_copy(update=...)`` too (pydantic's ``ValidationError`` names
            a bad field).
        costs: tool id -> cost of a call, charged when the tool does not report one; default:
            the plan's predicted cost (which ``enforce_budget`` admits each call at). Kept, not
            copied (a change counts from the next attempt): each run's start checks the costs of
            the tools its plan lists as the constructor does (``ValueError`` naming the tool and
            the value, before any tool runs).
        output_types: step id or capability -> type (or tuple of types) its output must have.
        on_attempt: called with every ``ExecutionResult`` as soon as the attempt ends (a plain
            function: an ``async def`` one is refused, as it would never be awaited).
        clock: monotonic clock of the circuit breakers (injectable for tests).
        max_workers: threads for sync tools at once (a thread hung past its timeout is replaced). A
            try's timeout counts from when a worker starts its tool; one cut by the run's deadline
            (or cancelled) while it waited for a worker never ran, and records no attempt.
    """

    def __init__(
        self,
        tools: Mapping[str, Callable[..., Any]],
        config: ExecutorConfig | None = None,
        *,
        costs: Mapping[str, float] | None = None,
        output_types: Mapping[str, type | tuple[type, ...]] | None = None,
        on_attempt: Callable[[ExecutionResult], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_workers: int = 16,
    ) -> None:
        if not isinstance(tools, Mapping):
            raise TypeError(f"tools: expected a mapping of tool id to callable, got {type(tools).__name__}")
        for tool_id, fn in tools.items():
            _check_function(f"tools[{tool_id!r}]", fn)
        if costs is not None:
            if not isinstance(costs, Mapping):
                raise TypeError(f"costs: expected a mapping of tool id to cost, got {type(costs).__name__}")
            _check_costs(costs, costs)
        if output_types is not None and not isinstance(output_types, Mapping):
            raise TypeError(f"output_types: expected a mapping of step id or capability to type, got {type(output_types).__name__}")
        for name, fn in (("on_attempt", on_attempt), ("clock", clock)):
            check_callback(name, fn)  # it failed at every attempt, or at the first breaker
        for key, expected in (output_types or {}).items():
            kinds = expected if isinstance(expected, tuple) else (expected,)
            if not kinds or not all(isinstance(k, type) for k in kinds):
                raise TypeError(f"output_types[{key!r}]: expected a type or a tuple of types, got {expected!r}")
        self._config = checked_config(config, ExecutorConfig())
        self.tools = tools
        self.costs = costs if costs is not None else {}
        self.output_types = dict(output_types or {})
        self.on_attempt = on_attempt
        self._clock = clock
        self._rng = random.Random(self._config.seed)
        self._breakers = CircuitBreakers(self._config.circuit_breaker, clock)
        self._loops_lock = threading.Lock()
        # daemon workers, and hung ones replaced: a hung sync tool holds neither the others nor the exit
        self._pool = ThreadRunner(max_workers=max_workers)
        self._local = threading.local()
        self._loops: dict[threading.Thread, asyncio.AbstractEventLoop] = {}  # run's, by thread
        self._running: set[threading.Thread] = set()  # threads whose loop runs a plan: close() leaves it
        self._closed = False

    @property
    def config(self) -> ExecutorConfig:
        """How tools are called, fixed when the executor is made (its circuit breakers and backoff
        jitter are built from it: a config set later would apply in part)."""
        return self._config

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        """Release the thread pool (without waiting for hung sync tools) and the event loops of
        ``run``: one running a plan now is closed as its run ends, as is that of a run after
        ``close``."""
        self._pool.close()
        with self._loops_lock:
            self._closed = True
            loops = [self._loops.pop(t) for t in list(self._loops) if t not in self._running]
        for loop in loops:
            if not loop.is_closed():
                close_loop(loop)

    def __enter__(self) -> "PlanExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def breaker(self, tool_id: str) -> CircuitBreaker:
        """The circuit breaker of ``tool_id`` (made on first use)."""
        return self._breakers.get(tool_id)

    @property
    def breakers(self) -> dict[str, CircuitBreaker]:
        """The circuit breakers made so far, by tool id."""
        return self._breakers.snapshot()

    # --- running -----------------------------------------------------------------------------
    def run(self, plan: Any, inputs: Any = None, **kwargs: Any) -> PlanRun:
        """``arun`` from synchronous code (not from inside a running event loop).

        Each calling thread keeps its own event loop across runs: ``asyncio.run`` would build and
        tear down one (and the SIGINT handler) per run, which costs more than a small plan. The
        loop of a thread that has ended is closed when another thread makes its own, or by
        ``close``; after ``close``, each run's loop is closed as the run ends.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("PlanExecutor.run was called inside a running event loop; await arun instead")
        loop = self._thread_loop()
        main = loop.create_task(self.arun(plan, inputs, **kwargs))
        try:
            return loop.run_until_complete(main)
        except BaseException as exc:
            if not main.done():
                # A Ctrl-C, or an async tool's KeyboardInterrupt or SystemExit (asyncio re-raises
                # them out of the loop at once), left the run on this thread's loop, which would
                # resume it at the next run and raise there: end it now, its attempts recorded.
                main.cancel()
                try:
                    loop.run_until_complete(main)
                except BaseException as again:
                    if again is not exc and not isinstance(again, asyncio.CancelledError):
                        raise
            raise
        finally:
            self._release_loop(loop)

    def _thread_loop(self) -> asyncio.AbstractEventLoop:
        """This thread's loop, marked running (``close`` leaves it to ``_release_loop``)."""
        thread = threading.current_thread()
        loop = getattr(self._local, "loop", None)
        stale = []
        with self._loops_lock:
            if loop is None or self._loops.get(thread) is not loop:  # none yet, or close() took it
                loop = self._local.loop = asyncio.new_event_loop()
                # the loops of threads that have ended are closed here: else each short-lived
                # thread (a server's, per request) left one open, with its file descriptors
                ended = [t for t in self._loops if not t.is_alive()]
                stale = [self._loops.pop(t) for t in ended]
                self._loops[thread] = loop
            self._running.add(thread)
        for old in stale:
            if not old.is_closed():
                close_loop(old)
        return loop

    def _release_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """After a run on ``loop``: close it if ``close`` was called meanwhile or before (it left
        the loop to this thread), else keep it for the thread's next run."""
        thread = threading.current_thread()
        with self._loops_lock:
            self._running.discard(thread)
            ours = self._closed and self._loops.get(thread) is loop
            if ours:
                del self._loops[thread]
        if ours:
            close_loop(loop)

    async def arun(
        self,
        plan: Any,
        inputs: Any = None,
        *,
        cancel_event: asyncio.Event | threading.Event | None = None,
        deadline_s: float | None = None,
        run: PlanRun | None = None,
        on_attempt: Callable[[ExecutionResult], None] | None = None,
        max_cost: float | None = None,
    ) -> PlanRun:
        """Run ``plan`` with ``inputs``; see the module docstring for what happens on failure,
        cancellation and deadline. ``run``: a new ``PlanRun`` to fill in (one is made if omitted);
        ``max_cost``: a budget of the run's own, kept (``enforce_budget``) with the plan's, the
        tighter of both;
        ``on_attempt``: called with each attempt of this run, before the executor's own hook and
        before the attempt is kept: an ``InvalidOutcomeError`` it raises for a success or for a
        cost the tool reported (numbers the router cannot learn, such as a cost so large that the
        utility overflows) makes the attempt a failure with the planned cost and the measured
        latency, kept and passed on instead, and the step falls back (as in ``ToolMiddleware``);
        any other error it raises is reported in ``run.callback_errors``."""
        _check_run_options(cancel_event, deadline_s)
        if max_cost is not None:
            max_cost = check_real("max_cost", max_cost, low=0, low_open=True)
        if run is not None and (not isinstance(run, PlanRun) or run.steps or run.attempts):
            # another run's attempts would be summed into this one's cost and status
            raise TypeError(f"run: expected a new PlanRun, got {run!r:.100}")
        check_callback("on_attempt", on_attempt)
        steps = _plan_steps(plan)
        # kept, not copied, so maybe changed since: the costs this run may charge, before any tool runs
        _check_costs(self.costs, (tool_id for step in steps for tool_id in step.tool_ids))
        record = run if run is not None else PlanRun()
        bounds = [b for b in (getattr(plan, "max_cost", None), max_cost) if b is not None]
        ctx = _Run(record, inputs, min(bounds, default=None))
        ctx.on_attempt = on_attempt
        ctx.hooks = [self.on_attempt] if self.on_attempt is not None else []
        loop = asyncio.get_running_loop()
        semaphore = asyncio.Semaphore(self._config.max_concurrency) if self._config.max_concurrency else None
        t0 = time.perf_counter()
        if cancel_event is not None and cancel_event.is_set():
            # Cancelled before it began: no step starts (a watcher would get its turn only after
            # the first tools were called, and a tool that never awaits would run to its end).
            ctx.cancelled = True
            self._finish(ctx, steps, t0)
            return record
        for step in steps:
            ctx.tasks[step.step_id] = loop.create_task(self._run_step(ctx, step, semaphore))

        watcher = None
        if cancel_event is not None:

            async def watch() -> None:
                await _set(cancel_event)
                ctx.cancel()

            watcher = loop.create_task(watch())

        def expire() -> None:
            ctx.deadline_passed = True
            ctx.cancel()

        if deadline_s is not None:
            ctx.deadline = time.monotonic() + deadline_s
        timer = loop.call_later(deadline_s, expire) if deadline_s is not None else None
        try:
            await asyncio.gather(*ctx.tasks.values())
        except asyncio.CancelledError as cancelled:
            # Cancelled from outside: let every step record its cancelled attempts, then re-raise.
            ctx.cancel()
            ended = asyncio.gather(*ctx.tasks.values(), return_exceptions=True)
            while not ended.done():
                try:
                    await asyncio.shield(ended)
                except asyncio.CancelledError as again:
                    # cancelled again meanwhile (anyio's cancel scopes cancel at every await): the
                    # steps, cancelled already, end at once and the record is finished all the
                    # same; the latest cancellation is raised, with the message its canceller knows
                    cancelled = again
            self._finish(ctx, steps, t0)
            raise cancelled
        finally:
            if watcher is not None:
                watcher.cancel()
            if timer is not None:
                timer.cancel()
        self._finish(ctx, steps, t0)
        if ctx.interrupt is not None:
            raise ctx.interrupt  # the caller's, now that no step of the run is left running
        return record

    def _finish(self, ctx: _Run, steps: Sequence[_ExecStep], t0: float) -> None:
        record = ctx.record
        for step in steps:
            if step.step_id not in record.steps:  # never started: cancelled before it ran
                record.steps[step.step_id] = StepOutcome(step.step_id, StepStatus.CANCELLED)
        record.steps = {s.step_id: record.steps[s.step_id] for s in steps}
        statuses = [o.status for o in record.steps.values()]
        if all(s is StepStatus.SUCCEEDED for s in statuses):
            record.status = RunStatus.SUCCEEDED
        elif ctx.cancelled and StepStatus.CANCELLED in statuses:
            # cut short: not a run whose steps had all ended when the deadline or the event came
            record.status = RunStatus.CANCELLED
        elif any(s is StepStatus.SUCCEEDED for s in statuses):
            record.status = RunStatus.PARTIAL
        else:
            record.status = RunStatus.FAILED
        record.latency_s = time.perf_counter() - t0
        log.info(
            "plan_run",
            status=record.status.value,
            steps={s: o.status.value for s, o in record.steps.items()},
            attempts=len(record.attempts),
            cost=record.total_cost,
            latency_s=record.latency_s,
        )

    async def _run_step(
        self, ctx: _Run, step: _ExecStep, semaphore: asyncio.Semaphore | None
    ) -> StepOutcome:
        outcome = StepOutcome(step.step_id, StepStatus.FAILED)
        try:
            if step.depends_on:
                # asyncio.wait, not await: cancelling this step must not cancel its dependencies.
                await asyncio.wait([ctx.tasks[d] for d in step.depends_on])
                deps = {d: ctx.tasks[d].result() for d in step.depends_on}
                bad = [d for d, o in deps.items() if o.status is not StepStatus.SUCCEEDED]
                if bad:
                    cancelled = any(deps[d].status is StepStatus.CANCELLED for d in bad)
                    outcome.status = StepStatus.CANCELLED if cancelled else StepStatus.SKIPPED
                    outcome.error = f"depends on {', '.join(repr(d) for d in bad)}, which did not succeed"
                    ctx.record.steps[step.step_id] = outcome
                    return outcome
                upstream = {d: o.output for d, o in deps.items()}
            else:
                upstream = {}
            ctx.record.steps[step.step_id] = outcome
            await self._try_tools(ctx, step, upstream, outcome, semaphore)
        except asyncio.CancelledError:
            if outcome.status is not StepStatus.SUCCEEDED:  # else its tool had ended with a value first
                outcome.status = StepStatus.CANCELLED
                outcome.error = outcome.error or "run cancelled"
            ctx.record.steps[step.step_id] = outcome
        except BaseException as exc:
            if isinstance(exc, GeneratorExit) and _closing(ctx.tasks.get(step.step_id)):
                raise  # the step's coroutine itself closed (its loop dropped): not a tool's
            # What escapes the attempt loop: a tool's KeyboardInterrupt, SystemExit, GeneratorExit
            # or BaseException of its own (its attempt recorded). Let out of the step, it stopped
            # the event loop with the other steps on it, to go on at the thread's next run and
            # raise again there (or, a GeneratorExit, it ended the run at once with them left
            # running): they are cancelled first, and arun raises it once they have ended.
            outcome.status = StepStatus.CANCELLED
            outcome.error = f"run interrupted: {describe_error(exc)}"
            ctx.record.steps[step.step_id] = outcome
            if ctx.interrupt is None:
                ctx.interrupt = exc
            ctx.cancel()
        return outcome

    async def _try_tools(
        self,
        ctx: _Run,
        step: _ExecStep,
        upstream: Mapping[str, Any],
        outcome: StepOutcome,
        semaphore: asyncio.Semaphore | None,
    ) -> None:
        if not step.tool_ids:
            outcome.error = f"step {step.step_id!r} has no tools to try"
            return
        check = self._type_check(step)
        planned = [0.0]  # the cost charged to the try in flight when its tool reports none (0: no call)

        def bind(tool_id: str, attempt: int) -> Binding | str:
            fn = self.tools.get(tool_id)
            planned[0] = 0.0
            if fn is None:
                return _no_function(self.tools, tool_id)
            request = StepRequest(step.step_id, step.capability, tool_id, ctx.inputs, dict(upstream), attempt)
            cost = planned[0] = float(self.costs.get(tool_id, step.costs.get(tool_id, 0.0)))
            return Binding(
                fn, (request,), is_async=is_async_callable(fn), cost=cost,
                check=None if check is None else functools.partial(check, tool_id),
            )

        held = [0.0]  # the cost admitted for this step's try in flight: steps in parallel see it

        def release() -> None:
            ctx.reserved -= held[0]
            held[0] = 0.0

        def admit(tool_id: str, cost: float) -> str | None:
            release()
            # what the plan predicts the call costs, as the planner judged the plan: not what a
            # call that reports no cost is charged (a router's: its profile's cost_per_use, which
            # a tool that reports less is no longer predicted to cost, nor planned at)
            cost = step.costs.get(tool_id, cost)
            # a free call spends nothing: a tool that reported more than planned took the run
            # over its budget, and a free tool after it was skipped as if it would
            if ctx.max_cost is None or not self._config.enforce_budget or cost == 0:
                return None
            if not fits_budget(ctx.spent + ctx.reserved + cost, ctx.max_cost):
                return "over budget"
            held[0] = cost
            ctx.reserved += cost
            return None

        def record(result: ExecutionResult) -> None:
            release()
            if ctx.deadline_passed and result.error in (CANCELLED_BY_CALLER, _late(result.tool_id)):
                # cut by the run's deadline, not cancelled by its caller: a timeout of the tool, learned
                # and counted by its circuit (``timed_out`` below) as the middleware's are for a try cut
                # by a call's deadline (else a tool hung past every run's deadline never opened its circuit);
                # or ended past it, when it held the event loop: the loop's only deadline is the run's
                error = f"TimeoutError: {result.tool_id!r} took longer than the run's deadline allowed"
                result = result.model_copy(update={"error": error})
            # numbers of the tool's own (a success's, a reported cost) that the router refuses are
            # replaced by the attempt loop; the planned numbers alone would be refused again
            self._record(ctx, outcome, result, replaceable=result.success or result.cost != planned[0])

        report = CallReport()  # filled in as the loop goes: read too when a cut is raised
        spec = CallSpec(
            step=step.step_id,
            candidates=step.tool_ids,
            bind=bind,
            record=record,
            config=self._config,
            breakers=self._breakers if self._config.circuit_breaker is not None else None,
            rng=self._rng,
            admit=admit,
            timed_out=lambda: ctx.deadline if ctx.deadline_passed else None,
            report=report,
        )
        try:
            await run_async(attempt_loop(spec), self._pool, semaphore)
        except BaseException:
            if report.succeeded:  # its tool had ended with a value when the run was cut: the step ended with it
                self._ended(outcome, report)
            raise
        finally:
            release()  # a try admitted but never made (its circuit open) holds nothing
        self._ended(outcome, report)

    @staticmethod
    def _ended(outcome: StepOutcome, report: CallReport) -> None:
        """Set a step's ``outcome`` from the ``report`` of its attempt loop."""
        outcome.skipped_tools.extend(report.skipped)
        if report.succeeded:
            outcome.status = StepStatus.SUCCEEDED
            outcome.tool_id = report.tool_id
            outcome.output = report.value
            outcome.error = None
        else:
            outcome.error = report.failure_summary()

    def _type_check(self, step: _ExecStep) -> Callable[[str, Any], None] | None:
        """``check(tool_id, output)`` of a step's output type (``output_types``), or None."""
        expected = self.output_types.get(step.step_id)
        if expected is None and step.capability is not None:
            expected = self.output_types.get(step.capability)
        if expected is None:
            return None
        names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)

        def check(tool_id: str, output: Any) -> None:
            if not isinstance(output, expected):
                raise TypeError(
                    f"step {step.step_id!r} expects {names}, tool {tool_id!r} returned {type(output).__name__}"
                )

        return check

    def _record(self, ctx: _Run, outcome: StepOutcome, result: ExecutionResult, *, replaceable: bool) -> None:
        if ctx.on_attempt is not None:
            try:
                ctx.on_attempt(result)
            except InvalidOutcomeError as exc:
                if replaceable:
                    raise  # nothing kept yet: the attempt loop records the try as a failure instead
                self._hook_failed(ctx, result, exc)
            except Exception as exc:
                self._hook_failed(ctx, result, exc)
            except BaseException:  # a Ctrl-C as the router learned it: the run still holds the attempt
                self._keep(ctx, outcome, result)
                raise
        self._keep(ctx, outcome, result)
        for hook in ctx.hooks:
            try:
                hook(result)
            except Exception as exc:
                self._hook_failed(ctx, result, exc)

    @staticmethod
    def _keep(ctx: _Run, outcome: StepOutcome, result: ExecutionResult) -> None:
        outcome.attempts.append(result)
        ctx.record.attempts.append(result)
        ctx.spent += result.cost
        log.debug(
            "tool_attempt",
            step=result.step,
            tool=result.tool_id,
            success=result.success,
            latency_s=result.latency_s,
            error=result.error,
        )

    @staticmethod
    def _hook_failed(ctx: _Run, result: ExecutionResult, exc: Exception) -> None:
        # the run must go on and keep its record; report, don't hide
        message = f"on_attempt raised {describe_error(exc)}"  # even an error that cannot be printed
        ctx.record.callback_errors.append(message)
        log.warning("on_attempt_failed", error=message, step=result.step, tool=result.tool_id)


# --------------------------------------------------------------------------------------------------
# Plan, run and learn in one call (what ToolMetaLearner.execute does)
# --------------------------------------------------------------------------------------------------
@dataclass
class TaskExecution:
    """What one ``execute`` did: the plan, the run (a status and the attempts of every step), the
    utility of each attempt learned from, and the end-to-end outcome.

    ``unlearned`` holds attempts that could not update a policy (a tool removed while the plan ran,
    or updated to no longer serve its step, a tool the executor has no function for, or an outcome
    the router rejected, with ``run.callback_errors`` saying why); those of removed or updated
    tools are still written to the store, those of tools without a function are not (no call was
    made). Attempts the run's caller cancelled are in none of these: they are no outcome to learn.
    """

    task: TaskProfile
    plan: Any
    run: PlanRun
    utilities: list[float] = field(default_factory=list)
    unlearned: list[ExecutionResult] = field(default_factory=list)
    end_to_end_utility: float = 0.0

    @property
    def status(self) -> RunStatus:
        """How the run ended."""
        return self.run.status

    @property
    def succeeded(self) -> bool:
        """Whether every step succeeded."""
        return self.run.succeeded

    @property
    def outputs(self) -> dict[str, Any]:
        """Output of every step that succeeded."""
        return self.run.outputs

    @property
    def total_cost(self) -> float:
        """What every attempt cost."""
        return self.run.total_cost


class _RegisteredTools(Mapping):
    """The functions of the tools the router still knows: a tool removed from the router while a
    plan runs is gone for the executor too. Without ``functions``, ``learner.functions`` is read at
    every lookup: a router's kept executor calls the functions assigned to it since, not the
    mapping it held when the executor was made."""

    def __init__(self, learner: Any, functions: Mapping[str, Callable[..., Any]] | None = None) -> None:
        self._learner = learner
        self._given = functions

    @property
    def functions(self) -> Any:
        """The tool functions: those given, else the router's now."""
        return getattr(self._learner, "functions", None) if self._given is None else self._given

    def check(self) -> None:
        """Raise unless there are functions to call, by tool id, each one a tool can be: one
        assigned to ``learner.functions`` since the executor was made is checked here, before
        any tool runs (a value that is not callable failed each try, learned as the tool's
        failure)."""
        functions = self.functions
        if functions is not None and not isinstance(functions, Mapping):  # looked up by tool id
            raise TypeError(f"tools: expected a mapping of tool id to callable, got {type(functions).__name__}")
        if not functions:
            raise ValueError(
                "tools: give the tool functions, or register them in learner.functions "
                f"(got {functions!r})"
            )
        tools = self._learner.tools
        for tool_id, fn in list(functions.items()):  # a copy: another thread may assign one meanwhile
            if tool_id in tools:
                _check_function(f"{self._where}[{tool_id!r}]", fn)

    @property
    def _where(self) -> str:
        return "tools" if self._given is not None else "learner.functions"

    def __getitem__(self, tool_id: str) -> Callable[..., Any]:
        if tool_id not in self._learner.tools:
            raise KeyError(tool_id)
        return self.functions[tool_id]

    def missing(self, tool_id: str) -> str:
        """Why there is no function for ``tool_id``: the router no longer knows the tool, or it
        knows it but was given no function for it."""
        if tool_id not in self._learner.tools:
            return f"UnknownToolError: tool {tool_id!r} is no longer registered"
        return f"UnknownToolError: tool {tool_id!r} is registered but has no function in {self._where}"

    def __iter__(self):  # type: ignore[no-untyped-def]
        return (t for t in self.functions if t in self._learner.tools)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _check_function(where: str, fn: Any) -> None:
    """Raise ``TypeError`` naming ``where`` unless ``fn`` can be a tool's function."""
    if not callable(fn):
        raise TypeError(f"{where}: expected a callable, got {fn!r:.100}")
    if is_generator_callable(fn):  # its step "succeeded" with a generator that never ran
        raise TypeError(
            f"{where}: {fn!r:.100} is a generator function, whose call returns a generator "
            "without running it; make the tool return its items (a list, say)"
        )


def _late(tool_id: str) -> str:
    """The attempt loop's error of a value that came past the call's deadline (``timed_out``'s)."""
    return f"TimeoutError: {tool_id!r} took longer than the call's deadline allowed"


def _no_function(tools: Mapping[str, Callable[..., Any]], tool_id: str) -> str:
    """The error of an attempt at a tool ``tools`` has no function for."""
    if isinstance(tools, _RegisteredTools):
        return tools.missing(tool_id)
    return f"UnknownToolError: tool {tool_id!r} is not among the executor's tools"


def _check_costs(costs: Mapping[str, float], tool_ids: Iterable[str]) -> None:
    """Raise ``ValueError`` naming a cost of ``tool_ids`` in ``costs`` that is not a number >= 0 (a
    negative or NaN one was charged, and summed into every run's total); a router's profiles check
    their own."""
    if isinstance(costs, _ProfileCosts):
        return
    for tool_id in tool_ids:
        if tool_id in costs:
            check_real(f"costs[{tool_id!r}]", costs[tool_id], low=0)


class _ProfileCosts(Mapping):
    """Cost of a call of each tool the router knows, read live from its profiles."""

    def __init__(self, learner: Any) -> None:
        self._learner = learner

    def __getitem__(self, tool_id: str) -> float:
        return self._learner.tools[tool_id].cost_per_use

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._learner.tools)

    def __len__(self) -> int:
        return len(self._learner.tools)


#: How often a run looks at a ``threading.Event`` it may be cancelled by (its wait() would block
#: the run's event loop, and a thread waiting on it would outlive a run never cancelled).
_THREAD_EVENT_POLL_S = 0.01


async def _set(event: asyncio.Event | threading.Event) -> None:
    """Return once ``event`` is set: an ``asyncio.Event`` is awaited, a ``threading.Event`` (set
    from another thread) is looked at every ``_THREAD_EVENT_POLL_S``."""
    if isinstance(event, asyncio.Event):
        await event.wait()
        return
    while not event.is_set():
        await asyncio.sleep(_THREAD_EVENT_POLL_S)


def _check_run_options(cancel_event: Any, deadline_s: Any) -> None:
    if cancel_event is not None and not isinstance(cancel_event, (asyncio.Event, threading.Event)):
        raise TypeError(f"cancel_event: expected an asyncio.Event or a threading.Event, got {cancel_event!r:.100}")
    if deadline_s is not None:
        check_real("deadline_s", deadline_s, low=0, low_open=True)


def learner_executor(
    learner: Any,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    config: ExecutorConfig | None = None,
    **options: Any,
) -> PlanExecutor:
    """A ``PlanExecutor`` over the tools ``learner`` knows (a tool removed from the router is gone
    for the executor too), charging each call its profile's ``cost_per_use``. ``functions``:
    tool id -> function (default ``learner.functions``, read at every call); ``options``: the
    executor's others (not ``costs``: the profiles set them)."""
    if "costs" in options:  # else Python's "got multiple values for keyword argument 'costs'"
        raise TypeError("costs: learner_executor charges each call its tool profile's cost_per_use; "
                        "set the profiles' costs, or build a PlanExecutor with costs")
    tools = _RegisteredTools(learner, functions)
    tools.check()
    return PlanExecutor(tools, config, costs=_ProfileCosts(learner), **options)


def _learn_hook(
    learner: Any,
    task: TaskProfile,
    execution: TaskExecution,
    trace_id: str,
    functions: Mapping[str, Callable[..., Any]],
    stop: asyncio.Event,
) -> Callable[[ExecutionResult], None]:
    def learn(result: ExecutionResult) -> None:
        removed = result.tool_id not in learner.tools
        if not removed and not result.success and result.tool_id not in functions:
            # no function to call (none given, or taken away): nothing was called, so this is no
            # outcome of the tool, and the tool must not be taught a failure that is not its own
            execution.unlearned.append(result)
            return
        try:
            learned = learner.learn_from_execution(task, [result], trace_id=trace_id)
        except Exception:
            execution.unlearned.append(result)
            if getattr(learner, "closed", False):
                stop.set()  # the router records no more: no more tools are called for it
            raise  # the executor reports it in run.callback_errors and carries on
        if not learned.n_results:
            # stored, but no policy learned it: its tool was removed, or no longer serves the step
            # (update_tool), while the plan ran; one its caller cancelled is no outcome to learn
            if not cancelled_by_caller(result.success, result.error):
                execution.unlearned.append(result)
            return
        execution.utilities.extend(u for us in learned.utilities.values() for u in us)

    return learn


async def _relay(source: asyncio.Event | threading.Event, target: asyncio.Event) -> None:
    await _set(source)
    target.set()


async def aexecute_task(
    learner: Any,
    task: TaskProfile,
    inputs: Any = None,
    *,
    tools: Mapping[str, Callable[..., Any]] | None = None,
    executor: PlanExecutor | None = None,
    config: ExecutorConfig | None = None,
    cancel_event: asyncio.Event | threading.Event | None = None,
    deadline_s: float | None = None,
    plan: Any = None,
    allow_infeasible: bool = False,
) -> TaskExecution:
    """Plan ``task`` with ``learner``, run the plan, and learn from every attempt as it ends.

    Arguments:
        learner: a ``ToolMetaLearner``.
        tools: tool id -> function called with a ``StepRequest`` (default: ``learner.functions``).
        executor: a ``PlanExecutor`` to reuse (its circuit breakers persist across runs); default:
            a new one with ``config``.
        plan: a plan made earlier (default: ``learner.optimize_task_execution(task)``, listing
            at each step the tools the executor has functions for, where it has any); for a task
            that declares its steps, the plan's steps must be those steps, every one, each with the
            task's capability and dependencies, and every tool a step lists must serve it
            (one removed from the router since is not called) (``ValueError`` naming the step
            otherwise, before any tool runs). ``config.enforce_budget`` keeps the run within the
            tighter of the plan's ``max_cost`` and the task's: a plan made for another budget
            does not lift the task's.
        deadline_s: seconds the run may take, after which it is cut (see the module docstring).
            The task's ``max_latency_s`` bounds only the plan's predicted critical path: a run
            that takes longer is not stopped for it.
        allow_infeasible: plan best-effort when the budget cannot be met (the plan's metadata
            says so) instead of raising ``BudgetInfeasibleError``. Unused with ``plan`` (but
            checked): that plan runs as it is, whether or not it meets the budget;
            ``config.enforce_budget`` is what keeps the run within it.

    Each attempt is fed to ``learner.learn_from_execution`` (store first, then the policy of its
    (task type, step)) the moment it ends, so a cancelled run loses nothing; the run's attempts are
    one trace (one ``trace_id``), from which the router learns the task type's structure; a run
    that does not succeed closes it unfinished (``close_trace(trace_id, finished=False)``), as a
    step skipped with no attempt (its circuit open, over budget) leaves nothing in it; a store's
    error closing it leaves it open, and is in ``run.callback_errors``. A router
    closed while its plan runs (``ToolMetaLearner.close``) lets the run end as it would have,
    every attempt recorded, and is done with its store after; a store closed under the run otherwise
    (``learner.closed``) stops it as ``cancel_event`` does: no further tool is called for it,
    and the attempt it refused is in ``unlearned``. The end-to-end outcome is counted for the
    plan's step structure (``learner.graphs``, when the learner keeps one) and logged as
    ``task_outcome``.
    """
    calls = getattr(learner, "_calls", None)  # a router's calls in flight: its close() waits for this run
    with contextlib.nullcontext() if calls is None else calls.held(learner._refused):
        if not isinstance(task, TaskProfile):
            task = TaskProfile.model_validate(task)
        _check_run_options(cancel_event, deadline_s)  # before the plan's decisions, as the executor's options
        if not isinstance(allow_infeasible, bool):  # "no" would have been taken for True
            raise TypeError(f"allow_infeasible: expected True or False, got {allow_infeasible!r}")
        if executor is not None:
            if not isinstance(executor, PlanExecutor):
                raise TypeError(f"executor: expected a PlanExecutor, got {type(executor).__name__}")
            if tools is not None or config is not None:  # the executor runs its own: they would be ignored
                given = " and ".join(name for name, v in (("tools", tools), ("config", config)) if v is not None)
                raise ValueError(f"executor: runs its own tools and config; give {given} or executor, not both")
            if isinstance(executor.tools, _RegisteredTools):
                executor.tools.check()  # a router's kept one: its functions may have been emptied since
        own = executor is None
        if executor is None:
            executor = learner_executor(learner, tools, config)
        try:
            if plan is None:
                # over the tools the executor can call: a plan under a budget that chose one with
                # no function ran its fallback instead, at a cost the plan never counted
                plan = learner.optimize_task_execution(
                    task, allow_infeasible=allow_infeasible, tools=executor.tools.keys()
                )
            else:
                _check_plan_fits(learner, task, plan)
        except BaseException:
            if own:
                executor.close()
            raise
        learn_task = task
        if not task.steps and not task.required_capabilities:
            # Steps from a template or from history: pin them, so that learning sees the graph
            # that ran even if the template or the history changes meanwhile.
            learn_task = task._unchecked_copy(steps=tuple(_steps_of(plan)))
        execution = TaskExecution(task=task, plan=plan, run=PlanRun())
        trace_id = f"run-{uuid.uuid4().hex}"
        # the run stops when the caller cancels it, or when the router's store is closed under it
        stop = asyncio.Event()
        relay = None
        if cancel_event is not None:
            relay = asyncio.get_running_loop().create_task(_relay(cancel_event, stop))
            if cancel_event.is_set():
                stop.set()  # before the run begins: it starts no step
        try:
            await executor.arun(
                plan,
                inputs,
                cancel_event=stop,
                deadline_s=deadline_s,
                run=execution.run,
                on_attempt=_learn_hook(learner, learn_task, execution, trace_id, executor.tools, stop),
                max_cost=task.max_cost,
            )
        finally:
            if relay is not None:
                relay.cancel()
            if own:
                executor.close()
            close_trace = getattr(learner, "close_trace", None)
            if close_trace is not None:
                # a run that did not succeed may have steps that never ran (skipped with no attempt,
                # or cancelled): the part that ran is not the task's structure
                try:
                    close_trace(trace_id, finished=execution.run.succeeded)
                except Exception as exc:
                    # the store's error (the trace stays open): the run and its recorded attempts
                    # are the caller's all the same, told as of an attempt the router refused
                    message = f"close_trace raised {describe_error(exc)}"
                    execution.run.callback_errors.append(message)
                    log.warning("trace_close_failed", error=message, trace_id=trace_id)
        run = execution.run
        # an attempt whose numbers the router refused is no longer in the run: the run holds the
        # failure recorded in its place, which was learned (PlanExecutor.arun)
        kept = {id(a) for a in run.attempts}
        execution.unlearned = [a for a in execution.unlearned if id(a) in kept]
        weights = task.weights or learner.weights
        qualities = [a.quality or 0.0 for a in run.attempts if a.success]
        execution.end_to_end_utility = weights.utility(
            run.succeeded,
            float(sum(qualities) / len(qualities)) if (qualities and run.succeeded) else 0.0,
            run.total_cost,
            run.latency_s,
        )
        graphs = getattr(learner, "graphs", None)
        if graphs is not None and run.status is not RunStatus.CANCELLED:
            graphs.record_run(task.task_type, _steps_of(plan), succeeded=run.succeeded)
        log.info(
            "task_outcome",
            task_id=task.task_id,
            task_type=task.task_type,
            status=run.status.value,
            cost=run.total_cost,
            latency_s=run.latency_s,
            utility=execution.end_to_end_utility,
            attempts=len(run.attempts),
        )
        return execution


def execute_task(learner: Any, task: TaskProfile, inputs: Any = None, **kwargs: Any) -> TaskExecution:
    """``aexecute_task`` from synchronous code (not from inside a running event loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run_in_new_loop(aexecute_task(learner, task, inputs, **kwargs))
    raise RuntimeError("execute was called inside a running event loop; await aexecute instead")


def _check_plan_fits(learner: Any, task: TaskProfile, plan: Any) -> None:
    """Refuse, before any tool runs, a plan whose steps are not those ``task`` declares: each
    attempt is learned as a step of the task (its capability, the steps it consumed), and an
    attempt at a step it lacks could not be; one run without the inputs the task gives it would
    be learned as its tool's failure; and a run that leaves out a step of the task would succeed
    without doing it, counted and learned as the task done. Nor may a step list a tool the router
    does not know, or one that does not serve the step (edited in, or a plan made before the tool
    changed): the tool was called, and its outcome refused as the step's (a tool removed since the
    plan was made is no longer called, and its step falls back)."""
    steps = _plan_steps(plan)
    tools, retired = learner.tools, getattr(learner, "_retired", {})
    for step in steps:
        for tool_id in step.tool_ids:
            profile = tools.get(tool_id)
            if profile is None and tool_id not in retired:
                raise ValueError(f"plan: step {step.step_id!r} lists tool {tool_id!r}, which the router does not know")
            if profile is not None and not profile.serves(step.capability):
                raise ValueError(
                    f"plan: step {step.step_id!r} lists tool {tool_id!r}, which serves {list(profile.capabilities)!r}, "
                    f"not {step.capability!r}; plan the task again"
                )
    if not (task.steps or task.required_capabilities):
        return  # the plan's steps become the task's (see aexecute_task)
    own = {s.step: s for s in learner.task_steps(task)}
    for step in steps:
        if step.step_id not in own:
            raise ValueError(
                f"plan: step {step.step_id!r} is not a step of task {task.task_id!r} (its steps: {sorted(own)})"
            )
        declared = own[step.step_id]
        # any tool's step: None in the task's steps and a router's plan, "*" in a planner Assignment
        if (None if step.capability == ANY_CAPABILITY else step.capability) != declared.capability:
            raise ValueError(
                f"plan: step {step.step_id!r} serves {step.capability!r}; task {task.task_id!r} has it serve "
                f"{declared.capability!r}"
            )
        if set(step.depends_on) != set(declared.depends_on):
            raise ValueError(
                f"plan: step {step.step_id!r} consumes {sorted(step.depends_on)}; task {task.task_id!r} has it "
                f"consume {sorted(declared.depends_on)}"
            )
    missing = sorted(set(own) - {step.step_id for step in steps})
    if missing:
        raise ValueError(f"plan: task {task.task_id!r} has steps {missing} the plan does not run")


def _steps_of(plan: Any) -> list[TaskStep]:
    return [
        TaskStep(step_id=s.step_id, capability=s.capability or ANY_CAPABILITY, depends_on=s.depends_on)
        for s in _plan_steps(plan)
    ]
