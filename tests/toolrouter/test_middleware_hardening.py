"""ToolMiddleware under faulty tools: timeouts, deadlines, retries and breakers from the one attempt
loop; every attempt recorded and a fallback whatever a tool does; tools removed mid-call; the
README's restart pattern resumes exactly."""

from __future__ import annotations

import asyncio
import decimal
import fractions
import math
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from toolrouter import (
    AllToolsFailedError,
    CircuitBreakerConfig,
    ExecutionResult,
    ExecutorConfig,
    RetryPolicy,
    TaskProfile,
    ToolFailure,
    ToolMetaLearner,
    ToolMiddleware,
    ToolOutput,
    ToolProfile,
)
from toolrouter.attempts import Binding, CallSpec, attempt_loop, run_sync
from toolrouter.errors import InvalidOutcomeError
from toolrouter.models import CANCELLED_BY_CALLER


def _middleware(**options) -> ToolMiddleware:
    return ToolMiddleware(store="memory://", seed=0, **options)


def _register_pair(mw: ToolMiddleware, first, capability: str = "x", **options) -> None:
    """``first`` (registered with ``options``) looks far better a priori, so it is tried first;
    ``backup`` answers ``"backup"``."""
    mw.register(first, capability, tool_id="first", reliability=1.0, expected_latency_s=0.0, **options)
    mw.register(lambda *a, **k: "backup", capability, tool_id="backup", reliability=0.05, cost_per_use=5.0,
                expected_latency_s=5.0)


def _stored(mw: ToolMiddleware) -> list[tuple[str, bool]]:
    return [(r.tool_id, r.success) for r in mw.learner.store.attempts()]


# --- timeouts, deadlines, retries, breakers ----------------------------------------------------
def test_a_hanging_sync_tool_times_out_and_falls_back() -> None:
    release = threading.Event()
    mw = _middleware(config=ExecutorConfig(timeout_s=0.2, retry=RetryPolicy(max_retries=0), circuit_breaker=None))
    _register_pair(mw, lambda: release.wait(30))
    t0 = time.monotonic()
    outcome = mw.route("x").run()
    elapsed = time.monotonic() - t0
    release.set()
    assert outcome.value == "backup" and elapsed < 5
    hung = outcome.attempts[0]
    assert (hung.tool_id, hung.success) == ("first", False)
    assert hung.error == "TimeoutError: 'first' took longer than 0.2 s" and hung.latency_s >= 0.19
    assert _stored(mw) == [("first", False), ("backup", True)]


@pytest.mark.parametrize("form", ["sync", "async"])
def test_a_hanging_async_tool_times_out_in_both_call_forms(form: str) -> None:
    mw = _middleware()

    async def hangs() -> str:
        await asyncio.sleep(30)
        return "late"

    _register_pair(mw, hangs)
    call = mw.route("x", timeout_s=0.1)
    t0 = time.monotonic()
    assert (call() if form == "sync" else asyncio.run(call.acall())) == "backup"
    assert time.monotonic() - t0 < 5
    assert _stored(mw) == [("first", False), ("backup", True)]
    assert mw.learner.store.attempts()[0].error == "TimeoutError: 'first' took longer than 0.1 s"


def test_timeouts_per_tool_and_per_call_override_the_config() -> None:
    mw = _middleware(config=ExecutorConfig(timeout_s=5.0, retry=RetryPolicy(max_retries=0), circuit_breaker=None))
    release = threading.Event()  # "slow" answers only once released: no race with a sleep
    mw.register(lambda: release.wait(30) and "slow", "x", tool_id="slow", timeout_s=0.05)
    with pytest.raises(AllToolsFailedError, match="took longer than 0.05 s"):
        mw.call("x")  # the tool's own 0.05 s, not the config's 5 s
    threading.Timer(0.2, release.set).start()
    assert mw.route("x", timeout_s=30.0)() == "slow"  # the call's own timeout over the tool's
    with pytest.raises(ValueError, match="timeout_s"):
        mw.register(lambda: 1, "x", tool_id="bad", timeout_s=-1)
    with pytest.raises(ValueError, match="timeout_s"):
        mw.route("x", timeout_s=float("nan"))
    assert "bad" not in mw.tool_ids


