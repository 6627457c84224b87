"""Linear policies model each tool's reward with an intercept: what a tool earns on average is
learned from every request, and a tool starts from its profile's utility instead of zero."""

import math

import numpy as np
import pytest

from toolrouter import TaskProfile, ToolMetaLearner, ToolProfile
from toolrouter.policies import ArmPrior, make_policy, policy_from_state

LINEAR = ["linucb", "lin_ts"]


@pytest.mark.parametrize("name", LINEAR)
def test_what_a_tool_earns_is_known_on_a_request_never_seen(name: str) -> None:
    p = make_policy(name, context_dim=40, seed=0)
    p.add_arm("good"), p.add_arm("poor")
    eye = np.eye(40)
    for i in range(30):  # every request its own direction: nothing shared but the intercept
        p.update("good", 2.0, eye[i])
        p.update("poor", 1.0, eye[i])
    unseen = eye[35]
    good, poor = p.expected(["good", "poor"], unseen)
    # the intercept holds 15/16 of it (each request's own weight the rest, shrunk by the prior)
    assert good == pytest.approx(2.0 * 15 / 16) and poor == pytest.approx(15 / 16)


@pytest.mark.parametrize("name", [*LINEAR, "neural_linear"])
def test_a_scalar_prior_mean_is_the_expected_reward_at_every_context(name: str) -> None:
    p = make_policy(name, context_dim=6, seed=0)
    p.add_arm("a", ArmPrior(mean=1.7, variance=1.0))
    for x in np.random.default_rng(0).normal(size=(5, 6)):
        assert p.expected(["a"], x)[0] == pytest.approx(1.7)
    p.update("a", 1.0, np.ones(6))
    p.reset_arm("a", ArmPrior(mean=-0.5))
    assert p.expected(["a"], np.full(6, 0.3))[0] == pytest.approx(-0.5)


@pytest.mark.parametrize("policy", [*LINEAR, "neural_linear"])
def test_a_new_route_starts_each_tool_from_its_profile(policy: str) -> None:
    tools = [
        ToolProfile(tool_id="flaky", capabilities=["search"], reliability=0.3),
        ToolProfile(tool_id="solid", capabilities=["search"], reliability=0.95),
    ]
    router = ToolMetaLearner(tools, policy=policy, seed=0, context_dim=8)
    reference = ToolMetaLearner(tools, policy="gaussian_ts", seed=0)
    task = TaskProfile(task_id="t", required_capabilities=["search"], features=tuple(np.linspace(-1, 1, 8)))
    got = {c.tool_id: c.expected_utility for c in router.optimize_task_execution(task).step("search").candidates}
    want = {c.tool_id: c.expected_utility for c in reference.optimize_task_execution(task).step("search").candidates}
    assert got == pytest.approx(want)
    assert got["solid"] > got["flaky"] + 0.5


def _before_intercepts(name: str) -> tuple[dict, object]:
    """A state as linear policies saved it before they had an intercept, and the policy it came from."""
    old = make_policy(name, context_dim=3, seed=0, intercept=False)
    old.add_arm("a"), old.add_arm("b")
    rng = np.random.default_rng(1)
    for _ in range(20):
        old.update("a", 1.0, rng.normal(size=3))
    state = old.state_dict()
    del state["config"]["options"]["intercept"]
    return state, old


@pytest.mark.parametrize("name", LINEAR)
def test_a_state_saved_before_intercepts_loads_with_an_unlearned_intercept(name: str) -> None:
    state, old = _before_intercepts(name)
    new = make_policy(name, context_dim=3, seed=0, regularization=1.0)
    new.load_state_dict(state)
    x = np.array([0.3, -1.0, 2.0])
    assert new.expected(["a", "b"], x) == pytest.approx(old.expected(["a", "b"], x))
    assert new.stddev(["a", "b"], x) == pytest.approx(np.sqrt(old.stddev(["a", "b"], x) ** 2 + 1.0))
    assert policy_from_state(state).options["intercept"] is True
    exact = make_policy(name, context_dim=3, seed=0, intercept=False)
    exact.load_state_dict(state)  # without an intercept it loads as it was
    assert exact.stddev(["a"], x) == pytest.approx(old.stddev(["a"], x))
    new.update("a", 5.0, x)  # and goes on learning
    assert math.isfinite(new.expected(["a"], x)[0])


def test_the_intercept_option_is_checked() -> None:
    with pytest.raises(ValueError, match="intercept must be True or False, got 'yes'"):
        make_policy("linucb", context_dim=3, intercept="yes")
