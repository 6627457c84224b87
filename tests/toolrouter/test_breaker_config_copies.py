"""A ``CircuitBreakerConfig`` made with ``model_copy(update=...)`` holds the update unchecked, and
``CircuitBreaker`` and ``CircuitBreakers`` took one as it was: ``half_open_max_calls=0`` let no
probe through once the circuit opened, so the tool was out for good. It is now checked as one
given as a mapping, naming the field."""

from __future__ import annotations

import pytest

from toolrouter.attempts import CircuitBreakers
from toolrouter.executor import CircuitBreaker, CircuitBreakerConfig


@pytest.mark.parametrize("update, field", [
    ({"half_open_max_calls": 0}, "half_open_max_calls"),
    ({"failure_threshold": 0}, "failure_threshold"),
    ({"reset_timeout_s": -1.0}, "reset_timeout_s"),
])
@pytest.mark.parametrize("make", [lambda c: CircuitBreaker("t", c), CircuitBreakers])
def test_a_copy_with_a_bad_update_is_refused_naming_the_field(make, update: dict, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^config\.{field}: "):
        make(CircuitBreakerConfig().model_copy(update=update))


def test_a_sound_copy_opens_and_probes_by_it() -> None:
    now = [0.0]
    cb = CircuitBreaker("t", CircuitBreakerConfig().model_copy(update={"failure_threshold": 1}), clock=lambda: now[0])
    cb.record_failure()
    assert not cb.allow()
    now[0] = 10.0
    assert cb.allow() and cb.state.value == "half_open"