def test_the_deadline_bounds_the_whole_call() -> None:
    mw = _middleware()
    release = threading.Event()  # the tools answer only once released, after the call
    for name in ("a", "b", "c"):
        mw.register(lambda: release.wait(30), "x", tool_id=name)
    t0 = time.monotonic()
    try:
        with pytest.raises(AllToolsFailedError, match="deadline") as info:
            mw.route("x", deadline_s=0.25)()
    finally:
        release.set()
    assert time.monotonic() - t0 < 20  # not three timeouts of 30 s
    (only,) = info.value.attempts
    assert not only.success and "the call's deadline" in only.error


def test_retries_with_backoff_are_available_per_call() -> None:
    tries: list[int] = []

    def flaky() -> str:
        tries.append(1)
        if len(tries) < 3:
            raise ConnectionError("blip")
        return "third time"

    mw = _middleware()
    mw.register(flaky, "x")
    assert mw.route("x", retry=RetryPolicy(max_retries=2, base_delay_s=0.001))() == "third time"
    assert _stored(mw) == [("flaky", False), ("flaky", False), ("flaky", True)]
    with pytest.raises(ValueError, match="max_retries"):
        mw.route("x", retry={"max_retries": -1})


def test_circuit_breakers_skip_a_tool_that_is_down() -> None:
    calls: list[str] = []

    def down() -> str:
        calls.append("down")
        raise ConnectionError("refused")

    mw = _middleware(config=ExecutorConfig(
        retry=RetryPolicy(max_retries=0),
        circuit_breaker=CircuitBreakerConfig(failure_threshold=2, reset_timeout_s=60.0),
    ))
    _register_pair(mw, down)
    for _ in range(6):
        assert mw.call("x") == "backup"
    assert calls.count("down") <= 2  # after two failures in a row the circuit is open
    assert mw.breakers["first"].state.value == "open"


# --- whatever the tool does, the attempt is recorded and the call falls back ---------------------
class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message for you")


class _RateLimited(ToolFailure):
    def __init__(self, retry_after_s: float) -> None:  # skips ToolFailure's, which sets cost and latency_s
        Exception.__init__(self, f"retry after {retry_after_s} s")


def _raise(exc: BaseException):
    def tool(*args, **kwargs):
        raise exc

    return tool


BAD_TOOLS = {
    "nan cost": lambda: ToolOutput("v", cost=math.nan),
    "infinite latency": lambda: ToolOutput("v", latency_s=math.inf),
    "negative cost": lambda: ToolOutput("v", cost=-1.0),
    "quality above 1": lambda: ToolOutput("v", quality=1.5),
    "nan quality": lambda: ToolOutput("v", quality=math.nan),
    "string cost": lambda: ToolOutput("v", cost="cheap"),
    "utility overflow": lambda: ToolOutput("v", cost=1e300),
    "unprintable exception": _raise(_Unprintable()),
    "failure with nan numbers": _raise(ToolFailure("quota", cost=math.nan, latency_s=-3.0)),
    "failure without numbers": _raise(_RateLimited(3)),
}
if sys.version_info >= (3, 11):  # what a task group raises, whose own message says nothing of the cause
    BAD_TOOLS["task group failure"] = _raise(ExceptionGroup("unhandled errors in a TaskGroup", [ConnectionRefusedError("port 9")]))
    BAD_TOOLS["task group failures"] = _raise(ExceptionGroup("2 failed", [OSError("a"), ExceptionGroup("inner", [KeyError("b")])]))


