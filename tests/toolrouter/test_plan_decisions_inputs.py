"""``plan_decisions`` checks what it is given: decisions as a generator were spent by their first
reading ("step 's' has no candidate tools"), a decision or weights of the wrong kind failed in
Python's words, and reward bounds upside down or NaN were taken without a word."""

from __future__ import annotations

import math

import pytest

from toolrouter.models import UtilityWeights
from toolrouter.plan import PlanStep, ToolChoice
from toolrouter.planner import plan_decisions

DECISION = PlanStep("search", "search", (ToolChoice("web", 1.0, 1.0, 0.9, 0.1, 0.1), ToolChoice("wiki", 0.5, 0.5, 0.8, 0.0, 0.1)))


def test_decisions_given_as_a_generator_are_planned() -> None:
    steps, plan = plan_decisions((d for d in [DECISION]), weights=UtilityWeights(), reward_bounds=(0.0, 1.0))
    assert [s.step for s in steps] == ["search"] and set(plan.tools()) == {"search"}


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda: plan_decisions([DECISION], weights=None), TypeError, r"^weights: expected UtilityWeights, got None$"),
    (lambda: plan_decisions(["search"], weights=UtilityWeights()), TypeError, r"^decisions\[0\]: expected a PlanStep, got 'search'$"),
    (lambda: plan_decisions(DECISION, weights=UtilityWeights()), TypeError, r"^decisions: expected a list of PlanStep, got PlanStep\("),
    (lambda: plan_decisions([DECISION], weights=UtilityWeights(), reward_bounds=(1.0, 0.0)), ValueError, r"^reward_bounds\[1\]: expected a finite number > 1.0, got 0.0$"),
    (lambda: plan_decisions([DECISION], weights=UtilityWeights(), reward_bounds=(0.0, math.nan)), ValueError, r"^reward_bounds\[1\]: expected a finite number > 0.0, got nan$"),
    (lambda: plan_decisions([DECISION], weights=UtilityWeights(), reward_bounds=(0.0,)), ValueError, r"^reward_bounds: expected \(low, high\), got \(0.0,\)$"),
])
def test_a_bad_argument_is_named(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()
