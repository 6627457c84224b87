"""The constructors of the attempt loop's parts (circuit breakers, the thread runner) refuse bad
arguments at once, naming them, instead of failing in the middle of a later call."""

from __future__ import annotations

import math

import pytest

from toolrouter.attempts import CircuitBreaker, CircuitBreakers, CircuitState, ThreadRunner


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: CircuitBreaker(5), TypeError, r"tool_id: expected a string, got 5"),
        (lambda: CircuitBreaker("t", clock=5.0), TypeError, r"clock: expected a callable, got 5.0"),
        (lambda: CircuitBreaker("t", "closed"), TypeError, r"config: expected CircuitBreakerConfig\(\.\.\.\) or a mapping of its fields, got 'closed'"),
        (lambda: CircuitBreakers({"failure_threshold": 0}), ValueError, r"^config\.failure_threshold: Input should be greater than or equal to 1 \(got 0\)$"),
        (lambda: CircuitBreakers(None, clock="now"), TypeError, r"clock: expected a callable, got 'now'"),
    ],
)
def test_circuit_breakers_refuse_bad_arguments_naming_them(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_a_breaker_takes_its_config_as_a_mapping_of_its_fields() -> None:
    now = [0.0]
    breaker = CircuitBreaker("t", {"failure_threshold": 2, "reset_timeout_s": 1.0}, clock=lambda: now[0])
    breaker.record_failure()
    breaker.record_failure()  # failed here, in the middle of a call, with a plain dict
    assert breaker.state is CircuitState.OPEN and not breaker.allow()
    now[0] = 1.5
    assert breaker.allow() and breaker.state is CircuitState.HALF_OPEN
    assert CircuitBreakers({"failure_threshold": 1}).get("t").config.failure_threshold == 1


@pytest.mark.parametrize("idle_s", [-1.0, 0, math.nan, math.inf, "5", True, 1e12])
def test_a_thread_runner_refuses_an_idle_time_its_workers_cannot_wait_for(idle_s) -> None:
    # each worker stopped with a ValueError as it started, and every call timed out
    with pytest.raises(ValueError, match=r"idle_s: expected a finite number in \(0, "):
        ThreadRunner(idle_s=idle_s)


def test_a_thread_runner_with_a_short_idle_time_runs_calls() -> None:
    runner = ThreadRunner(idle_s=0.01)
    assert runner.call(lambda x: x + 1, (41,), {}, 5.0).value == 42


def test_an_attempt_group_refuses_a_learner_or_cue_of_the_wrong_kind() -> None:
    from toolrouter import ToolMiddleware
    from toolrouter.attempt_group import AttemptGroup

    with pytest.raises(TypeError, match=r"learner: expected a ToolMetaLearner, got 5"):
        AttemptGroup(5)  # type: ignore[arg-type]
    with ToolMiddleware(seed=0) as tools:
        # the first call queued into the group raised "'str' object is not callable", and its
        # attempt was recorded at the next commit all the same
        with pytest.raises(TypeError, match=r"on_pending: expected a callable or None, got 'commit soon'"):
            AttemptGroup(tools.learner, on_pending="commit soon")  # type: ignore[arg-type]