@pytest.mark.parametrize("case", sorted(BAD_TOOLS))
@pytest.mark.parametrize("form", ["sync", "async"])
def test_garbage_from_a_tool_is_its_recorded_failure_and_the_call_falls_back(case: str, form: str) -> None:
    mw = _middleware()
    _register_pair(mw, BAD_TOOLS[case])
    call = mw.route("x")
    value = call() if form == "sync" else asyncio.run(call.acall())
    assert value == "backup"
    first, backup = mw.learner.store.attempts()
    assert (first.tool_id, first.success, backup.tool_id, backup.success) == ("first", False, "backup", True)
    assert first.error and all(math.isfinite(v) and v >= 0 for v in (first.cost, first.latency_s))
    assert math.isfinite(first.utility)
    if case == "unprintable exception":
        assert first.error == "_Unprintable: <unprintable message: str() raised RuntimeError>"
    if case == "failure with nan numbers":
        assert first.error == "ToolFailure: quota" and first.cost == 0.0  # invalid numbers: the defaults
    if case == "failure without numbers":
        assert first.error == "_RateLimited: retry after 3 s" and first.cost == 0.0
    if case == "task group failure":
        assert first.error == "ConnectionRefusedError: port 9"
    if case == "task group failures":
        assert first.error == "ExceptionGroup: 2 failed (2 sub-exceptions): OSError: a; KeyError: 'b'"


def test_an_error_message_no_encoding_can_hold_is_recorded_storable(tmp_path: Path) -> None:
    # a lone surrogate in a tool's exception: every store would fail to write it as it is
    mw = ToolMiddleware(store=f"sqlite:///{tmp_path / 'log.db'}", seed=0)

    def broken():
        raise RuntimeError("bad \ud800 byte")

    _register_pair(mw, broken)
    outcome = mw.route("x").run()
    assert outcome.value == "backup" and outcome.attempts[0].error == "RuntimeError: bad \ufffd byte"
    assert [a.error for a in mw.learner.store.attempts()] == ["RuntimeError: bad \ufffd byte", None]
    with pytest.raises(ValueError, match="task_id must be text a store can keep"):
        TaskProfile(task_id="t\udfff", required_capabilities=["x"])


@pytest.mark.parametrize("form", ["sync", "async"])
def test_numbers_of_numpys_types_are_taken_as_numbers(form: str) -> None:
    mw = _middleware()
    mw.register(lambda: ToolOutput("reported", quality=np.float32(0.5), cost=np.int64(2), latency_s=np.float64(0.25)),
                "x", tool_id="reports")
    mw.register(lambda: "scored", "y", tool_id="scored", quality=lambda value: np.float32(0.75))
    mw.register(lambda: ToolOutput("v", quality=np.float32(1.5)), "z", tool_id="too_good")
    mw.register(lambda: ToolOutput("v", cost=decimal.Decimal(1)), "w", tool_id="decimal")
    for capability in ("x", "y"):
        call = mw.route(capability)
        outcome = call.run() if form == "sync" else asyncio.run(call.arun())
        assert outcome.attempts[0].success
    reported, scored = mw.learner.store.attempts()
    assert (reported.quality, reported.cost, reported.latency_s, scored.quality) == (0.5, 2.0, 0.25, 0.75)
    with pytest.raises(AllToolsFailedError, match=r"reported quality np.float32\(1.5\), not in \[0, 1\]"):
        mw.call("z")
    with pytest.raises(AllToolsFailedError, match=r"reported cost Decimal\('1'\), not a real number"):
        mw.call("w")
    mw.register(lambda: ToolOutput("v", cost=_NoValue()), "v", tool_id="no_value")
    with pytest.raises(AllToolsFailedError, match=r"reported cost <no value>, not a real number"):
        mw.call("v")


class _NoValue(fractions.Fraction):
    """A real number by its type whose value cannot be read."""

    def __float__(self) -> float:
        raise ArithmeticError("no value")

    def __repr__(self) -> str:
        return "<no value>"


