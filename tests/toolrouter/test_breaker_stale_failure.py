"""A call let through a closed circuit that fails after the circuit opened and went half-open is
no probe: its failure reopened the circuit as if the probe had failed, and the probe's success
then closed it; only the probe's own outcome decides."""

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


def test_a_failure_let_through_before_the_circuit_opened_does_not_reopen_it() -> None:
    now = [0.0]
    breakers = CircuitBreakers(CircuitBreakerConfig(failure_threshold=1, reset_timeout_s=1.0), clock=lambda: now[0])

    def call(fn):  # type: ignore[no-untyped-def]
        spec = CallSpec(
            "s", ["t"], lambda tool, attempt: Binding(fn), lambda result: None,
            ExecutorConfig(timeout_s=None, retry=RetryPolicy(max_retries=0)), breakers=breakers,
        )
        return attempt_loop(spec)

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
    now = [0.0]
    breakers = CircuitBreakers(CircuitBreakerConfig(failure_threshold=1, reset_timeout_s=1.0), clock=lambda: now[0])
    spec = CallSpec(
        "s", ["t"], lambda tool, attempt: Binding(down), lambda result: None,
        ExecutorConfig(timeout_s=None, retry=RetryPolicy(max_retries=0)), breakers=breakers,
    )
    assert not run_sync(attempt_loop(spec)).succeeded
    now[0] = 1.5
    assert not run_sync(attempt_loop(spec)).attempts[0].success  # the probe fails
    assert breakers.get("t").state.value == "open"
