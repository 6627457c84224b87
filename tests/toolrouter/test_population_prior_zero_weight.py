"""A reset arm restarts from what the route's other tools are worth, a tool whose prior is worth no
observations (``pseudo_count=0``) included: its estimate is that prior's mean, as ``expected`` says."""

from __future__ import annotations

import pytest

from toolrouter import ExecutionResult, ToolMetaLearner, ToolProfile
from toolrouter.policies import ArmPrior, make_policy

ZERO_WEIGHT = ["ucb1", "epsilon_greedy"]  # the families whose priors may be worth no observations


@pytest.mark.parametrize("name", ZERO_WEIGHT)
def test_population_prior_counts_the_arms_whose_prior_weighs_nothing(name: str) -> None:
    p = make_policy(name, seed=0)
    p.add_arm("a", ArmPrior(mean=0.9, pseudo_count=0.0))
    p.add_arm("b", ArmPrior(mean=0.7, pseudo_count=0.0))
    p.add_arm("c", ArmPrior(mean=0.5, pseudo_count=1.0))
    for _ in range(20):
        p.update("c", 0.0)
    # the others' estimates, not c's own (0.02, with no spread at all)
    assert p.population_prior(exclude="c").mean == pytest.approx(0.8)
    p.update("b", 0.1)  # b's outcome now counts, a's prior still does
    assert p.population_prior(exclude="c").mean == pytest.approx((0.9 + 0.1) / 2)


def test_beta_ts_population_prior_is_the_mean_of_the_other_arms_posterior_means() -> None:
    p = make_policy("beta_ts", seed=0)
    p.add_arm("a", ArmPrior(mean=0.9, pseudo_count=2.0))
    p.add_arm("b", ArmPrior(mean=0.9, pseudo_count=0.0))  # Beta(1, 1): worth 0.5
    p.add_arm("c")
    for reward in (1.0, 1.0, 0.0):
        p.update("a", reward)
    assert p.population_prior(exclude="c").mean == pytest.approx(float(p.expected(["a", "b"]).mean()))


@pytest.mark.parametrize("name", ZERO_WEIGHT)
def test_a_tool_reset_by_drift_detection_restarts_from_the_other_tools(name: str) -> None:
    means = {"a": 0.9, "b": 0.7, "c": 0.5}
    router = ToolMetaLearner(
        [ToolProfile(tool_id=t, capabilities=["search"]) for t in means], policy=name, seed=0,
        drift_detection="page_hinkley", prior_fn=lambda profile, *_: ArmPrior(mean=means[profile.tool_id], pseudo_count=0.0),
    )  # fmt: skip
    for i in range(200):  # c works, then breaks: only c is ever called
        ok = i < 40
        utility = router.record_attempt(
            ExecutionResult(tool_id="c", step="search", success=ok, quality=float(ok)), capability="search"
        )
        if router.tool_statistics()["c"].resets:
            break
    else:
        pytest.fail("the break was not detected")
    policy = router.policy_for("default", "search")
    n0 = policy.population_pseudo_count
    # restarted at a and b's mean worth n0 observations, then the outcome that showed the change
    assert policy.expected(["c"])[0] == pytest.approx((n0 * 0.8 + utility) / (n0 + 1))