@pytest.mark.parametrize("scorer", [lambda v: 1 / 0, lambda v: math.nan, lambda v: 7, lambda v: "good"])
def test_a_quality_function_that_fails_fails_the_attempt_not_the_call(scorer) -> None:
    mw = _middleware()
    mw.register(lambda: "v", "x", tool_id="first", reliability=1.0, quality=scorer)
    mw.register(lambda: "backup", "x", tool_id="backup", reliability=0.05, cost_per_use=5.0)
    assert mw.call("x") == "backup"
    first = mw.learner.store.attempts()[0]
    assert (first.tool_id, first.success) == ("first", False) and "quality function of 'first'" in first.error


def test_invalid_routing_options_are_refused_before_any_tool_runs() -> None:
    ran: list[int] = []
    mw = _middleware()
    mw.register(lambda: ran.append(1), "x")
    for options, field in [
        ({"weights": {"cost": math.nan}}, "cost"),
        ({"weights": "cheap"}, "weights"),
        ({"weights": {"nonsense": 1.0}}, "nonsense"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"deadline_s": 0}, "deadline_s"),
        ({"context": 42}, "context"),
        ({"task_type": ""}, "task_type"),
    ]:
        with pytest.raises((ValueError, TypeError), match=field):
            mw.route("x", **options)
    assert ran == [] and mw.learner.store.count() == 0
    mw.route("x", weights={"cost": 2.0})()  # a mapping of valid weights is taken
    assert ran == [1]


def test_an_unprintable_exception_does_not_escape_execute() -> None:
    router = ToolMetaLearner([ToolProfile(tool_id="bad", capabilities=["x"]),
                              ToolProfile(tool_id="good", capabilities=["x"], reliability=0.1)], seed=0)
    router.functions.update({"bad": _raise(_Unprintable()), "good": lambda request: "ok"})
    for _ in range(3):
        run = router.execute(TaskProfile(task_id="t", required_capabilities=["x"]))
        assert run.outputs["x"] == "ok"
    errors = [a.error for a in run.run.attempts if not a.success]
    assert all(e.startswith("_Unprintable: <unprintable") for e in errors)


# --- tools removed while calls run ---------------------------------------------------------------
def test_an_attempt_in_flight_when_its_tool_is_removed_is_recorded_and_returned() -> None:
    mw = _middleware()
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "finished"

    mw.register(slow, "x")
    result: list = []
    caller = threading.Thread(target=lambda: result.append(mw.route("x").run()))
    caller.start()
    assert started.wait(5)
    mw.unregister("slow")  # removed while it runs
    release.set()
    caller.join(5)
    assert result[0].value == "finished" and result[0].tool_id == "slow"
    assert _stored(mw) == [("slow", True)]
    assert "slow" not in mw.learner.tool_statistics()


def test_an_attempt_in_flight_when_its_tool_stops_serving_the_capability_is_recorded_and_returned() -> None:
    """The attempt used to be refused ("does not serve capability"), which raised out of the call
    and lost the tool's answer and its outcome."""
    mw = _middleware()

    def mover() -> str:
        profile = mw.learner.tools["mover"]
        mw.learner.update_tool(profile.model_copy(update={"capabilities": ("y",)}))  # while it runs
        return "finished"

    mw.register(mover, "x", reliability=1.0)
    outcome = mw.route("x").run()
    assert outcome.value == "finished" and outcome.tool_id == "mover"
    assert _stored(mw) == [("mover", True)]
    assert mw.learner.tool_statistics("default")["mover"].calls == 0  # stored, not learned: it no longer serves x
    with pytest.raises(InvalidOutcomeError, match="'mover' does not serve capability 'z'"):
        mw.learner.record_attempt(ExecutionResult(tool_id="mover", success=True), capability="z")
    # a call that started when its tool served x ends after an update, a removal and a new registration
    router = mw.learner
    router.add_tool(ToolProfile(tool_id="hop", capabilities=("x",)))
    router.update_tool(ToolProfile(tool_id="hop", capabilities=("y",)))
    router.remove_tool("hop")
    router.add_tool(ToolProfile(tool_id="hop", capabilities=("z",)))
    router.record_attempt(ExecutionResult(tool_id="hop", success=True), capability="x")
    assert _stored(mw)[-1] == ("hop", True)


