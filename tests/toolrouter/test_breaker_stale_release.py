"""A call let through a closed circuit, cancelled after the circuit opened and went half-open,
holds no probe's place: freeing one (its release) let a second probe through beside the one
already running, past ``half_open_max_calls``, to a tool that had just failed."""

from __future__ import annotations

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


def test_a_call_cancelled_after_the_circuit_opened_frees_no_probe_place() -> None:
    now = [0.0]
    breakers = CircuitBreakers(CircuitBreakerConfig(failure_threshold=1, reset_timeout_s=1.0), clock=lambda: now[0])

    def call(fn):  # type: ignore[no-untyped-def]
        spec = CallSpec(
            "s", ["t"], lambda tool, attempt: Binding(fn), lambda result: None,
            ExecutorConfig(timeout_s=None, retry=RetryPolicy(max_retries=0)), breakers=breakers,
        )
        return attempt_loop(spec)

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
