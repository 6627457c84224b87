"""A call let through a closed circuit that ends after the circuit opened and went half-open is no
probe, and only the probe's own outcome decides: cancelled, freeing a probe's place (its release) let
a second probe through beside the one already running, past ``half_open_max_calls``, to a tool that
had just failed; failing, it reopened the circuit as if the probe had failed, and the probe's success
then closed it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from toolrouter.attempts import (
    Binding,
    CallSpec,
    CircuitBreakerConfig,
    CircuitBreakers,
    ExecutorConfig,
    RetryPolicy,
    _Raw,
    attempt_loop,
    run_sync,
)


def down() -> str:
    raise ConnectionError("down")


def breakers_and_caller() -> tuple[list[float], CircuitBreakers, Callable]:
    """The clock, the breakers (a circuit opens at one failure, half-opens a second later) and a
    call of tool ``t`` through them, as an attempt loop stepped by the test."""
    now = [0.0]
    breakers = CircuitBreakers(CircuitBreakerConfig(failure_threshold=1, reset_timeout_s=1.0), clock=lambda: now[0])

    def call(fn):  # type: ignore[no-untyped-def]
        spec = CallSpec(
            "s", ["t"], lambda tool, attempt: Binding(fn), lambda result: None,
            ExecutorConfig(timeout_s=None, retry=RetryPolicy(max_retries=0)), breakers=breakers,
        )
        return attempt_loop(spec)

    return now, breakers, call


def test_a_call_cancelled_after_the_circuit_opened_frees_no_probe_place() -> None:
    now, breakers, call = breakers_and_caller()
    slow = call(lambda: "late")
    next(slow)  # let through the closed circuit: its tool runs
    assert not run_sync(call(down)).succeeded  # another call's failure opens the circuit
    now[0] = 1.5  # half-open: one probe at a time
    probe = call(lambda: "ok")
    next(probe)  # the probe's tool runs
    with pytest.raises(KeyboardInterrupt):
        slow.throw(KeyboardInterrupt())  # the first call is cut: no verdict
    report = run_sync(call(lambda: "ok"))  # the probe still runs: no place for another
    assert report.skipped == [("t", "circuit open")] and not report.attempts
    with pytest.raises(StopIteration):
        probe.send(_Raw("ok"))  # the probe's tool returns: the circuit closes
    assert breakers.get("t").state.value == "closed"


def test_a_failure_let_through_before_the_circuit_opened_does_not_reopen_it() -> None:
    now, breakers, call = breakers_and_caller()
    slow = call(down)
    next(slow)  # let through the closed circuit: its tool runs
    assert not run_sync(call(down)).succeeded  # another call's failure opens the circuit
    now[0] = 1.5  # half-open
    probe = call(lambda: "ok")
    next(probe)  # the probe's tool runs
    with pytest.raises(StopIteration):
        slow.send(_Raw(exc=ConnectionError("down")))  # the first call's tool fails: no probe's outcome
    assert breakers.get("t").state.value == "half_open"
    with pytest.raises(StopIteration):
        probe.send(_Raw("ok"))  # the probe's tool returns: the circuit closes
    assert breakers.get("t").state.value == "closed"


def test_a_failed_probe_reopens_the_circuit() -> None:
    now, breakers, call = breakers_and_caller()
    assert not run_sync(call(down)).succeeded
    now[0] = 1.5
    assert not run_sync(call(down)).attempts[0].success  # the probe fails
    assert breakers.get("t").state.value == "open"