def test_registering_and_removing_tools_under_load_loses_nothing() -> None:
    mw = _middleware()
    mw.register(lambda: "stable", "x", tool_id="stable", reliability=0.5)
    stop = threading.Event()
    errors: list[BaseException] = []
    attempts = [0]
    lock = threading.Lock()

    def churn() -> None:
        while not stop.is_set():
            mw.register(lambda: "churn", "x", tool_id="churn", reliability=1.0)
            time.sleep(0)
            mw.unregister("churn")

    def call() -> None:
        while not stop.is_set():
            try:
                outcome = mw.route("x").run()
                n = len(outcome.attempts)
            except AllToolsFailedError as exc:
                n = len(exc.attempts)
            except BaseException as exc:  # anything else is a defect: keep it for the assertion
                errors.append(exc)
                return
            with lock:
                attempts[0] += n

    threads = [threading.Thread(target=churn)] + [threading.Thread(target=call) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    stop.set()
    for t in threads:
        t.join(10)
    assert errors == []
    assert attempts[0] > 100 and mw.learner.store.count() == attempts[0]


class _TimeoutsUnregisteredMidRead(dict):
    """Per-tool timeouts whose tool is unregistered by another thread right after a lookup finds it."""

    def __contains__(self, key: object) -> bool:
        found = super().__contains__(key)
        self.pop(key, None)
        return found


def test_a_tool_unregistered_while_its_timeout_is_read_is_still_tried_and_recorded() -> None:
    recorded = []
    spec = CallSpec(
        step="s", candidates=["t"], bind=lambda tool, attempt: Binding(lambda: "ok"), record=recorded.append,
        config=ExecutorConfig(retry=RetryPolicy(max_retries=0)), tool_timeouts_s=_TimeoutsUnregisteredMidRead(t=5.0),
    )
    report = run_sync(attempt_loop(spec))
    assert report.value == "ok" and [(r.tool_id, r.success) for r in recorded] == [("t", True)]


# --- the README's restart pattern --------------------------------------------------------------
_LIFETIME = textwrap.dedent(
    """
    import sys
    from toolrouter import ToolMiddleware

    tools = ToolMiddleware(store=f"sqlite:///{sys.argv[1]}", seed=0)

    @tools.tool("search", cost_per_use=0.01)
    def web_search(query: str) -> str:
        return f"results for {query}"

    async def backup_search(query: str) -> str:
        return f"backup results for {query}"

    tools.register(backup_search, "search", cost_per_use=0.002, reliability=0.7)
    for i in range(20):
        tools.call("search", f"q{i}")
    if sys.argv[2] == "save":
        tools.learner.save()
    stats = tools.learner.tool_statistics()
    print(sum(s.calls for s in stats.values()), tools.learner.store.count())
    """
)


@pytest.mark.parametrize("save", ["save", "no-save"])
def test_the_readme_pattern_resumes_across_process_lifetimes(tmp_path: Path, save: str) -> None:
    script = tmp_path / "agent.py"
    script.write_text(_LIFETIME)
    db = tmp_path / "router.db"
    seen = []
    for _ in range(3):
        out = subprocess.run([sys.executable, str(script), str(db), save], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        seen.append(tuple(int(v) for v in out.stdout.split()))
    assert seen == [(20, 20), (40, 40), (60, 60)]  # every lifetime resumes the ones before, exactly


@pytest.mark.parametrize("url", ["sqlite", "memory://"])
@pytest.mark.parametrize("form", ["sync", "async"])
def test_a_call_after_the_router_is_closed_fails_before_any_tool_runs(tmp_path: Path, form: str, url: str) -> None:
    url = f"sqlite:///{tmp_path / 'router.db'}" if url == "sqlite" else url
    tools = ToolMiddleware(store=url, seed=0)
    ran = []
    tools.register(lambda q: ran.append(q) or q, "x", tool_id="echo")
    assert tools.call("x", "before") == "before"
    tools.learner.close()
    with pytest.raises(ValueError, match=r"(router\.db|memory://)'?: closed"):
        tools.call("x", "after") if form == "sync" else asyncio.run(tools.acall("x", "after"))
    assert ran == ["before"]  # the tool's effects did not happen for a call whose attempt could not be kept
    router = tools.learner
    router.functions["echo"] = lambda request: ran.append(request.inputs)
    with pytest.raises(ValueError, match="closed"):
        router.execute(TaskProfile(task_id="t", required_capabilities=["x"]), "planned")
    assert ran == ["before"] and router.tool_statistics()["echo"].calls == 1  # what it learned is still read


def test_a_middleware_closes_the_router_it_built_and_leaves_one_given_to_it_open(tmp_path: Path) -> None:
    with ToolMiddleware(store=f"sqlite:///{tmp_path / 'own.db'}", seed=0) as tools:
        tools.register(lambda q: q, "x", tool_id="echo")
        assert tools.call("x", "inside") == "inside"
    with pytest.raises(ValueError, match="own.db'?: closed"):  # the store closed with the middleware
        tools.call("x", "after")
    given = ToolMetaLearner(store=f"sqlite:///{tmp_path / 'given.db'}", seed=0)
    with ToolMiddleware(given) as tools:
        tools.register(lambda q: q, "x", tool_id="echo")
    assert tools.call("x", "after") == "after"  # its owner's to close
    given.close()


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout: before 3.11 every async tool gets a task")
def test_an_inline_async_tool_is_awaited_in_the_calling_task_and_still_times_out() -> None:
    mw = _middleware()
    tasks: list[asyncio.Task | None] = []

    async def where() -> str:
        tasks.append(asyncio.current_task())
        return "here"

    async def hangs() -> str:
        await asyncio.sleep(30)
        return "late"

    async def fails() -> str:
        raise TimeoutError("the tool's own timeout")

    mw.register(where, "x", tool_id="inline", inline=True)
    mw.register(where, "y", tool_id="own task")
    mw.register(hangs, "slow", tool_id="hangs", inline=True, timeout_s=0.05)
    mw.register(fails, "fails", tool_id="fails", inline=True, timeout_s=5.0)

    async def calls() -> None:
        assert await mw.acall("x") == "here" and tasks[-1] is asyncio.current_task()
        assert await mw.acall("y") == "here" and tasks[-1] is not asyncio.current_task()
        started = time.monotonic()
        with pytest.raises(AllToolsFailedError, match="hangs: TimeoutError: 'hangs' took longer than 0.05 s"):
            await mw.acall("slow")
        assert time.monotonic() - started < 5
        with pytest.raises(AllToolsFailedError, match="fails: TimeoutError: the tool's own timeout"):
            await mw.acall("fails")

    asyncio.run(calls())
    stats = mw.learner.tool_statistics()
    assert (stats["hangs"].calls, stats["hangs"].successes, stats["inline"].successes) == (1, 0, 1)


@pytest.mark.parametrize("inline", [False, True])
def test_a_tool_that_raises_cancelled_itself_fails_but_a_cancelled_caller_is_cancelled(inline: bool) -> None:
    mw = _middleware()

    async def cancels_itself() -> str:
        raise asyncio.CancelledError()

    async def hangs() -> str:
        await asyncio.sleep(30)
        return "late"

    mw.register(cancels_itself, "x", tool_id="first", reliability=1.0, expected_latency_s=0.0, inline=inline)
    mw.register(lambda: "backup", "x", tool_id="backup", reliability=0.05, cost_per_use=5.0, expected_latency_s=5.0)
    mw.register(hangs, "slow", tool_id="hangs", inline=inline, timeout_s=30.0)

    async def calls() -> None:
        outcome = await mw.route("x").arun()  # the tool's own CancelledError is its failure
        assert outcome.value == "backup" and outcome.attempts[0].error == "CancelledError: the tool was cancelled"
        call = asyncio.ensure_future(mw.acall("slow"))
        await asyncio.sleep(0.05)
        call.cancel()  # the caller's cancellation goes through
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(calls())


def test_an_inline_tool_runs_in_the_calling_thread_in_both_call_forms() -> None:
    seen: list[int] = []
    mw = _middleware()
    mw.register(lambda: seen.append(threading.get_ident()) or "here", "x", tool_id="bound", inline=True)
    assert mw.call("x") == "here" and seen[-1] == threading.get_ident()

    async def from_the_loop() -> str:
        value = await mw.acall("x")
        assert seen[-1] == threading.get_ident()  # the event loop's thread, not a worker
        return value

    assert asyncio.run(from_the_loop()) == "here"
    mw.register(lambda: threading.get_ident(), "y", tool_id="pooled")
    assert mw.call("y") != threading.get_ident()  # by default a sync tool runs in a worker thread
    with pytest.raises(TypeError, match="inline"):
        mw.register(lambda: 1, "z", tool_id="bad", inline="yes")


class _Halt(BaseException):
    """A BaseException of a tool's own, like KeyboardInterrupt: not an error to fall back from."""


@pytest.mark.parametrize("exc", [KeyboardInterrupt("stop"), SystemExit("stop"), GeneratorExit("stop"), _Halt("stop")])
@pytest.mark.parametrize("kind", ["sync", "async"])
@pytest.mark.parametrize("inline", [False, True])
@pytest.mark.parametrize("form", ["sync", "async"])
def test_a_tools_own_base_exception_is_recorded_then_raised(exc: BaseException, kind: str, inline: bool, form: str) -> None:
    if kind == "sync":
        def first():
            raise exc
    else:
        async def first():
            raise exc

    mw = _middleware()
    _register_pair(mw, first, inline=inline)
    with pytest.raises(type(exc)):
        mw.call("x") if form == "sync" else asyncio.run(mw.acall("x"))
    interrupt = isinstance(exc, (KeyboardInterrupt, SystemExit))  # no outcome of the tool: not learned
    error = CANCELLED_BY_CALLER if interrupt else f"{type(exc).__name__}: stop"
    assert [(a.tool_id, a.success, a.error) for a in mw.learner.store.attempts()] == [("first", False, error)]
    assert mw.learner.tool_statistics()["first"].calls == (0 if interrupt else 1)


def test_a_callable_without_a_name_needs_a_tool_id() -> None:
    import functools

    mw = ToolMiddleware(seed=0)

    def add(a: int, b: int) -> int:
        return a + b

    with pytest.raises(ValueError, match=r"tool_id: functools.partial\(.*\) has no __name__ .*pass tool_id="):
        mw.register(functools.partial(add, 1), "add")
    assert mw.learner.tools == {}
    mw.register(functools.partial(add, 1), "add", tool_id="add_one")
    assert mw.call("add", 2) == 3


def test_a_generator_function_is_refused_as_a_tool() -> None:
    # calling one runs none of its body: the call would succeed with the generator object itself
    import functools

    def pages(query: str):
        yield query

    async def stream(query: str):
        yield query

    class Streamer:
        def __call__(self, query: str):
            yield query

    mw = ToolMiddleware(seed=0)
    for fn, tool_id in [(pages, None), (stream, None), (functools.partial(pages, "q"), "pages_q"), (Streamer(), "streamer")]:
        with pytest.raises(TypeError, match=r"fn: tool '\w+' is a generator function .*return its items"):
            mw.register(fn, "search", tool_id=tool_id)
    assert mw.learner.tools == {} and mw.tool_ids == []
    mw.register(lambda query: list(pages(query)), "search", tool_id="listed")
    assert mw.call("search", "q") == ["q"]
