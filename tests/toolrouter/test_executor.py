"""The plan executor: concurrency, timeouts, retries, fallbacks, circuit breakers, cancellation,
and that every attempt is recorded whatever goes wrong."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import threading
import time

import pytest
from pydantic import ValidationError

from toolrouter.executor import (
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitState,
    ExecutorConfig,
    PlanExecutor,
    PlanRun,
    RetryPolicy,
    RunStatus,
    StepStatus,
    ToolFailure,
    ToolOutput,
)
from toolrouter.models import ExecutionResult, TaskStep
from toolrouter.plan import ExecutionPlan, PlanStep, ToolChoice
from toolrouter.planner import (
    Candidate,
    CyclicTaskGraphError,
    DanglingDependencyError,
    assign_tools,
    build_task_graph,
)

FAST = ExecutorConfig(timeout_s=0.5, retry=RetryPolicy(max_retries=0), circuit_breaker=None)


def plan_of(spec: dict[str, tuple[list[str], list[str]]], costs: dict[str, float] | None = None):
    """A planner Assignment: step -> (depends_on, ranked tool ids); capability = step id."""
    costs = costs or {}
    graph = build_task_graph(
        [TaskStep(step_id=s, capability=s, depends_on=deps) for s, (deps, _) in spec.items()]
    )
    cands = {
        s: [Candidate(t, 0.99 - 0.1 * k, cost=costs.get(t, 0.0)) for k, t in enumerate(tools)]
        for s, (_, tools) in spec.items()
    }
    return assign_tools(graph, cands, weights=None, method="brute_force", max_fallbacks=5, value=1e6)


def ok(value):
    def tool(req):
        return value
    return tool


def fails(message="boom"):
    def tool(req):
        raise RuntimeError(message)
    return tool


class Recorder:
    def __init__(self) -> None:
        self.results: list[ExecutionResult] = []

    def __call__(self, result: ExecutionResult) -> None:
        self.results.append(result)


async def until(condition) -> None:
    """Wait for what the tools do, not for a guess of how long it takes on a loaded machine."""
    for _ in range(5000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition did not hold within 5 s")


# --- data flow and concurrency ---------------------------------------------------------------------
def test_outputs_flow_to_dependents_and_branches_run_concurrently() -> None:
    spans = {}

    async def fetch_a(req):
        t0 = time.perf_counter()
        await asyncio.sleep(0.05)
        spans["a"] = (t0, time.perf_counter())
        return req.upstream["search"] + ["a"]

    async def fetch_b(req):
        t0 = time.perf_counter()
        await asyncio.sleep(0.05)
        spans["b"] = (t0, time.perf_counter())
        return req.upstream["search"] + ["b"]

    tools = {
        "web": lambda req: [req.inputs],
        "fa": fetch_a,
        "fb": fetch_b,
        "join": lambda req: sorted(req.upstream["fetch_a"] + req.upstream["fetch_b"]),
    }
    plan = plan_of({
        "search": ([], ["web"]),
        "fetch_a": (["search"], ["fa"]),
        "fetch_b": (["search"], ["fb"]),
        "join": (["fetch_a", "fetch_b"], ["join"]),
    })
    with PlanExecutor(tools, FAST) as ex:
        run = ex.run(plan, inputs="q")
    assert run.status is RunStatus.SUCCEEDED and run.succeeded
    assert run.outputs["join"] == ["a", "b", "q", "q"]
    assert [a.step for a in run.attempts][0] == "search"
    assert len(run.attempts) == 4 and all(a.success for a in run.attempts)
    fa = next(a for a in run.attempts if a.step == "fetch_a")
    assert fa.latency_s >= 0.045
    # the two branches ran at the same time: each started before the other ended
    assert spans["a"][0] < spans["b"][1] and spans["b"][0] < spans["a"][1]


def test_sync_tools_run_in_the_thread_pool() -> None:
    seen = []

    def tool(req):
        seen.append(threading.current_thread().name)
        return 1

    with PlanExecutor({"t": tool}, FAST) as ex:
        run = ex.run(plan_of({"s": ([], ["t"])}))
    assert run.succeeded and seen[0].startswith("toolrouter-tool")


def test_run_inside_an_event_loop_is_refused_with_a_clear_error() -> None:
    async def main():
        with PlanExecutor({"t": ok(1)}, FAST) as ex:
            ex.run(plan_of({"s": ([], ["t"])}))

    with pytest.raises(RuntimeError, match="await arun"):
        asyncio.run(main())


def test_runs_an_execution_plan_from_the_router() -> None:
    def choice(tool_id):
        return ToolChoice(tool_id, 0.5, 0.5, 0.9, 0.25, 0.1)

    plan = ExecutionPlan.from_steps("task", "research", [
        PlanStep("search", "search", (choice("bad"), choice("web"))),
        PlanStep("answer", "llm", (choice("llm"),), depends_on=("search",)),
    ])
    tools = {"bad": fails(), "web": ok("page"), "llm": lambda req: req.upstream["search"].upper()}
    with PlanExecutor(tools, FAST) as ex:
        run = ex.run(plan)
    assert run.outputs == {"search": "page", "answer": "PAGE"}
    assert [(a.tool_id, a.success, a.cost) for a in run.attempts] == [
        ("bad", False, 0.25), ("web", True, 0.25), ("llm", True, 0.25)]


# --- failures -------------------------------------------------------------------------------------
def test_raising_tool_falls_back_and_every_attempt_is_recorded() -> None:
    rec = Recorder()
    tools = {"a": fails("rate limited"), "b": fails("down"), "c": ok("fine")}
    with PlanExecutor(tools, FAST, on_attempt=rec) as ex:
        run = ex.run(plan_of({"s": ([], ["a", "b", "c"])}, costs={"a": 1.0, "b": 2.0, "c": 0.5}))
    step = run.steps["s"]
    assert step.status is StepStatus.SUCCEEDED and step.tool_id == "c" and step.output == "fine"
    assert [(r.tool_id, r.success) for r in rec.results] == [("a", False), ("b", False), ("c", True)]
    assert rec.results[0].error == "RuntimeError: rate limited" and rec.results[0].quality == 0.0
    assert run.attempts == rec.results and run.total_cost == pytest.approx(3.5)


def test_without_fallbacks_only_the_chosen_tool_is_tried() -> None:
    cfg = FAST.model_copy(update={"use_fallbacks": False})
    with PlanExecutor({"a": fails(), "c": ok(1)}, cfg) as ex:
        run = ex.run(plan_of({"s": ([], ["a", "c"])}))
    assert run.status is RunStatus.FAILED and len(run.attempts) == 1
    assert "a: RuntimeError: boom" in run.steps["s"].error


def test_hanging_tools_time_out_without_hanging_the_run() -> None:
    release = threading.Event()

    async def hangs(req):
        await asyncio.sleep(30)

    def hangs_sync(req):
        release.wait(30)  # released once the run is over
        return "late"

    # the answering tool gets 30 s of its own: only the hangs race the 0.03 s
    cfg = FAST.model_copy(update={"timeout_s": 0.03, "tool_timeouts_s": {"ok": 30.0}})
    t0 = time.perf_counter()
    try:
        with PlanExecutor({"h": hangs, "hs": hangs_sync, "ok": ok(7)}, cfg) as ex:
            run = ex.run(plan_of({"s": ([], ["h", "hs", "ok"])}))
    finally:
        release.set()
    assert time.perf_counter() - t0 < 20  # neither hang was waited for
    assert run.outputs == {"s": 7}
    timeouts = [a for a in run.attempts if not a.success]
    assert [a.tool_id for a in timeouts] == ["h", "hs"]
    assert all(a.error == f"TimeoutError: {a.tool_id!r} took longer than 0.03 s" for a in timeouts)
    assert all(a.latency_s >= 0.025 for a in timeouts)


def test_wrong_output_type_is_a_failure_that_is_not_retried() -> None:
    cfg = FAST.model_copy(update={"retry": RetryPolicy(max_retries=3, base_delay_s=0.0)})
    with PlanExecutor({"bad": ok(42), "good": ok(["x"])}, cfg, output_types={"s": list}) as ex:
        run = ex.run(plan_of({"s": ([], ["bad", "good"])}))
    assert [(a.tool_id, a.success) for a in run.attempts] == [("bad", False), ("good", True)]
    assert run.attempts[0].error == "TypeError: step 's' expects list, tool 'bad' returned int"


def test_tool_removed_mid_run_is_a_recorded_failure_then_fallback() -> None:
    tools: dict = {}

    def first(req):
        del tools["second_choice"]  # another thread unregisters a tool while the plan runs
        return "ok"

    tools.update({"first": first, "second_choice": ok("never"), "backup": ok("backup")})
    with PlanExecutor(tools, FAST) as ex:
        run = ex.run(plan_of({"a": ([], ["first"]), "b": (["a"], ["second_choice", "backup"])}))
    assert run.succeeded and run.outputs["b"] == "backup"
    removed = run.steps["b"].attempts[0]
    assert not removed.success and removed.cost == 0.0
    assert removed.error == "UnknownToolError: tool 'second_choice' is not among the executor's tools"


def test_failed_branch_keeps_completed_branches_and_skips_dependents() -> None:
    tools = {"good": ok("g"), "bad": fails(), "join": ok("j"), "after_good": ok("ag")}
    plan = plan_of({
        "left": ([], ["bad"]),
        "right": ([], ["good"]),
        "after_right": (["right"], ["after_good"]),
        "join": (["left", "right"], ["join"]),
    })
    with PlanExecutor(tools, FAST) as ex:
        run = ex.run(plan)
    assert run.status is RunStatus.PARTIAL
    assert run.statuses() == {
        "left": StepStatus.FAILED, "right": StepStatus.SUCCEEDED,
        "after_right": StepStatus.SUCCEEDED, "join": StepStatus.SKIPPED,
    }
    assert run.outputs == {"right": "g", "after_right": "ag"}
    assert "'left'" in run.steps["join"].error
    assert run.to_dict()["steps"]["left"]["status"] == "failed"


def test_tool_output_and_tool_failure_report_quality_and_cost() -> None:
    tools = {
        "cheap_fail": lambda req: (_ for _ in ()).throw(ToolFailure("quota", cost=0.2)),
        "rich": lambda req: ToolOutput("answer", quality=0.7, cost=1.5),
        "liar": lambda req: ToolOutput("answer", quality=3.0),
    }
    with PlanExecutor(tools, FAST) as ex:
        run = ex.run(plan_of({"s": ([], ["cheap_fail", "liar", "rich"])}))
    fail, liar, good = run.attempts
    assert (fail.success, fail.cost, fail.error) == (False, 0.2, "ToolFailure: quota")
    assert not liar.success and "quality 3.0" in liar.error
    assert (good.success, good.quality, good.cost) == (True, 0.7, 1.5) and run.outputs["s"] == "answer"


def test_on_attempt_errors_are_reported_and_the_run_goes_on() -> None:
    def broken_sink(result):
        raise OSError("disk full")

    with PlanExecutor({"t": ok(1)}, FAST, on_attempt=broken_sink) as ex:
        run = ex.run(plan_of({"s": ([], ["t"])}))
    assert run.succeeded and run.callback_errors == ["on_attempt raised OSError: disk full"]


def test_enforced_budget_skips_a_fallback_that_would_overspend() -> None:
    graph = build_task_graph([TaskStep(step_id="s", capability="s")])
    plan = assign_tools(graph, {"s": [Candidate("a", 0.9, cost=1.0), Candidate("b", 0.5, cost=5.0)]},
                        max_cost=3.0)
    cfg = FAST.model_copy(update={"enforce_budget": True})
    with PlanExecutor({"a": fails(), "b": ok(1)}, cfg) as ex:
        run = ex.run(plan)
    assert run.status is RunStatus.FAILED and run.steps["s"].skipped_tools == [("b", "over budget")]
    assert run.total_cost == 1.0


def test_enforced_budget_counts_the_calls_in_flight_of_parallel_steps() -> None:
    async def slow(req):
        await asyncio.sleep(0.02)
        return req.step_id

    plan = plan_of({f"s{i}": ([], ["t"]) for i in range(8)}, costs={"t": 1.0})
    plan = dataclasses.replace(plan, max_cost=3.0)
    with PlanExecutor({"t": slow}, FAST.model_copy(update={"enforce_budget": True})) as ex:
        run = ex.run(plan)
    assert run.total_cost == 3.0 and len(run.outputs) == 3
    skipped = [o for o in run.steps.values() if o.status is StepStatus.FAILED]
    assert len(skipped) == 5 and all(o.skipped_tools == [("t", "over budget")] for o in skipped)


def test_enforced_budget_stops_retries_that_would_overspend() -> None:
    graph = build_task_graph([TaskStep(step_id="s", capability="s")])
    plan = assign_tools(graph, {"s": [Candidate("a", 0.9, cost=1.0), Candidate("b", 0.5, cost=0.5)]},
                        max_cost=2.6)
    cfg = FAST.model_copy(update={"enforce_budget": True, "retry": RetryPolicy(max_retries=5, base_delay_s=0.0)})
    with PlanExecutor({"a": fails(), "b": ok(1)}, cfg) as ex:
        run = ex.run(plan)
    # two tries of a (2.0), a third would cross 2.6; b (0.5) still fits
    assert [(r.tool_id, r.success) for r in run.attempts] == [("a", False), ("a", False), ("b", True)]
    assert run.steps["s"].skipped_tools == [("a", "over budget")] and run.total_cost == 2.5


def test_plan_with_bad_graph_is_rejected() -> None:
    def step(name, deps):
        return PlanStep(name, "c", (ToolChoice("t", 0, 0, 1, 0, 0),), depends_on=deps)

    with PlanExecutor({"t": ok(1)}, FAST) as ex:
        with pytest.raises(CyclicTaskGraphError):
            ex.run(ExecutionPlan.from_steps("t", "x", [step("a", ("b",)), step("b", ("a",))]))
        with pytest.raises(DanglingDependencyError):
            ex.run(ExecutionPlan.from_steps("t", "x", [step("a", ("ghost",))]))
        with pytest.raises(TypeError, match="plan: expected"):
            ex.run(object())
        with pytest.raises(ValueError, match="deadline_s: expected a finite number > 0, got 0"):
            ex.run(plan_of({"s": ([], ["t"])}), deadline_s=0)
    with pytest.raises(TypeError, match="tools: expected a mapping"):
        PlanExecutor([ok(1)])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"tools\['t'\]: expected a callable, got 5"):
        PlanExecutor({"t": 5})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match=r"output_types\['s'\]: expected a type or a tuple of types, got 'int'"):
        PlanExecutor({"t": ok(1)}, output_types={"s": "int"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="max_workers: expected an integer >= 1, got '4'"):
        PlanExecutor({"t": ok(1)}, max_workers="4")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="timeout_s"):
        ExecutorConfig(timeout_s=-1)


# --- retries and backoff ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: PlanExecutor({"t": ok(1)}, costs={"t": -1.0}), ValueError, r"costs\['t'\]: expected a finite number >= 0, got -1.0"),
        (lambda: PlanExecutor({"t": ok(1)}, costs={"t": float("nan")}), ValueError, r"costs\['t'\]: expected a finite number >= 0, got nan"),
        (lambda: PlanExecutor({"t": ok(1)}, costs={"t": "1"}), ValueError, r"costs\['t'\]: expected a finite number >= 0, got '1'"),
        (lambda: PlanExecutor({"t": ok(1)}, costs=[1.0]), TypeError, r"costs: expected a mapping of tool id to cost, got list"),
        (lambda: PlanExecutor({"t": ok(1)}, output_types=[int]), TypeError, r"output_types: expected a mapping .*got list"),
        (lambda: PlanExecutor({"t": ok(1)}, on_attempt=5), TypeError, r"on_attempt: expected a callable, got 5"),
        (lambda: PlanExecutor({"t": ok(1)}, clock=5), TypeError, r"clock: expected a callable, got 5"),
    ],
)
def test_executor_options_of_the_wrong_kind_are_refused_naming_them(make, error, message) -> None:
    # a negative or NaN cost was summed into every run's total_cost, a string cost read as a
    # number, and the rest failed at the first attempt (or in every on_attempt, reported per attempt)
    with pytest.raises(error, match=message):
        make()


def test_run_options_of_the_wrong_kind_are_refused_before_any_tool_runs() -> None:
    calls = []
    plan = plan_of({"s": ([], ["t"])})
    with PlanExecutor({"t": lambda request: calls.append(1)}, FAST) as ex:
        used = ex.run(plan)
        for options, error, message in [
            ({"deadline_s": "1"}, ValueError, r"deadline_s: expected a finite number > 0, got '1'"),
            ({"deadline_s": True}, ValueError, r"deadline_s: expected a finite number > 0, got True"),
            ({"run": {}}, TypeError, r"run: expected a new PlanRun, got \{\}"),
            ({"run": used}, TypeError, r"run: expected a new PlanRun"),  # its attempts would be summed in
            ({"on_attempt": "log"}, TypeError, r"on_attempt: expected a callable, got 'log'"),
        ]:
            with pytest.raises(error, match=message):
                ex.run(plan, **options)
    assert len(calls) == 1 and len(used.attempts) == 1


def test_the_event_loops_of_threads_that_have_ended_are_closed() -> None:
    # each thread that called run kept an event loop (three file descriptors) until close(): a
    # server calling run from a thread per request ran out of descriptors
    loops: list[asyncio.AbstractEventLoop] = []

    async def tool(request):
        loops.append(asyncio.get_running_loop())

    plan = plan_of({"s": ([], ["t"])})
    with PlanExecutor({"t": tool}, FAST) as ex:
        for _ in range(4):
            thread = threading.Thread(target=ex.run, args=(plan,))
            thread.start()
            thread.join()
        assert [loop.is_closed() for loop in loops] == [True, True, True, False]  # the last one's: at the next
        ex.run(plan)
        ex.run(plan)  # this thread's loop, kept across runs
        assert loops[-1] is loops[-2] and not loops[-1].is_closed() and loops[3].is_closed()
    assert loops[-1].is_closed()


def test_a_tools_keyboard_interrupt_ends_the_run_with_no_step_left_running() -> None:
    # the interrupt stopped the thread's event loop with the other steps on it: the record said
    # they had failed while they still ran, and the thread's next run resumed them and raised
    # the interrupt again
    def interrupt(request):
        raise KeyboardInterrupt

    async def wait(request):
        await asyncio.Event().wait()

    record = PlanRun()
    with PlanExecutor({"stop": interrupt, "wait": wait, "t": ok(1)}, FAST) as ex:
        with pytest.raises(KeyboardInterrupt):
            ex.run(plan_of({"a": ([], ["stop"]), "b": ([], ["wait"]), "c": (["b"], ["t"])}), run=record)
        assert record.status is RunStatus.CANCELLED
        assert record.statuses() == {"a": StepStatus.CANCELLED, "b": StepStatus.CANCELLED, "c": StepStatus.CANCELLED}
        assert sorted((a.tool_id, a.error) for a in record.attempts) == [
            ("stop", "CancelledError: run cancelled"), ("wait", "CancelledError: run cancelled")
        ]
        assert ex.run(plan_of({"d": ([], ["t"])})).outputs == {"d": 1}


def test_retries_with_backoff_then_success() -> None:
    calls = []

    def flaky(req):
        calls.append((req.attempt, time.perf_counter()))
        if len(calls) < 3:
            raise ConnectionError("reset")
        return "ok"

    cfg = FAST.model_copy(update={"retry": RetryPolicy(max_retries=2, base_delay_s=0.02, jitter=0.0)})
    with PlanExecutor({"f": flaky}, cfg) as ex:
        run = ex.run(plan_of({"s": ([], ["f"])}))
    assert run.succeeded and [a for a, _ in calls] == [0, 1, 2]
    assert [a.success for a in run.attempts] == [False, False, True]
    gaps = [calls[i + 1][1] - calls[i][1] for i in range(2)]
    assert gaps[0] >= 0.018 and gaps[1] >= 0.038  # 20 ms, then 40 ms


def test_backoff_is_exponential_capped_and_seeded() -> None:
    policy = RetryPolicy(base_delay_s=0.1, multiplier=2.0, max_delay_s=0.5, jitter=0.5)
    a = [policy.delay_s(k, random.Random(1)) for k in range(5)]
    b = [policy.delay_s(k, random.Random(1)) for k in range(5)]
    assert a == b
    for k, d in enumerate(a):
        full = min(0.5, 0.1 * 2**k)
        assert 0.5 * full <= d <= full
    assert RetryPolicy(jitter=0.0, base_delay_s=0.1).delay_s(1, random.Random(0)) == pytest.approx(0.2)


# --- circuit breaker ----------------------------------------------------------------------------------
def test_circuit_breaker_state_machine() -> None:
    now = [0.0]
    cb = CircuitBreaker("t", CircuitBreakerConfig(failure_threshold=3, reset_timeout_s=10.0), lambda: now[0])
    cb.record_failure()
    cb.record_failure()
    cb.record_success()  # a success resets the count
    cb.record_failure()
    cb.record_failure()
    assert cb.state is CircuitState.CLOSED
    cb.record_failure()
    assert cb.state is CircuitState.OPEN and not cb.allow() and cb.times_opened == 1
    now[0] = 10.0
    assert cb.allow() and cb.state is CircuitState.HALF_OPEN
    assert not cb.allow()  # one probe at a time
    cb.release()
    assert cb.allow()
    cb.record_failure()  # a failed probe opens it again
    assert cb.state is CircuitState.OPEN and cb.times_opened == 2
    now[0] = 25.0
    assert cb.allow()
    cb.record_success()
    assert cb.state is CircuitState.CLOSED and cb.consecutive_failures == 0


def test_open_circuit_skips_the_tool_across_runs_then_probes() -> None:
    now = [0.0]
    healthy = [False]

    def unstable(req):
        if not healthy[0]:
            raise RuntimeError("503")
        return "back"

    cfg = ExecutorConfig(timeout_s=0.5, retry=RetryPolicy(max_retries=1, base_delay_s=0.0),
                         circuit_breaker=CircuitBreakerConfig(failure_threshold=2, reset_timeout_s=30.0))
    plan = plan_of({"s": ([], ["unstable", "backup"])})
    with PlanExecutor({"unstable": unstable, "backup": ok("b")}, cfg, clock=lambda: now[0]) as ex:
        first = ex.run(plan)
        assert [a.tool_id for a in first.attempts] == ["unstable", "unstable", "backup"]
        assert ex.breaker("unstable").state is CircuitState.OPEN
        second = ex.run(plan)
        assert [a.tool_id for a in second.attempts] == ["backup"]
        assert second.steps["s"].skipped_tools == [("unstable", "circuit open")]
        healthy[0] = True
        now[0] = 31.0
        third = ex.run(plan)
        assert [(a.tool_id, a.success) for a in third.attempts] == [("unstable", True)]
        assert ex.breaker("unstable").state is CircuitState.CLOSED


# --- cancellation -----------------------------------------------------------------------------------
def test_cancel_event_returns_a_cancelled_run_with_every_attempt() -> None:
    rec = Recorder()

    started = []

    async def slow(req):
        started.append(req.step_id)
        await asyncio.sleep(5)

    async def main():
        event = asyncio.Event()
        tools = {"quick": ok("q"), "slow": slow, "after": ok("never")}
        plan = plan_of({"a": ([], ["quick"]), "b": ([], ["slow"]), "c": (["b"], ["after"])})
        with PlanExecutor(tools, FAST.model_copy(update={"timeout_s": 10.0}), on_attempt=rec) as ex:
            task = asyncio.create_task(ex.arun(plan, cancel_event=event))
            await until(lambda: started and rec.results)  # "slow" runs, "quick" is done
            event.set()
            return await asyncio.wait_for(task, 1.0)

    run = asyncio.run(main())
    assert run.status is RunStatus.CANCELLED
    assert run.statuses() == {"a": StepStatus.SUCCEEDED, "b": StepStatus.CANCELLED, "c": StepStatus.CANCELLED}
    assert run.outputs == {"a": "q"}
    cancelled = [r for r in rec.results if r.tool_id == "slow"]
    assert len(cancelled) == 1 and cancelled[0].error == "CancelledError: run cancelled"
    assert run.attempts == rec.results and len(rec.results) == 2


def test_cancelling_the_task_records_attempts_in_the_run_and_reraises() -> None:
    rec = Recorder()

    started = []

    async def slow(req):
        started.append(req.step_id)
        await asyncio.sleep(5)

    async def main():
        record = PlanRun()
        with PlanExecutor({"slow": slow}, FAST.model_copy(update={"timeout_s": 10.0}), on_attempt=rec) as ex:
            task = asyncio.create_task(ex.arun(plan_of({"x": ([], ["slow"]), "y": ([], ["slow"])}), run=record))
            await until(lambda: len(started) == 2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        return record

    record = asyncio.run(main())
    assert record.status is RunStatus.CANCELLED
    assert sorted(a.step for a in record.attempts) == ["x", "y"]
    assert all(a.error == "CancelledError: run cancelled" for a in record.attempts)
    assert rec.results == record.attempts


def test_deadline_cancels_what_is_still_running() -> None:
    async def slow(req):
        await asyncio.sleep(30)

    # a deadline far above what "fast" needs, even on a loaded machine; "slow" only ends by it
    t0 = time.perf_counter()
    with PlanExecutor({"slow": slow, "fast": ok(1)}, FAST.model_copy(update={"timeout_s": 60.0})) as ex:
        run = ex.run(plan_of({"a": ([], ["fast"]), "b": ([], ["slow"])}), deadline_s=0.5)
    assert time.perf_counter() - t0 < 20
    assert run.status is RunStatus.CANCELLED and run.statuses()["a"] is StepStatus.SUCCEEDED
    # cut by the deadline: a timeout of the tool (learned), not a cancellation by the caller
    assert [a.error for a in run.steps["b"].attempts] == ["TimeoutError: 'slow' took longer than the run's deadline allowed"]


def test_cancellation_during_backoff_keeps_the_failed_attempts() -> None:
    cfg = FAST.model_copy(update={"retry": RetryPolicy(max_retries=3, base_delay_s=5.0, jitter=0.0)})
    with PlanExecutor({"bad": fails("flaky")}, cfg) as ex:
        run = ex.run(plan_of({"s": ([], ["bad"])}), deadline_s=0.5)  # in the 5 s backoff, long after "bad"
    assert run.status is RunStatus.CANCELLED
    assert [a.error for a in run.attempts] == ["RuntimeError: flaky"]


# --- knobs ---------------------------------------------------------------------------------------
def test_max_concurrency_bounds_calls_in_flight() -> None:
    in_flight, peak = [0], [0]

    async def tool(req):
        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        await asyncio.sleep(0.01)
        in_flight[0] -= 1
        return 1

    spec = {f"s{i}": ([], ["t"]) for i in range(6)}
    for limit, expected in ((2, 2), (None, 6)):
        peak[0] = 0
        cfg = FAST.model_copy(update={"max_concurrency": limit})
        with PlanExecutor({"t": tool}, cfg) as ex:
            assert ex.run(plan_of(spec)).succeeded
        assert peak[0] == expected


def test_per_tool_timeout_max_fallbacks_and_awaitable_from_a_sync_tool() -> None:
    # no race between a sleep and a timeout: "slowish", under its own 30 s, outlives the run's 0.05 s
    # timeout twice over by waiting until that timeout has cut "hangs" and then its fallback; the
    # other tools get 30 s as well
    cut = asyncio.Event()

    def on_attempt(result: ExecutionResult) -> None:
        if result.tool_id == "hangs_too":
            cut.set()

    async def hangs(req):
        await asyncio.Event().wait()  # never set: only the timeout ends it

    async def slowish(req):
        await cut.wait()
        return "slow"

    async def coro():
        return "from a coroutine"

    def own_timeout(req):
        raise TimeoutError("upstream gateway timed out")

    long = {"slowish": 30.0, "wraps": 30.0, "gw": 30.0, "gw_too": 30.0}
    cfg = FAST.model_copy(update={"timeout_s": 0.05, "tool_timeouts_s": long, "max_fallbacks": 1})
    tools = {
        "slowish": slowish, "hangs": hangs, "hangs_too": hangs, "wraps": lambda req: coro(), "gw": own_timeout,
        "gw_too": own_timeout, "never": ok(0),
    }
    plan = plan_of({
        "a": ([], ["slowish"]), "b": ([], ["wraps"]), "c": ([], ["gw", "x", "gw_too", "never"]),
        "d": ([], ["hangs", "hangs_too"]),
    })
    with PlanExecutor(tools, cfg, on_attempt=on_attempt) as ex:
        run = ex.run(plan)
    assert run.outputs["a"] == "slow" and run.outputs["b"] == "from a coroutine"
    assert [a.error for a in run.steps["d"].attempts] == [
        f"TimeoutError: {t!r} took longer than 0.05 s" for t in ("hangs", "hangs_too")
    ]
    # one fallback only: "x", which has no function, is not called and takes no place
    assert [a.tool_id for a in run.steps["c"].attempts] == ["gw", "x", "gw_too"]
    assert run.steps["c"].attempts[0].error == "TimeoutError: upstream gateway timed out"


def test_cancel_event_set_before_the_run_starts_no_step() -> None:
    rec = Recorder()
    called: list[str] = []

    async def eager(req):  # never awaits: once called, it runs to its end
        called.append(req.step_id)
        return "done"

    def sync(req):
        called.append(req.step_id)
        return "done"

    async def main():
        event = asyncio.Event()
        event.set()
        plan = plan_of({"a": ([], ["eager"]), "b": ([], ["sync"]), "c": (["a"], ["eager"])})
        with PlanExecutor({"eager": eager, "sync": sync}, FAST, on_attempt=rec) as ex:
            return await ex.arun(plan, cancel_event=event)

    run = asyncio.run(main())
    assert run.status is RunStatus.CANCELLED
    assert run.statuses() == {s: StepStatus.CANCELLED for s in ("a", "b", "c")}
    assert called == [] and run.attempts == [] and rec.results == []
