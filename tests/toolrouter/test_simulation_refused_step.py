"""A simulated call refused for its step leaves the environment as it was: it drew the outcome and
advanced the call counter before the result refused the step, so every later outcome shifted and a
drift came one call early."""

from __future__ import annotations

import pydantic
import pytest

from toolrouter.simulation import SyntheticEnvironment


@pytest.mark.parametrize("step", ["", "  ", 5, None])
def test_a_call_with_a_bad_step_is_named_and_changes_nothing(step) -> None:
    env = SyntheticEnvironment.make(n_tools=2, capabilities=("search",), seed=0)
    untouched = SyntheticEnvironment.make(n_tools=2, capabilities=("search",), seed=0)
    with pytest.raises(pydantic.ValidationError, match="step"):
        env.call("search_0", step=step)
    assert env.calls == 0
    draws = [[(r.success, r.quality, r.latency_s) for r in (e.call("search_0") for _ in range(5))] for e in (env, untouched)]
    assert draws[0] == draws[1]
